# SPDX-License-Identifier: MIT
#
# tests/report.sh: sourced by the sh test scripts (tests/*/check-*.sh). Each
# check is reported in cmocka's format, the lines tests/run-tests.sh counts:
#   report_check NAME COMMAND...   run one check; COMMAND returns 0 (passed),
#                                  77 (skipped, having said why) or anything
#                                  else (failed, having said why)
#   report_summary                 the totals; exits 1 if a check failed, else 0
report_count=0
report_passed=0
report_failed=""
report_skipped=""

report_check() {
	report_name=$1
	shift
	report_count=$((report_count + 1))
	echo "[ RUN      ] $report_name"
	"$@"
	report_status=$?
	if [ "$report_status" -eq 0 ]; then
		echo "[       OK ] $report_name"
		report_passed=$((report_passed + 1))
		return 0
	fi
	if [ "$report_status" -eq 77 ]; then
		echo "[  SKIPPED ] $report_name"
		report_skipped="$report_skipped $report_name"
	else
		echo "[  FAILED  ] $report_name"
		report_failed="$report_failed $report_name"
	fi
	return 1
}

# report_list TAG NAMES: "TAG N test(s), listed below:" and "TAG NAME" each.
report_list() {
	report_tag=$1
	shift
	[ $# -gt 0 ] || return 0
	echo "$report_tag $# test(s), listed below:"
	for report_name in "$@"; do
		echo "$report_tag $report_name"
	done
}

report_summary() {
	echo "[==========] $report_count test(s) run."
	echo "[  PASSED  ] $report_passed test(s)."
	# shellcheck disable=SC2086 # lists of names
	report_list "[  SKIPPED ]" $report_skipped
	# shellcheck disable=SC2086
	report_list "[  FAILED  ]" $report_failed
	[ -z "$report_failed" ] || exit 1
	exit 0
}
