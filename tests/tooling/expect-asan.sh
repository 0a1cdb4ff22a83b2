#!/bin/sh
# tests/tooling/expect-asan.sh PROGRAM -- a negative test of the ASan
# poisoning: PROGRAM (built with -fsanitize=address) reads a collected
# object; this passes only if ASan aborts it with a use-after-poison report.
prog=$1
out=$(mktemp "${TMPDIR:-/tmp}/wgc-expect-asan.XXXXXX")
trap 'rm -f "$out"' EXIT
ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:halt_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
    "$prog" >"$out" 2>&1
status=$?
echo "program exit status $status"
if [ "$status" -ne 0 ] && grep -q 'ERROR: AddressSanitizer: use-after-poison' "$out"; then
    echo "PASS: ASan reported use-after-poison"
    grep -m 2 -E 'use-after-poison|READ of size' "$out"
    exit 0
fi
echo "FAIL: ASan did NOT report use-after-poison; the program's output:"
cat "$out"
exit 1
