#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/install/check-install.sh: `make install` and `make install-guest` as
# a Debian packager runs them (PREFIX=/usr SYSTEMDUNITDIR=/lib/systemd/system)
# and with the defaults (PREFIX=/usr/local), each into a DESTDIR of its own,
# then lintian-style checks of what they installed:
#   - exactly the expected files, 0755 for programs and scripts, 0644 for
#     the rest; the paths written into units, init scripts and man pages are
#     the installed ones; an administrator's virtio-pci.cfg survives install
#     and uninstall; uninstall removes everything else;
#   - the units pass `systemd-analyze verify`, the man pages format without
#     a warning (groff -ww, man --warnings) and have a whatis entry
#     (lexgrog), document every option --help lists and carry the
#     program's version; the init scripts pass `sh -n` and shellcheck; the
#     example configuration passes `xen-virtio-pcid --check`;
#   - the dom0 init script, run against a stand-in daemon: start, status,
#     reload, stop, with and without start-stop-daemon and logger.
# A check whose tool is missing is reported SKIPPED with the Debian package
# to install; only PASSED and FAILED are counted. Reports like cmocka, so
# tests/run-tests.sh counts its tests. Builds nothing the build has not.
#
# Usage: XVP_BUILD=build sh tests/install/check-install.sh
# shellcheck disable=SC2317 # the checks are called through run()
set -u

# The stand-in daemon below traps SIGHUP, but POSIX sh cannot trap a signal
# that was ignored when it started: under a caller that ignores SIGHUP
# (nohup, some CI runners) its reload check would fail for that reason alone.
# Start over with the default action for the signals the init script sends.
if [ -z "${XVP_SIGNALS_DEFAULT:-}" ] && env --default-signal=HUP true 2>/dev/null; then
	XVP_SIGNALS_DEFAULT=1 exec env --default-signal=HUP,INT,TERM sh "$0" "$@"
fi

here=$(cd "$(dirname "$0")/../.." && pwd)
build=${XVP_BUILD:-build}
work=$(mktemp -d)
pids=""
cleanup() {
	for started in $pids; do
		kill -s KILL "$started" 2>/dev/null
	done
	# Whatever the init-script checks started and did not stop.
	for pidfile in "$work"/init/run/*.pid; do
		[ -r "$pidfile" ] || continue
		kill -s KILL -- "-$(cat "$pidfile")" 2>/dev/null || kill -s KILL "$(cat "$pidfile")" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=tests/report.sh
. "$(dirname "$0")/../report.sh"

# run NAME COMMAND...: one check; COMMAND returns 0 (passed), 77 (skipped,
# having said why) or anything else (failed, having said why).
run() {
	report_check "$@"
}

# need COMMAND PACKAGE: 0 if COMMAND is there, else say so and return 77.
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "$1 is not installed (Debian package $2): skipped"
	return 77
}

# ---- the two layouts

# layout NAME: set the directories of layout NAME, and $dest, its DESTDIR.
layout() {
	dest=$work/$1
	case $1 in
	debian)
		prefix=/usr
		unitdir=/lib/systemd/system
		;;
	default)
		prefix=/usr/local
		unitdir=/usr/local/lib/systemd/system
		;;
	esac
	sbindir=$prefix/sbin
	mandir=$prefix/share/man
	docdir=$prefix/share/doc/xen-virtio-pci
	datadir=$prefix/share/xen-virtio-pci
	sysconfdir=/etc
}

# make_in LAYOUT TARGET...: make TARGET... with that layout's variables.
make_in() {
	layout "$1"
	shift
	if [ "$prefix" = /usr ]; then
		set -- PREFIX=/usr SYSTEMDUNITDIR=/lib/systemd/system "$@"
	fi
	make -s --no-print-directory -C "$here" BUILD="$build" DESTDIR="$dest" "$@" \
		>"$work/make.log" 2>&1 || { echo "make $* failed:"; cat "$work/make.log"; return 1; }
}

# expected: "MODE PATH" of every file the two targets install, by path.
expected() {
	{
		echo "755 $sbindir/xen-virtio-pcid"
		echo "644 $unitdir/xen-virtio-pcid.service"
		echo "755 $sysconfdir/init.d/xen-virtio-pcid"
		echo "644 $sysconfdir/xen/virtio-pci.cfg.example"
		echo "644 $mandir/man8/xen-virtio-pcid.8"
		echo "644 $datadir/pcie-default.dtb"
		for doc in README.md "$here"/docs/*.md; do
			echo "644 $docdir/${doc##*/}"
		done
		echo "755 $sbindir/xen-virtio-pci-rescan"
		echo "755 $sbindir/xen-virtio-pci-rescan.sh"
		echo "644 $unitdir/xen-virtio-pci-rescan.service"
		echo "755 $sysconfdir/init.d/S40xen-virtio-pci-rescan"
		echo "644 $mandir/man8/xen-virtio-pci-rescan.8"
	} | sort -k 2
}

