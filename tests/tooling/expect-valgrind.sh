#!/bin/sh
# tests/tooling/expect-valgrind.sh KIND PROGRAM -- a negative test of the
# memcheck annotations: runs PROGRAM under memcheck and passes only if
# memcheck reports the error KIND planted in it:
#   invalid-read  an "Invalid read" and a non-zero ERROR SUMMARY
#   leak          "definitely lost" bytes and a non-zero ERROR SUMMARY
kind=$1
prog=$2
log=$(mktemp "${TMPDIR:-/tmp}/wgc-expect-vg.XXXXXX")
trap 'rm -f "$log"' EXIT
valgrind --tool=memcheck --trace-children=yes --leak-check=full \
    --errors-for-leak-kinds=definite --log-file="$log" "$prog"
status=$?
errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9][0-9]*\) errors.*/\1/p' "$log" | head -n 1)
echo "program exit status $status, valgrind ERROR SUMMARY: ${errors:-none}"
case $kind in
invalid-read) pattern='Invalid read of size' ;;
leak) pattern='definitely lost: [1-9][0-9,]* bytes' ;;
*) echo "unknown kind $kind"; exit 2 ;;
esac
if [ "${errors:-0}" -gt 0 ] && grep -q "$pattern" "$log"; then
    echo "PASS: memcheck reported the planted error ($kind)"
    grep -m 3 -E "$pattern|ERROR SUMMARY" "$log"
    exit 0
fi
echo "FAIL: memcheck did NOT report the planted error ($kind); its log:"
cat "$log"
exit 1
