#!/bin/sh
# run.sh PROGRAM INPUT -- runs one example test and compares its output
# (stdout and stderr together) with INPUT's .out file.
#   *.scm      wscheme scripts: `wscheme FILE`, or the REPL on stdin when
#              the name starts with repl_; a first-lines comment
#              ";; args: ..." gives extra command-line arguments.
#   otherwise  the program reads INPUT on stdin.
# A non-zero exit status is appended to the output, so it is compared too.
# WGC_TEST_WRAPPER, if set, is a command the program runs under (the test
# command's valgrind step sets scripts/valgrind-wrap).
set -u
wrap=${WGC_TEST_WRAPPER:-}
prog=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
input=$2
dir=$(dirname "$input")
name=$(basename "$input")
expected=$dir/${name%.*}.out
actual=$(mktemp)
trap 'rm -f "$actual"' EXIT

cd "$dir" || exit 2
case $name in
  repl_*.scm)
    args=$(sed -n '1,5s/^;; args: //p' "$name")
    # shellcheck disable=SC2086
    $wrap "$prog" $args < "$name" > "$actual" 2>&1 ;;
  *.scm)
    args=$(sed -n '1,5s/^;; args: //p' "$name")
    # shellcheck disable=SC2086
    $wrap "$prog" $args "$name" > "$actual" 2>&1 ;;
  *)
    $wrap "$prog" < "$name" > "$actual" 2>&1 ;;
esac
status=$?
[ $status -ne 0 ] && echo "[exit status $status]" >> "$actual"

if diff -u "$expected" "$actual"; then
  exit 0
fi
echo "FAIL: $input: output differs from $(basename "$expected") (- expected, + actual)"
exit 1