# installed: "MODE PATH" of every file (and anything else not a directory)
# under $dest, but the administrator's configuration.
installed() {
	(cd "$dest" && find . ! -type d ! -path ./etc/xen/virtio-pci.cfg) |
		sed 's|^\.||' | while read -r path; do
			echo "$(stat -c %a "$dest$path") $path"
		done | sort -k 2
}

ADMIN_CONFIG='# written by the administrator
[domain "mine"]
device = [ "rng" ]'

# install_layout LAYOUT: both targets; an administrator's configuration
# is there beforehand and must be left as it was.
install_layout() {
	layout "$1"
	mkdir -p "$dest/etc/xen"
	printf '%s\n' "$ADMIN_CONFIG" >"$dest/etc/xen/virtio-pci.cfg"
	make_in "$1" install install-guest || return 1
	make_in "$1" install install-guest || { echo "(installing a second time)"; return 1; }
	admin_config_is_intact
}

admin_config_is_intact() {
	[ "$(cat "$dest/etc/xen/virtio-pci.cfg" 2>/dev/null)" = "$ADMIN_CONFIG" ] ||
		{ echo "the administrator's $sysconfdir/xen/virtio-pci.cfg was changed"; return 1; }
}

files_and_modes() {
	layout "$1"
	expected >"$work/expected"
	installed >"$work/installed"
	cmp -s "$work/expected" "$work/installed" && return 0
	echo "expected (-) and installed (+), mode and path:"
	diff -u "$work/expected" "$work/installed" | sed -n '/^[-+][0-9]/p'
	return 1
}

# has_line FILE LINE: FILE has exactly LINE.
has_line() {
	grep -qxF "$2" "$dest$1" || { echo "$1 lacks the line: $2"; grep -n "${2%%=*}" "$dest$1"; return 1; }
}

# The paths written into the installed files are the layout's.
paths_are_the_installed_ones() {
	layout "$1"
	config=$sysconfdir/xen/virtio-pci.cfg
	unit=$unitdir/xen-virtio-pcid.service
	has_line "$unit" "ExecStart=$sbindir/xen-virtio-pcid --config $config" &&
		has_line "$unit" "ExecStartPre=$sbindir/xen-virtio-pcid --check --config $config" &&
		has_line "$unit" "ExecReload=$sbindir/xen-virtio-pcid --check --config $config" &&
		has_line "$unit" "ConditionPathExists=$config" &&
		has_line "$unitdir/xen-virtio-pci-rescan.service" "ExecStart=$sbindir/xen-virtio-pci-rescan" &&
		has_line "$sysconfdir/init.d/xen-virtio-pcid" "DAEMON=$sbindir/xen-virtio-pcid" &&
		has_line "$sysconfdir/init.d/xen-virtio-pcid" "CONFIG=$config" &&
		has_line "$sysconfdir/init.d/S40xen-virtio-pci-rescan" "HELPER=$sbindir/xen-virtio-pci-rescan" &&
		has_line "$mandir/man8/xen-virtio-pcid.8" ".ds sysconfdir $sysconfdir" &&
		has_line "$mandir/man8/xen-virtio-pcid.8" ".ds systemdunitdir $unitdir" &&
		has_line "$mandir/man8/xen-virtio-pcid.8" ".ds docdir $docdir" &&
		has_line "$mandir/man8/xen-virtio-pci-rescan.8" ".ds sbindir $sbindir" || return 1
	[ "$sbindir" = /usr/sbin ] && return 0
	# Elsewhere than /usr/sbin, no installed unit, script or page names it.
	left=$(grep -rlF /usr/sbin/xen-virtio-pci "$dest$unitdir" "$dest$sysconfdir/init.d" \
		"$dest$mandir" "$dest$sbindir")
	[ -z "$left" ] || { echo "still naming /usr/sbin/xen-virtio-pci*:"; echo "$left"; return 1; }
}

