#!/bin/bash
# Quota through tplfsd and tplctl: limits from `ct create --quota` land in
# ct.conf and in the kernel at mount; `ct quota` shows usage, limits and
# state, and `--set` applies at once to a mounted container; usage survives
# umount/mount exactly (no scan); after an unclean stop the container mounts
# at once with its last checkpoint and a background rescan (io_uring statx)
# makes it exact; limit crossings become log lines; bad input is refused.
. "$TPLFS_TOP/tests/vm/lib.sh"

t_daemon_places
CHAN=$TPLFS_BIN/tplfs-chan
USAGE="python3 $TPLFS_TOP/tests/vm/tools/usage.py"
M=$((1024 * 1024))
FS=$R/private/q1/fs
MNT=$R/root/q1

start_daemon() {
	: >"$LOG.now"
	env "$@" "$TPLFS_BIN/tplfsd" --foreground --config /dev/null --root "$R" \
		--store "$PWD/store" --socket "$SOCK" >"$LOG.now" 2>&1 &
	dpid=$!
	t_wait_ready "$LOG.now" "$dpid" || exit 1
}
stop_daemon() { kill "$dpid" 2>/dev/null && wait "$dpid"; cat "$LOG.now" >>"$LOG"; }
trap 'rc=$?; stop_daemon; (exit $rc); t_finish' EXIT
# j EXPR ARGS...: a field of `tplctl --json ARGS...`'s result
j() {
	local expr=$1
	shift
	$T --json "$@" | python3 -c "import json,sys; r=json.load(sys.stdin)['result']; print($expr)"
}
kget() { $CHAN quota-get q1 | sed -n "s/^$1=//p"; }
fill() { dd if=/dev/zero of="$1" bs=64K status=none conv=notrunc oflag=append 2>&1 | sed 's/.*: //'; }

start_daemon
$T template import os@1 --from "$TPL" >/dev/null || fail "template import"

# --- bad input: refused, nothing made ---
expect_eq "--quota soft over hard: a usage error" 2 \
	"$($T ct create q0 --template os@1 --quota 2G:1G >/dev/null 2>&1; echo $?)"
expect_match "...that says what is wrong" "SOFT <= HARD" \
	"$($T ct create q0 --template os@1 --quota 2G:1G 2>&1)"
expect_match "a bad size" "not SOFT" "$($T ct create q0 --template os@1 --quota 12Q 2>&1)"
expect_match "a bad duration" "not a duration" \
	"$($T ct create q0 --template os@1 --grace 5x 2>&1)"
expect_match "--set is for ct quota" "--set for ct quota" \
	"$($T ct create q0 --template os@1 --set 1G 2>&1)"
expect_eq "no container was made" "" "$(ls "$R/private" 2>/dev/null | grep q0)"
expect_match "the daemon checks too (raw request)" "bad_args" \
	"$(PYTHONPATH=$TPLFS_TOP/tests/host python3 -c 'import sys, tplproto
print(tplproto.call(sys.argv[1], "ct.create", {"id": "q0", "template": "os@1", "quota": "1:0"}))' "$SOCK" 2>&1)"

# --- create with limits: ct.conf, quota.usage, ct quota while unmounted ---
expect_ok "ct create --quota --inodes --grace" \
	$T ct create q1 --template os@1 --quota 4M:6M --inodes 1000:2000 --grace 1h
expect_match "ct.conf has the limits" "quota_bytes = 4194304:6291456" \
	"$(cat "$R/private/q1/ct.conf")"
expect_match "...and the grace" "quota_grace = 3600" "$(cat "$R/private/q1/ct.conf")"
expect_match "quota.usage is there, clean" "state = clean" "$(cat "$R/private/q1/quota.usage")"
ref=$($USAGE "$FS")
expect_eq "unmounted: usage as saved, exact" "checkpoint True $ref" \
	"$(j "r['usage_from'], r['exact'], r['bytes']['used'], r['inodes']['used']" ct quota q1)"

# --- mount: the kernel has limits and usage, no scan needed ---
$T ct mount q1 >/dev/null || fail "ct mount"
expect_eq "the kernel got the limits" "4194304 6291456 1000 2000 3600" \
	"$(kget bytes_soft) $(kget bytes_hard) $(kget inodes_soft) $(kget inodes_hard) $(kget bytes_grace)"
