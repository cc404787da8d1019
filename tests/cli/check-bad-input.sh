#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/cli/check-bad-input.sh: bad input, as a new user types it, through
# the real binary (build/xen-virtio-pcid): command lines, and config files
# through `--check --config FILE`. For each case: exit status 2, one message
# that names the option or key and the value at fault (and FILE:LINE for a
# file), and no hang: every run is bounded by `timeout`, and a run that
# times out fails. Nothing here needs Xen: each case is refused before the
# daemon would talk to it. Reports like cmocka, so tests/run-tests.sh counts
# its tests.
#
# Usage: XVP_BUILD=build sh tests/cli/check-bad-input.sh
set -u

daemon="${XVP_BUILD:-build}/xen-virtio-pcid"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Seconds a run may take: far beyond what a refusal needs; only a hang reaches it.
LIMIT=20

# shellcheck source=tests/report.sh
. "$(dirname "$0")/../report.sh"

# run_bounded OUT COMMAND...: COMMAND's stdout and stderr in OUT; its exit status,
# or 124 if it had to be stopped.
run_bounded() {
	out=$1
	shift
	timeout -k 5 "$LIMIT" "$@" </dev/null >"$out" 2>&1
}

# refused OUT STATUS NEEDLE...: STATUS is 2 and OUT holds every NEEDLE (fixed strings).
refused() {
	out=$1
	status=$2
	shift 2
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		echo "hung: stopped after ${LIMIT}s"
		cat "$out"
		return 1
	fi
	[ "$status" -eq 2 ] || { echo "exit status $status, expected 2:"; cat "$out"; return 1; }
	for needle in "$@"; do
		grep -qF -- "$needle" "$out" || { echo "no '$needle' in:"; cat "$out"; return 1; }
	done
}

# cli_case NEEDLE ARGS...: xen-virtio-pcid ARGS is refused naming NEEDLE.
cli_case() {
	needle=$1
	shift
	run_bounded "$work/out" "$daemon" "$@"
	refused "$work/out" $? "$needle"
}

# cli2_case NEEDLE1 NEEDLE2 ARGS...: the same with two needles.
cli2_case() {
	needle1=$1
	needle2=$2
	shift 2
	run_bounded "$work/out" "$daemon" "$@"
	refused "$work/out" $? "$needle1" "$needle2"
}

# config FILE TEXT: FILE holds TEXT, with printf's \n and \NNN escapes.
config() {
	printf '%b' "$2" >"$1"
}

# file_case LINE NEEDLE TEXT: a file holding TEXT is refused by --check with
# a message "FILE:LINE: ..." that names NEEDLE (LINE "-": "FILE: ...").
file_case() {
	line=$1
	needle=$2
	file="$work/case.cfg"
	config "$file" "$3"
	check_file_case "$file" "$line" "$needle"
}

# check_file_case FILE LINE NEEDLE: --check --config FILE refused, "FILE:LINE: ...NEEDLE".
check_file_case() {
	file=$1
	where="$file:$2: "
	[ "$2" = - ] && where="$file: "
	run_bounded "$work/out" "$daemon" --check --config "$file"
	refused "$work/out" $? "$3" || return 1
	grep -F -- "$where" "$work/out" | grep -qF -- "$3" ||
		{ echo "no line '$where...$3' in:"; cat "$work/out"; return 1; }
}

# case NAME FUNCTION ARGS...: one reported check.
case_() {
	report_check "$@"
}

long=$(printf '%0300d' 0 | tr 0 a)
too_long=$(printf '%04100d' 0 | tr 0 b)
mkfifo "$work/fifo"
mkdir "$work/dir"
: >"$work/disk.img"
truncate -s 1M "$work/disk.img"
ln -s "$work/disk.img" "$work/link.img"
img="$work/disk.img"

echo "[==========] Running the bad-input table through $daemon."