uninstall_removes_everything() {
	make_in "$1" uninstall uninstall-guest || return 1
	left=$(installed)
	[ -z "$left" ] || { echo "left after uninstall:"; echo "$left"; return 1; }
	admin_config_is_intact
}

# ---- lintian-style checks on the Debian layout's tree

# says_version NAME COMMAND...: COMMAND --version prints "NAME VERSION", the Makefile's.
says_version() {
	name=$1
	shift
	version=$("$@" --version) || { echo "$* --version failed"; return 1; }
	[ "$version" = "$name $(sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*//p' "$here/Makefile")" ] ||
		{ echo "$* --version says '$version'"; return 1; }
}

installed_programs_run() {
	layout debian
	says_version xen-virtio-pcid "$dest$sbindir/xen-virtio-pcid" &&
		says_version xen-virtio-pci-rescan "$dest$sbindir/xen-virtio-pci-rescan" &&
		says_version xen-virtio-pci-rescan sh "$dest$sbindir/xen-virtio-pci-rescan.sh" &&
		"$dest$sbindir/xen-virtio-pci-rescan" --help >/dev/null &&
		sh "$dest$sbindir/xen-virtio-pci-rescan.sh" --help >/dev/null
}

# The installed fragment is the one the installed daemon writes for the
# default layout (docs/xl.md: one file for every guest on that layout).
installed_fragment_is_the_default_layouts() {
	layout debian
	"$dest$sbindir/xen-virtio-pcid" fdt --for xl -o "$work/default.dtb" --xl /dev/null &&
		cmp "$work/default.dtb" "$dest$datadir/pcie-default.dtb"
}

