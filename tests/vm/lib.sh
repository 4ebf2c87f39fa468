# shellcheck shell=bash
# Helpers for tests/vm scripts. Source it first:
#   . "$TPLFS_TOP/tests/vm/lib.sh"
# Each check prints "ok: WHAT" or "FAIL: WHAT: expected X, saw Y"; the script
# exits non-zero at the end if any check failed.
set -u

t_failures=0
SYS="python3 $TPLFS_TOP/tests/vm/tools/sys.py"

ok() { echo "  ok: $*"; }
fail() {
	echo "  FAIL: $*"
	t_failures=$((t_failures + 1))
}

# expect_eq WHAT EXPECTED SEEN
expect_eq() {
	if [ "$2" == "$3" ]; then
		ok "$1"
	else
		fail "$1: expected '$2', saw '$3'"
	fi
}

# expect_match WHAT REGEX TEXT
expect_match() {
	if grep -Eq -- "$2" <<<"$3"; then
		ok "$1"
	else
		fail "$1: expected a match for /$2/, saw '$3'"
	fi
}

# expect_ok WHAT COMMAND...: the command must succeed
expect_ok() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$what"
	else
		fail "$what: '$*' failed: $out"
	fi
}

# How long a wait may last before it is called a hang. Never a deadline a
# slow guest could miss: under TCG on a loaded host a guest can be ten
# times slower one run than the next.
T_WAIT_MAX=${TPLFS_WAIT_MAX:-300}

# t_until WHAT COMMAND...: poll until COMMAND succeeds; a FAIL naming WHAT
# (and status 1) only after T_WAIT_MAX seconds.
t_until() {
	local what=$1 start=$SECONDS
	shift
	until "$@" >/dev/null 2>&1; do
		if [ $((SECONDS - start)) -ge "$T_WAIT_MAX" ]; then
			fail "$what: not so after ${T_WAIT_MAX} s ($*)"
			return 1
		fi
		sleep 0.05
	done
}

# t_wait_ready LOG PID [LINE]: until the tplfsd of PID says 'ready on' in
# LOG (from line LINE on); a FAIL with its last lines if it exits first.
t_wait_ready() {
	local log=$1 pid=$2 from=${3:-1} start=$SECONDS
	until tail -n +"$from" "$log" 2>/dev/null | grep -q 'ready on'; do
		if ! kill -0 "$pid" 2>/dev/null ||
			[ $((SECONDS - start)) -ge "$T_WAIT_MAX" ]; then
			fail "tplfsd did not start: $(tail -5 "$log" 2>/dev/null)"
			return 1
		fi
		sleep 0.05
	done
}

# t_tplfsd ROOT STORE SOCK LOG: start tplfsd on them (no config file) and
# wait until it serves; T_DPID is its pid. The test ends if it does not
# start. t_stop_tplfsd stops it (and says whether it stopped cleanly).
t_tplfsd() {
	# its own "ready on": LOG may hold an earlier daemon's
	local from=$(($(wc -l 2>/dev/null <"$4" || echo 0) + 1))

	"$TPLFS_BIN/tplfsd" --foreground --config /dev/null --root "$1" \
		--store "$2" --socket "$3" >>"$4" 2>&1 &
	T_DPID=$!
	t_wait_ready "$4" "$T_DPID" "$from" || exit 1
}
t_stop_tplfsd() { kill "$T_DPID" 2>/dev/null && wait "$T_DPID"; }

# t_daemon_places: what a test of tplfsd on the scratch disk works with:
# TPL (the busybox template tarball; the test ends if it is missing), R
# (tplfsd's root), SOCK, LOG, and T (tplctl on that socket).
t_daemon_places() {
	TPL=$TPLFS_TOP/build/cache/busybox-template.tar.zst
	R=$PWD/tplfs
	SOCK=$PWD/tplfsd.sock
	LOG=$PWD/tplfsd.log
	T="$TPLFS_BIN/tplctl --socket $SOCK"
	[ -s "$TPL" ] || { fail "no template tarball $TPL (scripts/template-tarball.sh)"; exit 1; }
}