# ---- numbers: decimal or 0x hexadecimal, nothing else
case_ domain_010_is_not_octal cli_case "--domain '010': a leading 0" --domain 010 --device rng
case_ domain_08_is_not_octal cli_case "--domain '08': a leading 0" --domain 08 --device rng
case_ intx_spi_060_is_not_octal cli_case "--intx-spi '060': a leading 0" --domain 5 --intx-spi 060 --device rng
case_ addr_010_is_not_octal cli_case "addr=010: a leading 0" --domain 5 --device rng,addr=010
case_ queue_size_0256_is_not_octal cli_case "queue-size=0256: a leading 0" --domain 5 --device rng,queue-size=0256
case_ queues_02_is_not_octal cli_case "queues=02: a leading 0" --domain 5 --device "blk,path=$img,queues=02"
case_ ecam_base_010_is_not_octal cli_case "--ecam '010,0x10000000': a leading 0" --domain 5 --ecam 010,0x10000000 --device rng
case_ map_budget_0100M_is_not_octal cli_case "--map-budget '0100M': a leading 0" --domain 5 --map-budget 0100M --device rng
case_ fdt_pci_domain_010_is_not_octal cli_case "--pci-domain '010': a leading 0" fdt --pci-domain 010 -o "$work/x.dtb"
case_ domain_1K_has_no_size_suffix cli_case "--domain '1K': K, M and G" --domain 1K --device rng
case_ intx_spi_1K_has_no_size_suffix cli_case "--intx-spi '1K': K, M and G" --domain 5 --intx-spi 1K --device rng
case_ poll_max_ns_over_1ms cli_case "poll-max-ns=1000001: out of range: expected nanoseconds from 0 (never watch) to 1000000" --domain 5 --device rng,poll-max-ns=1000001
case_ poll_max_ns_negative cli_case "poll-max-ns=-1: not a number" --domain 5 --device "blk,path=$img,poll-max-ns=-1"
case_ poll_max_ns_twice cli_case "poll-max-ns" --domain 5 --device rng,poll-max-ns=0,poll-max-ns=1
case_ addr_1K_has_no_size_suffix cli_case "addr=1K: K, M and G" --domain 5 --device rng,addr=1K
case_ domain_0_is_out_of_range cli_case "--domain '0': out of range" --domain 0 --device rng
case_ domain_32752_is_out_of_range cli_case "--domain '32752': out of range" --domain 32752 --device rng
case_ domain_overflow_is_out_of_range cli_case "--domain '99999999999999999999': out of range" --domain 99999999999999999999 --device rng
case_ map_budget_overflow_is_out_of_range cli_case "--map-budget '99999999999999999999': out of range" --domain 5 --map-budget 99999999999999999999 --device rng
case_ map_budget_shift_overflow_is_out_of_range cli_case "--map-budget '17179869184G': out of range" --domain 5 --map-budget 17179869184G --device rng
case_ ecam_size_overflow_is_out_of_range cli_case "--ecam '0x10000000,99999999999999999999': out of range" --domain 5 --ecam 0x10000000,99999999999999999999 --device rng
case_ rate_overflow_is_out_of_range cli_case "rate=99999999999999999999: out of range" --domain 5 --device rng,rate=99999999999999999999
case_ domain_negative_is_not_a_number cli_case "--domain '-1': not a number" --domain -1 --device rng
case_ domain_empty_is_not_a_number cli_case "--domain '': not a number" --domain "" --device rng
case_ domain_with_blank_is_not_a_number cli_case "--domain ' 5': not a number" --domain " 5" --device rng
case_ map_budget_too_small_says_64M cli_case "--map-budget '1M': out of range" --domain 5 --map-budget 1M --device rng

# ---- lists, keys and options given twice or empty
case_ trailing_comma_is_an_empty_item cli_case "'rng,': an empty item" --domain 5 --device rng,
case_ double_comma_is_an_empty_item cli_case "'rng,,addr=3': an empty item" --domain 5 --device rng,,addr=3
case_ path_given_twice cli_case "path=/b: 'path' given twice" --domain 5 --device blk,path=/a,path=/b
case_ addr_given_twice cli_case "addr=4: 'addr' given twice" --domain 5 --device rng,addr=3,addr=4
case_ domain_option_given_twice cli_case "--domain '6': given twice (first '5')" --domain 5 --domain 6 --device rng
case_ ecam_option_given_twice cli_case "--ecam '0x20000000,16M': given twice" --domain 5 --ecam 0x10000000,16M --ecam 0x20000000,16M --device rng
case_ fdt_for_bogus_is_refused cli_case "--for 'qemu': expected xl or dom0less" fdt --for qemu -o "$work/x.dtb"
case_ fdt_output_given_twice cli_case "--output '$work/b.dtb': given twice" fdt -o "$work/a.dtb" -o "$work/b.dtb"
case_ config_option_given_twice cli_case "--config '$work/b.cfg': given twice" --check --config "$work/a.cfg" --config "$work/b.cfg"
case_ windows_too_small_for_the_bars cli_case "too small for the BARs of 2 devices" --domain 5 --mmio 0x30000000,0x4000 --mmio64 0x100000000,0x1000 --device rng --device rng
case_ bounce_budget_010M_is_not_octal cli_case "bounce-budget=010M: a leading 0" --domain 5 --device "blk,path=$img,direct=on,bounce-budget=010M"