# Every docs/NAME.md that an installed document names is installed beside it
# (the README and the guides point at each other).
installed_docs_name_installed_docs() {
	layout debian
	missing=""
	# shellcheck disable=SC2013 # the names have no spaces
	for named in $(grep -oh 'docs/[A-Za-z0-9_-]*\.md' "$dest$docdir"/*.md | sort -u); do
		[ -f "$dest$docdir/${named#docs/}" ] || missing="$missing $named"
	done
	[ -z "$missing" ] || { echo "named but not installed in $docdir:$missing"; return 1; }
}

# The rescan page's SYNOPSIS names every option of the helper's --help
# synopsis (its Usage lines), for both versions.
rescan_synopsis_names_every_option() {
	layout debian
	sed -n '/^\.SH SYNOPSIS/,/^\.SH DESCRIPTION/p' "$dest$mandir/man8/xen-virtio-pci-rescan.8" |
		sed 's/\\-/-/g' >"$work/synopsis.txt"
	for helper in "$dest$sbindir/xen-virtio-pci-rescan" "sh $dest$sbindir/xen-virtio-pci-rescan.sh"; do
		# shellcheck disable=SC2086 # "sh FILE" is two words
		usage=$($helper --help | sed -n '1,/^In a Xen guest/p')
		for option in $(printf '%s\n' "$usage" | options_of); do
			grep -q -- "$option\([^a-z0-9-]\|\$\)" "$work/synopsis.txt" ||
				{ echo "the man page's SYNOPSIS lacks $option"; return 1; }
		done
		for option in --no-watch --version; do
			printf '%s\n' "$usage" | grep -q -- "$option" ||
				{ echo "$helper --help: its synopsis lacks $option"; return 1; }
		done
	done
}

# systemd-analyze verify runs the ExecStart= programs and man for
# Documentation=: copies of the units name the programs under DESTDIR, and
# MANPATH the installed man pages.
units_pass_systemd_analyze_verify() {
	need systemd-analyze systemd || return 77
	layout debian
	mkdir -p "$work/units"
	for unit in xen-virtio-pcid.service xen-virtio-pci-rescan.service; do
		sed "s|=$sbindir/|=$dest$sbindir/|" "$dest$unitdir/$unit" >"$work/units/$unit"
	done
	report=$(MANPATH=$dest$mandir systemd-analyze verify "$work/units/xen-virtio-pcid.service" \
		"$work/units/xen-virtio-pci-rescan.service" 2>&1)
	status=$?
	[ "$status" -eq 0 ] && [ -z "$report" ] && return 0
	echo "systemd-analyze verify (exit status $status) said:"
	printf '%s\n' "$report"
	return 1
}

PAGES="xen-virtio-pcid.8 xen-virtio-pci-rescan.8"

man_pages_pass_groff_ww() {
	need groff groff-base || return 77
	layout debian
	for page in $PAGES; do
		report=$(groff -man -ww -z "$dest$mandir/man8/$page" 2>&1)
		[ -z "$report" ] || { echo "groff -man -ww on $page:"; printf '%s\n' "$report"; return 1; }
	done
}

man_pages_pass_man_warnings() {
	need man man-db || return 77
	layout debian
	for page in $PAGES; do
		report=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$dest$mandir/man8/$page" 2>&1 >/dev/null)
		[ -z "$report" ] || { echo "man --warnings on $page:"; printf '%s\n' "$report"; return 1; }
	done
}

# The NAME section as mandb and whatis(1) read it.
man_pages_have_whatis_entries() {
	need lexgrog man-db || return 77
	layout debian
	for page in $PAGES; do
		entry=$(lexgrog "$dest$mandir/man8/$page" 2>&1)
		case $entry in
		*": \"${page%.8} - "*) ;;
		*) echo "lexgrog: $entry"; return 1 ;;
		esac
	done
}

# options_of: the long options in the text on stdin.
options_of() {
	grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u
}

# documents PAGE: every long option on stdin appears in PAGE.
documents() {
	sed 's/\\-/-/g' "$dest$mandir/man8/$1" >"$work/page.txt"
	missing=""
	for option in $(options_of); do
		grep -q -- "$option\([^a-z0-9-]\|\$\)" "$work/page.txt" || missing="$missing $option"
	done
	[ -z "$missing" ] || { echo "$1 does not document:$missing"; return 1; }
}

man_pages_document_every_option() {
	layout debian
	{ "$dest$sbindir/xen-virtio-pcid" --help && "$dest$sbindir/xen-virtio-pcid" fdt --help; } |
		documents xen-virtio-pcid.8 || return 1
	{ "$dest$sbindir/xen-virtio-pci-rescan" --help && sh "$dest$sbindir/xen-virtio-pci-rescan.sh" --help; } |
		documents xen-virtio-pci-rescan.8
}

man_pages_carry_the_version() {
	layout debian
	version=$(sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*//p' "$here/Makefile")
	for page in $PAGES; do
		grep -q "^\.TH .* \"xen\\\\-virtio\\\\-pci $version\" " "$dest$mandir/man8/$page" ||
			{ echo "$page: .TH does not say version $version:"; grep '^\.TH' "$dest$mandir/man8/$page"; return 1; }
	done
}

SCRIPTS="/etc/init.d/xen-virtio-pcid /etc/init.d/S40xen-virtio-pci-rescan /usr/sbin/xen-virtio-pci-rescan.sh"

init_scripts_parse() {
	layout debian
	for script in $SCRIPTS; do
		sh -n "$dest$script" || { echo "sh -n $script failed"; return 1; }
		if command -v dash >/dev/null 2>&1; then
			dash -n "$dest$script" || { echo "dash -n $script failed"; return 1; }
		fi
	done
}

init_scripts_pass_shellcheck() {
	need shellcheck shellcheck || return 77
	layout debian
	for script in $SCRIPTS; do
		shellcheck -s sh "$dest$script" || { echo "(shellcheck -s sh $script)"; return 1; }
	done
}

# The example as installed, and with every commented-out "#key = value"
# default line put back, passes the daemon's own check.
example_config_passes_check() {
	layout debian
	daemon=$dest$sbindir/xen-virtio-pcid
	if ! "$daemon" --help 2>&1 | grep -q -- --check; then
		echo "xen-virtio-pcid has no --check yet: skipped"
		return 77
	fi
	example=$dest$sysconfdir/xen/virtio-pci.cfg.example
	sed 's/^#\([a-z_0-9]* *= \)/\1/' "$example" >"$work/defaults.cfg"
	grep -q '^mmio = ' "$work/defaults.cfg" || { echo "no commented-out defaults found"; return 1; }
	for config in "$example" "$work/defaults.cfg"; do
		"$daemon" --check --config "$config" || { echo "--check --config $config failed"; return 1; }
	done
}

# ---- the dom0 init script against a stand-in daemon

# init_setup: $work/init with a stand-in daemon, a stand-in logger and two
# PATHs (with start-stop-daemon and logger, and with neither), and copies
# of the installed script using them: only its PATH= line and the name of
# its defaults file differ.
init_setup() {
	idir=$work/init
	mkdir -p "$idir/tools" "$idir/tools-plain" "$idir/run"
	cat >"$idir/daemon" <<-EOF
		#!/bin/sh
		# Stand-in for xen-virtio-pcid: --check refuses a file saying "broken";
		# serving, it says what it gets, and exits 0 on SIGTERM unless told not to.
		if [ "\$1" = --check ]; then
			grep -q broken "\$3" || exit 0
			echo "\$3:1: broken" >&2
			exit 2
		fi
		echo "supervising \$2"
		trap 'echo "reloading \$2"' HUP
		if [ -e "$idir/ignore-term" ]; then
			# Hung, and so is its worker.
			trap '' TERM
			sleep 300 &
			echo \$! >"$idir/worker.pid"
		else
			trap 'echo stopping; exit 0' TERM
		fi
		while :; do sleep 0.1; done
	EOF
	cat >"$idir/tools/logger" <<-EOF
		#!/bin/sh
		# Stand-in for logger -t TAG -p PRIORITY: "TAG: LINE" per line of stdin.
		while read -r line; do echo "\$2: \$line" >>"$idir/syslog"; done
	EOF
	chmod +x "$idir/daemon" "$idir/tools/logger"
	for tool in cat tr head grep sed cut sleep rm mkfifo mkdir dirname; do
		ln -s "$(command -v "$tool")" "$idir/tools/$tool" &&
			ln -s "$(command -v "$tool")" "$idir/tools-plain/$tool" || return 1
	done
	ssd=$(command -v start-stop-daemon) && ln -s "$ssd" "$idir/tools/start-stop-daemon"
	cat >"$idir/default" <<-EOF
		DAEMON=$idir/daemon
		CONFIG=$idir/virtio-pci.cfg
		PIDFILE=$idir/run/xen-virtio-pcid.pid
		LOGFILE=$idir/xen-virtio-pcid.log
		LOGPIPE=$idir/run/xen-virtio-pcid.stderr
		STOP_TIMEOUT=2
	EOF
	layout debian
	for tools in tools tools-plain; do
		sed -e "s|^PATH=.*|PATH=$idir/$tools|" -e "s|/etc/default/xen-virtio-pcid|$idir/default|g" \
			"$dest/etc/init.d/xen-virtio-pcid" >"$idir/init-$tools"
		changed=$(diff "$dest/etc/init.d/xen-virtio-pcid" "$idir/init-$tools" | grep -v '^> *#' | grep -c '^>')
		[ "$changed" -eq 2 ] || { echo "expected 2 lines of code changed in the copy, not $changed"; return 1; }
	done
}

# init TOOLS ACTION: run the init script; its output in $out, status in $status.
init() {
	out=$(sh "$idir/init-$1" "$2" 2>&1)
	status=$?
	[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/  init: /'
}

expect_status() {
	[ "$status" -eq "$1" ] || { echo "exit status $status, expected $1"; return 1; }
}

# alive PID: running, not a zombie (this machine's init may not reap).
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	[ "$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d ' ' -f 1)" != Z ]
}

# daemon_pid: $pid, the stand-in daemon's pid from the pidfile.
daemon_pid() {
	pid=$(cat "$idir/run/xen-virtio-pcid.pid" 2>/dev/null)
	if [ -z "$pid" ] || ! alive "$pid" ||
		! tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF "$idir/daemon"; then
		echo "no stand-in daemon under the pidfile"
		return 1
	fi
}

# wait_for FILE TEXT: until FILE has a line with TEXT (5 s at most).
wait_for() {
	i=0
	until grep -qF "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -le 50 ] || { echo "$1 never said '$2':"; cat "$1" 2>/dev/null; return 1; }
		sleep 0.1
	done
}

wait_gone() {
	i=0
	while alive "$1"; do
		i=$((i + 1))
		[ "$i" -le 50 ] || { echo "pid $1 still runs"; return 1; }
		sleep 0.1
	done
}

init_start_without_a_config_does_nothing() {
	rm -f "$idir/virtio-pci.cfg"
	init tools start
	expect_status 0 || return 1
	case $out in *"virtio-pci.cfg does not exist"*) ;; *) echo "no message"; return 1 ;; esac
	[ ! -e "$idir/run/xen-virtio-pcid.pid" ] || { echo "a pidfile was written"; return 1; }
}

