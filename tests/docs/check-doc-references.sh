#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/docs/check-doc-references.sh: the documentation (every *.md of the
# tree outside build/) names only documents that exist: no DESIGN.md or
# ../shared, which are not part of the tree, and every docs/NAME.md it names
# is there. Reports like cmocka, so tests/run-tests.sh counts its tests.
#
# Usage: sh tests/docs/check-doc-references.sh
# shellcheck disable=SC2317 # the checks are called through run()
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)

# shellcheck source=tests/report.sh
. "$(dirname "$0")/../report.sh"

# The tree's documents, relative to it.
documents() {
	(cd "$here" && find . -path ./build -prune -o -path ./.git -prune -o -name '*.md' -type f -print) |
		sed 's|^\./||' | sort
}

no_document_names_files_outside_the_tree() {
	found=$(cd "$here" && documents | xargs grep -n -e 'DESIGN\.md' -e '\.\./shared' 2>/dev/null)
	[ -z "$found" ] && return 0
	echo "documents naming files that are not in the tree:"
	echo "$found"
	return 1
}

named_guides_exist() {
	missing=""
	for named in $(cd "$here" && documents | xargs grep -oh 'docs/[A-Za-z0-9_-]*\.md' | sort -u); do
		[ -f "$here/$named" ] || missing="$missing $named"
	done
	[ -z "$missing" ] || { echo "named but missing:$missing"; return 1; }
}

report_check no_document_names_files_outside_the_tree no_document_names_files_outside_the_tree
report_check named_guides_exist named_guides_exist
report_summary
