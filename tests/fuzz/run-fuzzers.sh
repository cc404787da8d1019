#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/fuzz/run-fuzzers.sh DIR SECONDS TARGET...: run each libFuzzer
# binary DIR/TARGET for SECONDS, starting from the seeds and reproducers in
# tests/fuzz/corpus/TARGET and keeping what it finds in DIR/corpus/TARGET
# (so the next run goes on from there). A crash, a sanitizer report, a
# broken invariant or a unit slower than 10 s fails, naming the reproducer
# libFuzzer left under DIR/artifacts/TARGET/. `make fuzz` runs it.
set -u

dir=$1
seconds=$2
shift 2
failed=""

for target in "$@"; do
	corpus="$dir/corpus/$target"
	artifacts="$dir/artifacts/$target"
	log="$dir/$target.log"
	mkdir -p "$corpus" "$artifacts"
	echo "fuzz: $target for $seconds s (log: $log)"
	if "$dir/$target" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$artifacts/" "$corpus" "tests/fuzz/corpus/$target" >"$log" 2>&1; then
		done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)
		rate=$(sed -n 's/^stat::average_exec_per_sec:[[:space:]]*//p' "$log")
		echo "fuzz: $target: $done_line (average $rate exec/s)"
	else
		echo "fuzz: $target FAILED; the end of its log:"
		tail -n 40 "$log"
		failed="$failed $target"
	fi
done

if [ -n "$failed" ]; then
	echo "fuzz: failed:$failed (reproducers under $dir/artifacts/)"
	exit 1
fi