init_start_refuses_a_config_with_errors() {
	echo broken >"$idir/virtio-pci.cfg"
	init tools start
	expect_status 6 || return 1
	case $out in *"virtio-pci.cfg:1: broken"*"not started"*) ;; *) echo "no message"; return 1 ;; esac
	[ ! -e "$idir/run/xen-virtio-pcid.pid" ] || { echo "a pidfile was written"; return 1; }
}

init_starts_through_start_stop_daemon_logging_to_syslog() {
	[ -e "$idir/tools/start-stop-daemon" ] || need start-stop-daemon dpkg || return 77
	echo '[domain "a"]' >"$idir/virtio-pci.cfg"
	init tools start
	expect_status 0 && daemon_pid || return 1
	first=$pid
	wait_for "$idir/syslog" "xen-virtio-pcid: supervising $idir/virtio-pci.cfg" || return 1
	init tools status
	expect_status 0 || return 1
	case $out in *"is running (pid $first)"*) ;; *) echo "status did not say so"; return 1 ;; esac
	init tools start
	expect_status 0 && daemon_pid || return 1
	[ "$pid" = "$first" ] || { echo "a second start started pid $pid"; return 1; }
}

init_reload_checks_then_sends_sighup() {
	daemon_pid || return 1
	init tools reload
	expect_status 0 || return 1
	wait_for "$idir/syslog" "xen-virtio-pcid: reloading" || return 1
	echo broken >"$idir/virtio-pci.cfg"
	init tools reload
	expect_status 6 || return 1
	case $out in *"virtio-pci.cfg:1: broken"*) ;; *) echo "no message"; return 1 ;; esac
	sleep 0.3
	[ "$(grep -c reloading "$idir/syslog")" -eq 1 ] || { echo "a broken file was signalled"; return 1; }
	echo '[domain "a"]' >"$idir/virtio-pci.cfg"
	daemon_pid
}