# ---- virtio-console: BACKEND is pty, null, socket=PATH or file=PATH; port=NAME:BACKEND
many_ports=$(i=0; while [ $i -lt 31 ]; do printf ',port=p%d:null' $i; i=$((i + 1)); done)
case_ console_backend_unknown cli_case "console=tty: expected pty, null, socket=PATH or file=PATH" --domain 5 --device console,console=tty
case_ console_socket_without_path cli_case "console: the path is empty" --domain 5 --device console,console=socket=
case_ console_socket_path_too_long cli_case "a unix socket's path has at most 107 bytes" --domain 5 --device "console,console=socket=/$long"
case_ console_given_twice cli_case "'console' given twice" --domain 5 --device console,console=pty,console=null
case_ console_port_without_backend cli_case "port=agent: expected NAME:BACKEND" --domain 5 --device console,port=agent
case_ console_port_name_empty cli_case "port=:null: expected NAME:BACKEND" --domain 5 --device console,port=:null
case_ console_port_name_with_slash cli_case "port=a/b:null: expected NAME:BACKEND" --domain 5 --device console,port=a/b:null
case_ console_port_backend_unknown cli_case "port=serial: expected pty, null" --domain 5 --device console,port=agent:serial
case_ console_port_name_twice cli_case "a second port named 'agent'" --domain 5 --device console,port=agent:null,port=agent:pty
case_ console_too_many_ports cli_case "at most 31 ports, the console's included" --domain 5 --device "console$many_ports"
case_ console_two_ports_one_socket cli_case "two ports on one socket" --domain 5 --device console,console=socket=/run/x.sock,port=a:socket=/run/x.sock
case_ console_relative_path cli_case "port: log.txt is relative: write the absolute path" --domain 5 --device console,port=log:file=log.txt
case_ console_buffer_too_small cli_case "buffer=1K: out of range" --domain 5 --device console,buffer=1K
case_ console_mode_not_octal cli_case "mode=0999: expected octal permission bits" --domain 5 --device console,mode=0999
case_ console_owner_unknown cli_case "owner=no-such-user-xvp: no user 'no-such-user-xvp'" --domain 5 --device console,owner=no-such-user-xvp
case_ console_unknown_key cli_case "unknown key 'path' (known: console, port" --domain 5 --device console,path=/x
case_ bounce_budget_2G_is_out_of_range cli_case "bounce-budget=2G: out of range" --domain 5 --device "blk,path=$img,direct=on,bounce-budget=2G"
case_ rate_0_is_refused cli_case "rate=0: " --domain 5 --device rng,rate=0
case_ rate_0_per_second_is_refused cli_case "rate=0/s: " --domain 5 --device rng,rate=0/s

# ---- messages
case_ unknown_key_with_a_word_value cli_case "unknown key 'cache'" --domain 5 --device rng,cache=none
case_ unknown_key_with_a_number_value cli_case "unknown key 'cache'" --domain 5 --device rng,cache=5
case_ unknown_blk_key cli_case "unknown key 'cache'" --domain 5 --device "blk,path=$img,cache=writeback"
case_ long_spec_keeps_its_reason cli_case "unknown key 'cache'" --domain 5 --device "blk,path=/$long,cache=none"
case_ long_path_keeps_its_reason cli_case "path is longer than" --domain 5 --device "blk,path=/$too_long"
case_ check_with_domain_are_two_modes cli2_case "--domain" "different modes" --check --config "$work/a.cfg" --domain 5
case_ config_with_domain_are_two_modes cli2_case "--domain" "different modes" --domain 5 --config "$work/a.cfg"
case_ ambiguous_abbreviation cli2_case "'--d'" "ambiguous" --d 5 --device rng
case_ ambiguous_abbreviation_m cli2_case "'--m'" "ambiguous" --domain 5 --m 1G --device rng
case_ fdt_ambiguous_abbreviation cli2_case "'--do'" "ambiguous" fdt --do 5 -o "$work/x.dtb"
case_ two_devices_on_one_image_say_so cli2_case "blk1" "same image as blk0" --domain 5 --device "blk,path=$img" --device "blk,path=$img"
case_ two_devices_on_one_image_by_link cli2_case "blk1" "same image as blk0" --domain 5 --device "blk,path=$img" --device "blk,path=$work/link.img,readonly=on"
case_ intx_spi_beyond_states_the_one_range cli_case "must lie in 32..1019" --domain 5 --intx-spi 1017 --device rng
case_ intx_spi_far_beyond_states_the_one_range cli_case "must lie in 32..1019" --domain 5 --intx-spi 5000 --device rng
case_ intx_spi_below_states_the_one_range cli_case "must lie in 32..1019" --domain 5 --intx-spi 20 --device rng