# The private area and store of a test mount, on the scratch disk.
t_setup_dirs() {
	T_PRIV=$PWD/private
	T_STORE=$PWD/store
	T_MNT=$PWD/mnt
	mkdir -p "$T_PRIV" "$T_STORE/objects" "$T_MNT"
}

# tplfs-mkstub without its fsyncs (eatmydata): tests that do not crash need
# no durability, and thousands of fsyncs cost half a minute under TCG.
MKSTUB="eatmydata $TPLFS_BIN/tplfs-mkstub"

# t_tracefs: the tracefs directory, mounted if it is not yet.
t_tracefs() {
	local tr=/sys/kernel/tracing
	[ -d "$tr/events" ] || mount -t tracefs tracefs "$tr"
	echo "$tr"
}

# t_copy_up_event FILE: open FILE (a stub) for reading and writing, which
# copies it up at once, and print the tplfs_copy_up tracepoint's event for
# that copy-up.
t_copy_up_event() {
	local tr
	tr=$(t_tracefs)
	echo >"$tr/trace"
	echo 1 >"$tr/events/tplfs/tplfs_copy_up/enable"
	python3 -c 'import os,sys; os.close(os.open(sys.argv[1], os.O_RDWR))' "$1"
	echo 0 >"$tr/events/tplfs/tplfs_copy_up/enable"
	grep -o 'tplfs_copy_up: .*' "$tr/trace"
}

# t_stub SRC STUB: STUB becomes a stub of SRC's content (object in $T_STORE),
# with SRC's mode, owner and times.
t_stub() {
	$MKSTUB "$T_STORE" "$1" "$2" || fail "cannot make stub $2"
}

# t_is_stub FILE: "stub" if FILE (in a private area) has an origin, else
# "private"
t_is_stub() {
	getfattr --absolute-names -n trusted.tplfs.origin "$1" >/dev/null 2>&1 &&
		echo stub || echo private
}

# t_mount [CT [MNT [PRIVATE]]]: mount tplfs on the test's private area and store
t_mount() {
	local ct=${1:-t$$} mnt=${2:-$T_MNT} priv=${3:-$T_PRIV}
	mount -t tplfs -o "private=$priv,store=$T_STORE,ct=$ct" tplfs "$mnt" ||
		{ fail "mount of $priv on $mnt"; exit 1; }
}

# t_umount_under DIR: unmount everything mounted under DIR, deepest first
# (lazily if busy): for scripts that mount outside their own directory
t_umount_under() {
	local mnt
	while read -r _ mnt _; do
		case "$mnt" in "$1"/*) umount "$mnt" 2>/dev/null || umount -l "$mnt" ;; esac
	done < <(tac /proc/mounts)
}

# t_cgroup2: the cgroup2 hierarchy container runtimes want (the guest's
# init, unless it is systemd, mounts none)
t_cgroup2() {
	[ -e /sys/fs/cgroup/cgroup.controllers ] ||
		mount -t cgroup2 cgroup2 /sys/fs/cgroup || fail "mount cgroup2"
}

# t_cgrun NAME COMMAND...: exec COMMAND in the new cgroup NAME, as a unit
# of systemd's would run (nspawn makes its payload cgroup under its own: a
# second nspawn in the root cgroup found the first one's there, EBUSY).
# It execs: only in a subshell ($(...) or &, whose $! is then COMMAND's).
t_cgrun() {
	local cg=/sys/fs/cgroup/$1
	shift
	mkdir -p "$cg" && echo "$BASHPID" >"$cg/cgroup.procs" && exec "$@"
}

# the newest tplfs line of the kernel log
t_last_log() { dmesg | grep 'tplfs: ' | tail -1; }

# Unmount whatever the test left under its directory, then report.
t_finish() {
	local rc=$?
	while read -r _ mnt _; do
		case "$mnt" in "$PWD"/*) umount "$mnt" 2>/dev/null ;; esac
	done < <(tac /proc/mounts)
	if [ "$t_failures" != 0 ]; then
		echo "  $t_failures check(s) failed"
		exit 1
	fi
	exit "$rc"
}
trap t_finish EXIT
