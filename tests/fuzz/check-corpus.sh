#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/fuzz/check-corpus.sh: replay each fuzz target's corpus
# (tests/fuzz/corpus/TARGET: the hand-made seeds, and the reproducers of
# crashes found and fixed since) through the target built with gcc and
# ASan+UBSan against tests/fuzz/run_corpus.c, without libFuzzer or clang.
# One test per target; a broken invariant or sanitizer report fails it.
# tests/fuzz/crashes/ holds reproducers of bugs not fixed yet and is not
# replayed. Reports like cmocka, so tests/run-tests.sh counts its tests.
#
# Usage: XVP_BUILD=build sh tests/fuzz/check-corpus.sh
set -u

build="${XVP_BUILD:-build}"
here=$(dirname "$0")

replay() {
	binary="$build/fuzz-regress/$1"
	corpus="$here/corpus/$1"
	[ -x "$binary" ] || { echo "$binary is not built (make $binary)"; return 1; }
	[ -d "$corpus" ] || { echo "no corpus $corpus"; return 1; }
	output=$("$binary" "$corpus" 2>&1) || { printf '%s\n' "$output" | tail -n 40; return 1; }
	printf '%s\n' "$output" | tail -n 1
}

# shellcheck source=tests/report.sh
. "$(dirname "$0")/../report.sh"

echo "[==========] Replaying the fuzz corpora through $build/fuzz-regress/."
for source in "$here"/fuzz_*.c; do
	target=$(basename "$source" .c)
	report_check "${target}_corpus" replay "$target"
done

report_summary