# ---- the rest of what --device and the options refuse
case_ domain_name_unprintable cli_case "expected a printable domain name" --domain 5 --guest-name "$(printf 'a\tb')" --device rng
case_ domain_name_of_65 cli_case "expected a domain name of 1 to 64 bytes" --domain 5 --guest-name "$(printf '%065d' 0)" --device rng
case_ unknown_device_type cli_case "unknown device type 'foo'" --domain 5 --device foo
case_ blk_without_path cli_case "path=FILE is required" --domain 5 --device blk
case_ blk_empty_path cli_case "path=: empty" --domain 5 --device blk,path=
case_ blk_nbd_not_a_uri cli_case "nbd=/srv/disk.img: not an NBD URI" --domain 5 --device blk,nbd=/srv/disk.img
case_ blk_path_and_nbd cli_case "give path= or nbd=, not both" --domain 5 --device "blk,path=$img,nbd=nbd://h/e"
case_ blk_nbd_direct cli_case "direct=on: for an image file, not an nbd= disk" --domain 5 --device "blk,nbd=nbd://h/e,direct=on"
case_ blk_nbd_timeout_on_a_file cli_case "timeout=5: for an nbd= disk, not an image file" --domain 5 --device "blk,path=$img,timeout=5"
case_ blk_nbd_unix_without_socket cli_case "nbd=nbd+unix:///e: socket=PATH, an absolute path, is required" --domain 5 --device "blk,nbd=nbd+unix:///e"
case_ addr_0_is_the_host_bridge cli_case "addr=0: " --domain 5 --device rng,addr=0
case_ addr_32_is_beyond_31 cli_case "addr=32: " --domain 5 --device rng,addr=32
case_ queue_size_3_is_not_a_power_of_two cli_case "queue-size=3: " --domain 5 --device rng,queue-size=3
case_ readonly_maybe cli_case "readonly=maybe: expected on or off" --domain 5 --device "blk,path=$img,readonly=maybe"
case_ serial_of_21 cli_case "serial=abcdefghijklmnopqrstu: at most 20" --domain 5 --device "blk,path=$img,serial=abcdefghijklmnopqrstu"
case_ queues_0 cli_case "queues=0: " --domain 5 --device "blk,path=$img,queues=0"
case_ net_needs_tap_or_bridge cli_case "tap=NAME or bridge=BRIDGE is required" --domain 5 --device net
case_ net_tap_and_bridge_exclude cli_case "tap= and bridge= exclude each other" --domain 5 --device net,tap=t0,bridge=br0
case_ net_ifname_with_slash cli_case "ifname=a/b: expected an interface name" --domain 5 --device net,bridge=br0,ifname=a/b
case_ net_ifname_with_colon cli_case "ifname=a:b: expected an interface name" --domain 5 --device net,bridge=br0,ifname=a:b
case_ net_ifname_of_16 cli_case "ifname=abcdefghijklmnop: expected an interface name of 1 to 15" --domain 5 --device net,bridge=br0,ifname=abcdefghijklmnop
case_ net_tap_with_blank cli_case "tap=a b: expected an interface name" --domain 5 --device "net,tap=a b"
case_ net_ifname_without_bridge cli_case "ifname=x: only with bridge=" --domain 5 --device net,tap=t0,ifname=x
case_ net_mac_not_hex cli_case "mac=00:16:3e:zz:00:01: expected six hexadecimal bytes" --domain 5 --device net,tap=t0,mac=00:16:3e:zz:00:01
case_ net_mac_multicast cli_case "mac=01:00:5e:00:00:01: expected a unicast address" --domain 5 --device net,tap=t0,mac=01:00:5e:00:00:01
case_ net_mtu_67 cli_case "mtu=67: out of range" --domain 5 --device net,tap=t0,mtu=67
case_ net_mtu_65536 cli_case "mtu=65536: out of range" --domain 5 --device net,tap=t0,mtu=65536
case_ net_queues_9 cli_case "queues=9: out of range" --domain 5 --device net,tap=t0,queues=9
case_ item_without_equals cli_case "'addr' is not KEY=VALUE" --domain 5 --device rng,addr
case_ two_devices_at_one_addr cli_case "two devices at addr=3" --domain 5 --device rng,addr=3 --device rng,addr=3
case_ ecam_without_size cli_case "--ecam '0x10000000': expected BASE,SIZE" --domain 5 --ecam 0x10000000 --device rng
case_ unknown_option cli_case "unknown option '--bogus'" --domain 5 --bogus
case_ option_without_value cli_case "option '--domain' needs a value" --domain
case_ fdt_domain_name_without_config cli_case "--domain 'vm1': " fdt --domain vm1 -o "$work/x.dtb"