expect_eq "and the usage" "$ref" "$(kget bytes_used) $(kget inodes_used)"
expect_eq "live and exact" "kernel True" "$(j "r['usage_from'], r['exact']" ct quota q1)"
expect_match "ct quota prints a table" "^blocks .* ok" "$($T ct quota q1 | grep blocks)"
expect_match "df inside shows the soft limit" "^tplfs +4.0M" \
	"$(df -h --output=source,size "$MNT" | tail -1)"

# --- filling it: states and log lines ---
used=$(kget bytes_used)
dd if=/dev/zero of="$MNT/f" bs=64K count=$(((4 * M - used) / 65536 + 2)) status=none
expect_eq "over soft: state soft" "soft" "$(j "r['bytes']['state']" ct quota q1)"
expect_match "ct quota says until when" "soft limit exceeded until 20" "$($T ct quota q1)"
expect_eq "a write past the hard limit fails" "Disk quota exceeded" "$(fill "$MNT/f")"
expect_eq "state hard" "hard" "$(j "r['bytes']['state']" ct quota q1)"
expect_eq "the container has exactly its hard limit" $((6 * M)) "$(kget bytes_used)"
# the loop logs the kernel's events as they come
t_until "a log line for the soft limit" \
	grep -q "ct q1: over its soft block limit; grace period until" "$LOG.now" &&
	ok "a log line for the soft limit"
t_until "a log line for the hard limit" grep -q "ct q1: block limit reached" "$LOG.now" &&
	ok "a log line for the hard limit"

# --- live change ---
expect_ok "ct quota --set raises the limit" $T ct quota q1 --set 4M:8M
expect_ok "writes continue at once" \
	dd if=/dev/zero of="$MNT/f" bs=64K count=16 oflag=append conv=notrunc status=none
expect_match "ct.conf has the new limit" "quota_bytes = 4194304:8388608" \
	"$(cat "$R/private/q1/ct.conf")"
expect_ok "--inodes and --grace alone" $T ct quota q1 --inodes 0:500 --grace 2d
expect_eq "the kernel has them, bytes untouched" "0 500 172800 8388608" \
	"$(kget inodes_soft) $(kget inodes_hard) $(kget inodes_grace) $(kget bytes_hard)"
expect_match "--set with a bad size" "not SOFT" "$($T ct quota q1 --set 1X 2>&1)"

# --- umount/mount: exact, no scan ---
$T ct umount q1 >/dev/null || fail "ct umount"
expect_match "quota.usage is clean after umount" "state = clean" "$(cat "$R/private/q1/quota.usage")"
ref=$($USAGE "$FS")
expect_eq "and exact" "$ref" "$(j "r['bytes']['used'], r['inodes']['used']" ct quota q1)"
$T ct mount q1 >/dev/null || fail "ct mount again"
expect_eq "usage survives umount/mount exactly" "$ref" "$(kget bytes_used) $(kget inodes_used)"
expect_eq "...without a rescan" "" "$(grep 'usage rescanned' "$LOG.now")"

# --- unclean stop: mount at once with the checkpoint, then the rescan ---
kill -9 "$dpid"; wait "$dpid" 2>/dev/null
umount "$MNT"
checkpoint=$(sed -n 's/^bytes = //p' "$R/private/q1/quota.usage")
expect_match "quota.usage says mounted" "state = mounted" "$(cat "$R/private/q1/quota.usage")"
head -c $((2 * M)) /dev/urandom >"$FS/written-after-the-checkpoint"
gate=$PWD/rescan-may-begin
start_daemon TPLFSD_TEST_PAUSE=ct.rescan:begin@$gate
$T ct mount q1 >/dev/null || fail "ct mount after an unclean stop"
expect_eq "mounted at once with the checkpoint's usage" "$checkpoint False" \
	"$(kget bytes_used) $(j "r['exact']" ct quota q1)"
expect_match "ct quota says it is being rescanned" "being rescanned" "$($T ct quota q1)"
touch "$gate"
exact() { [ "$(j "r['exact']" ct quota q1)" = True ]; }
t_until "the rescan ends" exact
expect_eq "the rescan converges to the true usage" "$($USAGE "$FS")" \
	"$(kget bytes_used) $(kget inodes_used)"
expect_match "and is logged" "ct q1: usage rescanned in [0-9.]+ s" "$(cat "$LOG.now")"
$T ct umount q1 >/dev/null
