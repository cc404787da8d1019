#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/run-tests.sh BUILD TEST...: run each test binary (cmocka) or check
# script (*.sh, run with sh, reporting in cmocka's format), show its output,
# and end with one "N passed, N failed" line counting their individual tests.
# Exits non-zero if any test failed or any binary crashed.
set -u

build="$1"
shift
passed=0
failed=0
broken=""

for test in "$@"; do
	name=$(basename "$test")
	case "$test" in
	*.sh) output=$(XVP_BUILD="$build" sh "$test" 2>&1) ;;
	*) output=$(XVP_BUILD="$build" "$test" 2>&1) ;;
	esac
	status=$?
	printf '%s\n' "$output"
	ok=$(printf '%s\n' "$output" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' | tail -n 1)
	bad=$(printf '%s\n' "$output" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:/\1/p' | tail -n 1)
	passed=$((passed + ${ok:-0}))
	failed=$((failed + ${bad:-0}))
	if [ "$status" -ne 0 ] && [ -z "$bad" ]; then
		# Crashed or exited before cmocka's summary: count it as one failure.
		failed=$((failed + 1))
		broken="$broken $name"
	fi
done

[ -n "$broken" ] && echo "crashed or incomplete:$broken"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