init_stop_ends_the_daemon() {
	daemon_pid || return 1
	init tools stop
	expect_status 0 && wait_gone "$pid" || return 1
	wait_for "$idir/syslog" "xen-virtio-pcid: stopping" || return 1
	[ ! -e "$idir/run/xen-virtio-pcid.pid" ] || { echo "the pidfile is still there"; return 1; }
	[ ! -e "$idir/run/xen-virtio-pcid.stderr" ] || { echo "the FIFO is still there"; return 1; }
	init tools status
	expect_status 3
}

# With start-stop-daemon, its worker goes too (the daemon's process group).
init_stop_kills_a_daemon_that_ignores_sigterm() {
	touch "$idir/ignore-term"
	init tools start
	rm -f "$idir/ignore-term"
	expect_status 0 && daemon_pid || return 1
	worker=$(cat "$idir/worker.pid") || return 1
	pids="$pids $worker"
	init tools stop
	expect_status 0 || return 1
	case $out in *"killing it"*) ;; *) echo "no message"; return 1 ;; esac
	wait_gone "$pid" || return 1
	[ ! -e "$idir/tools/start-stop-daemon" ] || wait_gone "$worker"
}

init_without_start_stop_daemon_or_logger_logs_to_a_file() {
	init tools-plain start
	expect_status 0 && daemon_pid || return 1
	wait_for "$idir/xen-virtio-pcid.log" "supervising $idir/virtio-pci.cfg" || return 1
	init tools-plain stop
	expect_status 0 && wait_gone "$pid" || return 1
	wait_for "$idir/xen-virtio-pcid.log" "stopping"
}