# ---- config files, through --check --config FILE
case_ file_intx_spi_060 file_case 3 "intx_spi '060': a leading 0" '[domain 3]\ndevice = "rng"\nintx_spi = 060\n'
case_ file_domain_010 file_case 1 "domain '010': a leading 0" '[domain 010]\ndevice = "rng"\n'
case_ file_addr_010 file_case 2 "addr=010: a leading 0" '[domain 3]\ndevice = "rng,addr=010"\n'
case_ file_net_ifname_with_slash file_case 2 "ifname=a/b: expected an interface name" '[domain 3]\ndevice = "net,bridge=br0,ifname=a/b"\n'
case_ file_net_without_tap_or_bridge file_case 2 "tap=NAME or bridge=BRIDGE is required" '[domain 3]\ndevice = [ "rng", "net,queues=2" ]\n'
case_ file_verbose_01 file_case 3 "verbose '01'" '[domain 3]\ndevice = "rng"\nverbose = 01\n'
case_ file_map_budget_overflow file_case 2 "map_budget '99999999999999999999': out of range" '[domain 3]\nmap_budget = 99999999999999999999\ndevice = "rng"\n'
case_ file_domain_1K file_case 1 "1K" '[domain 1K]\ndevice = "rng"\n'
case_ file_empty_item file_case 3 "'rng,': an empty item" '[domain 3]\ndevice = [\n "rng," ]\n'
case_ file_double_comma file_case 2 "'rng,,addr=3': an empty item" '[domain 3]\ndevice = "rng,,addr=3"\n'
case_ file_path_twice file_case 2 "'path' given twice" '[domain 3]\ndevice = "blk,path=/a,path=/b"\n'
case_ file_key_twice file_case 4 "ecam: given twice" '[domain 3]\necam = "0x10000000,16M"\ndevice = "rng"\necam = "0x20000000,16M"\n'
case_ file_rate_0 file_case 2 "rate=0: " '[domain 3]\ndevice = "rng,rate=0"\n'
case_ file_unknown_device_key file_case 2 "unknown key 'cache'" '[domain 3]\ndevice = "rng,cache=none"\n'
case_ file_unknown_key_string file_case 2 "unknown key 'cache'" '[domain 3]\ncache = "none"\ndevice = "rng"\n'
case_ file_unknown_key_word file_case 2 "unknown key 'cache'" '[domain 3]\ncache = none\ndevice = "rng"\n'
case_ file_unknown_key_number file_case 2 "unknown key 'cache'" '[domain 3]\ncache = 010\ndevice = "rng"\n'
case_ file_byte_order_mark file_case 1 "byte-order mark" '\0357\0273\0277[domain 3]\ndevice = "rng"\n'
case_ file_empty file_case - "no [domain ...] block" ''
case_ file_only_comments file_case - "no [domain ...] block" '# nothing yet\n\n'
case_ file_domain_0_by_name file_case 1 "Domain-0" '[domain "Domain-0"]\ndevice = "rng"\n'
case_ file_domain_0_by_id file_case 1 "domain '0'" '[domain 0]\ndevice = "rng"\n'
case_ file_relative_image_path file_case 2 "relative" '[domain 3]\ndevice = "blk,path=disk.img"\n'
case_ file_image_in_two_blocks file_case 5 "same image as" "[domain 3]\ndevice = \"blk,path=$img\"\n\n[domain 4]\ndevice = \"blk,path=$img\"\n"
case_ file_image_twice_in_one_block file_case 3 "same image as" "[domain 3]\ndevice = [ \"blk,path=$img\",\n \"blk,path=$img\" ]\n"
case_ file_image_by_link_in_two_blocks file_case 4 "same image as" "[domain 3]\ndevice = \"blk,path=$img\"\n[domain 4]\ndevice = \"blk,path=$work/link.img\"\n"
case_ file_image_is_a_fifo file_case 2 "not a regular file or block device" "[domain 3]\ndevice = \"blk,path=$work/fifo\"\n"
case_ file_image_is_a_directory file_case 2 "not a regular file or block device" "[domain 3]\ndevice = \"blk,path=$work/dir\"\n"
case_ file_windows_too_small file_case 1 "too small for the BARs" '[domain 3]\nmmio = "0x30000000,0x4000"\nmmio64 = "0x100000000,0x1000"\ndevice = [ "rng", "rng" ]\n'
case_ file_long_spec_keeps_its_reason file_case 2 "unknown key 'cache'" "[domain 3]\ndevice = \"blk,path=/$long,cache=none\"\n"
case_ file_intx_spi_1017 file_case 1 "must lie in 32..1019" '[domain 3]\nintx_spi = 1017\ndevice = "rng"\n'
case_ file_block_without_device file_case 1 "no device" '[domain 3]\n'
case_ file_key_before_block file_case 1 "before any [domain" 'device = "rng"\n'
case_ file_same_name_twice file_case 3 "again" '[domain "a"]\ndevice = "rng"\n[domain "a"]\ndevice = "rng"\n'
# user = "root" is allowed (the worker warns); a uid base of 0 would make domain N uid N.
case_ file_uid_base_0 file_case 3 "uid_base '0'" '[domain 3]\ndevice = "rng"\nuid_base = 0\n'
case_ file_is_a_fifo check_file_case "$work/fifo" - "not a regular file"
case_ file_is_a_directory check_file_case "$work/dir" - "not a regular file"
case_ file_is_missing check_file_case "$work/missing.cfg" - "cannot read"

# ---- what is not refused, but must not be called valid either
missing_image_is_a_warning() {
	config "$work/missing-image.cfg" "[domain 3]\ndevice = \"blk,path=$work/later.img\"\n"
	run_bounded "$work/out" "$daemon" --check --config "$work/missing-image.cfg"
	status=$?
	[ "$status" -eq 0 ] || { echo "exit status $status, expected 0:"; cat "$work/out"; return 1; }
	grep -qF "$work/missing-image.cfg:2: warning: " "$work/out" &&
		grep -qF "$work/later.img" "$work/out" || { echo "no warning:"; cat "$work/out"; return 1; }
	! grep -q "valid" "$work/out" || { echo "called valid:"; cat "$work/out"; return 1; }
}
case_ missing_image_is_a_warning_not_valid missing_image_is_a_warning

domain_without_device_is_a_warning() {
	run_bounded "$work/out" "$daemon" --domain 32000
	grep -qF "warning: --domain 32000 with no --device" "$work/out" ||
		{ echo "no warning:"; cat "$work/out"; return 1; }
}
case_ domain_without_device_warns domain_without_device_is_a_warning

# Decimal 0 is a number: fdt takes --pci-domain 0.
pci_domain_0_is_accepted() {
	run_bounded "$work/out" "$daemon" fdt --pci-domain 0 -o "$work/zero.dtb"
	status=$?
	[ "$status" -eq 0 ] || { echo "exit status $status:"; cat "$work/out"; return 1; }
}
case_ fdt_pci_domain_0_is_accepted pci_domain_0_is_accepted