# A pidfile naming another program (a pid reused after a crash) is stale.
init_ignores_a_stale_pidfile() {
	sleep 30 >/dev/null 2>&1 &
	other=$!
	pids="$pids $other"
	echo "$other" >"$idir/run/xen-virtio-pcid.pid"
	init tools-plain status
	expect_status 1 || return 1
	init tools-plain start
	expect_status 0 && daemon_pid || return 1
	[ "$pid" != "$other" ] || { echo "took the other program for the daemon"; return 1; }
	init tools-plain stop
	expect_status 0 && wait_gone "$pid" || return 1
	alive "$other" || { echo "stop killed the other program"; return 1; }
}

echo "[==========] Running the install checks ($build)."
for side in debian default; do
	run "install_${side}_layout" install_layout "$side" &&
		run "files_and_modes_${side}_layout" files_and_modes "$side" &&
		run "paths_are_the_installed_ones_${side}_layout" paths_are_the_installed_ones "$side"
done
if [ -d "$work/debian" ]; then
	run installed_programs_run installed_programs_run
	run installed_fragment_is_the_default_layouts installed_fragment_is_the_default_layouts
	run installed_docs_name_installed_docs installed_docs_name_installed_docs
	run rescan_synopsis_names_every_option rescan_synopsis_names_every_option
	run units_pass_systemd_analyze_verify units_pass_systemd_analyze_verify
	run man_pages_pass_groff_ww man_pages_pass_groff_ww
	run man_pages_pass_man_warnings man_pages_pass_man_warnings
	run man_pages_have_whatis_entries man_pages_have_whatis_entries
	run man_pages_document_every_option man_pages_document_every_option
	run man_pages_carry_the_version man_pages_carry_the_version
	run init_scripts_parse init_scripts_parse
	run init_scripts_pass_shellcheck init_scripts_pass_shellcheck
	run example_config_passes_check example_config_passes_check
	if run init_setup init_setup; then
		run init_start_without_a_config_does_nothing init_start_without_a_config_does_nothing
		run init_start_refuses_a_config_with_errors init_start_refuses_a_config_with_errors
		run init_starts_through_start_stop_daemon_logging_to_syslog \
			init_starts_through_start_stop_daemon_logging_to_syslog &&
			run init_reload_checks_then_sends_sighup init_reload_checks_then_sends_sighup &&
			run init_stop_ends_the_daemon init_stop_ends_the_daemon
		run init_stop_kills_a_daemon_that_ignores_sigterm init_stop_kills_a_daemon_that_ignores_sigterm
		run init_without_start_stop_daemon_or_logger_logs_to_a_file \
			init_without_start_stop_daemon_or_logger_logs_to_a_file
		run init_ignores_a_stale_pidfile init_ignores_a_stale_pidfile
	fi
fi
for side in debian default; do
	[ -d "$work/$side" ] && run "uninstall_removes_everything_${side}_layout" uninstall_removes_everything "$side"
done

report_summary