# One file drives devices and fragment: `fdt --config FILE --domain NAME` writes
# byte for byte what `fdt` writes with that block's options.
fdt_config_gives_the_blocks_fragment() {
	config "$work/two.cfg" '[domain "vm1"]\necam = "0x10000000000,16M"\nintx_spi = 200\ndevice = [ "rng", "rng,addr=5" ]\n[domain 7]\nmmio = "0x30000000,0x8000000"\ndevice = "rng"\n'
	run_bounded "$work/out" "$daemon" fdt --config "$work/two.cfg" --domain vm1 -o "$work/by-name.dtb" &&
		run_bounded "$work/out" "$daemon" fdt --ecam 0x10000000000,16M --intx-spi 200 \
			--device rng --device rng,addr=5 -o "$work/by-options.dtb" &&
		run_bounded "$work/out" "$daemon" fdt --config "$work/two.cfg" --domain 7 -o "$work/by-id.dtb" &&
		run_bounded "$work/out" "$daemon" fdt --mmio 0x30000000,0x8000000 -o "$work/id-options.dtb" ||
		{ echo "fdt failed:"; cat "$work/out"; return 1; }
	cmp "$work/by-name.dtb" "$work/by-options.dtb" && cmp "$work/by-id.dtb" "$work/id-options.dtb" &&
		! cmp -s "$work/by-name.dtb" "$work/by-id.dtb" ||
		{ echo "the fragments differ from (or do not depend on) the block"; return 1; }
}
case_ fdt_config_gives_the_blocks_fragment fdt_config_gives_the_blocks_fragment
case_ fdt_config_needs_domain_for_two_blocks cli_case "has 2 [domain ...] blocks: choose one with --domain NAME|ID" fdt --config "$work/two.cfg" -o "$work/x.dtb"
case_ fdt_config_without_that_block cli_case "has no [domain \"vm2\"] block" fdt --config "$work/two.cfg" --domain vm2 -o "$work/x.dtb"
case_ fdt_config_and_layout_options cli_case "--ecam with --config" fdt --config "$work/two.cfg" --domain 7 --ecam 0x10000000,16M -o "$work/x.dtb"

# Supervisor seconds are decimal: no hex floats, exponents or leading 0s.
config "$work/good.cfg" '[domain 3]\ndevice = "rng"\n'
case_ poll_hex_float_is_refused cli_case "--poll '0x1p3'" --check --config "$work/good.cfg" --poll 0x1p3
case_ restart_delay_exponent_is_refused cli_case "--restart-delay '1e-2'" --check --config "$work/good.cfg" --restart-delay 1e-2
case_ stop_timeout_010_is_not_octal cli_case "--stop-timeout '010': a leading 0" --check --config "$work/good.cfg" --stop-timeout 010
case_ poll_nan_is_refused cli_case "--poll 'nan'" --check --config "$work/good.cfg" --poll nan
case_ from_xl_relative_dir_is_refused cli_case "--from-xl 'xen': an absolute directory" --from-xl=xen
case_ from_xl_with_check_needs_config cli_case "--check needs --config FILE" --from-xl --check

# An abbreviation of --config or --check is the supervisor mode, as getopt reads it.
conf_abbreviation() {
	config "$work/bad.cfg" '[domain 3]\nfrobnicate = 1\n'
	run_bounded "$work/out" "$daemon" --chec --conf "$work/bad.cfg"
	refused "$work/out" $? "$work/bad.cfg:2:" "unknown key 'frobnicate'"
}
case_ config_abbreviated_is_the_supervisor conf_abbreviation

# Without Xen (no privcmd device), one line of ours in every mode, with the hint;
# not libxencall's own line before it.
without_xen_one_line() {
	if [ -e /dev/xen/privcmd ] || [ -e /proc/xen/privcmd ]; then
		echo "Xen is here: skipped"
		return 77
	fi
	config "$work/one.cfg" '[domain 3]\ndevice = "rng"\n'
	for mode in "--domain 5 --device rng" "--config $work/one.cfg"; do
		# shellcheck disable=SC2086 # a list of words
		run_bounded "$work/out" "$daemon" $mode
		status=$?
		[ "$status" -eq 1 ] || { echo "$mode: exit status $status, expected 1:"; cat "$work/out"; return 1; }
		[ "$(wc -l <"$work/out")" -eq 1 ] && grep -q "is this dom0 with Xen running?" "$work/out" ||
			{ echo "$mode: not one line with the hint:"; cat "$work/out"; return 1; }
	done
}
case_ without_xen_one_line_in_every_mode without_xen_one_line

report_summary
