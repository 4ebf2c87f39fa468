#!/bin/bash
# Quota crash test, crashing boot: a container with a quota, mounted by
# tplfsd, is being written to when the machine is reset without syncing
# (sysrq-b). Its quota.usage is then a checkpoint of an unclean stop.
. "$TPLFS_TOP/tests/vm/lib.sh"
R=$TPLFS_SCRATCH/q
SOCK=/run/tplfsd-q.sock
T="$TPLFS_BIN/tplctl --socket $SOCK"
mkdir -p "$R"
"$TPLFS_BIN/tplfsd" --foreground --config /dev/null --root "$R" --store "$R/store" \
	--socket "$SOCK" >"$R/tplfsd.log" 2>&1 &
dpid=$!
t_wait_ready "$R/tplfsd.log" "$dpid" || exit 1
$T template import os@1 --from "$TPLFS_TOP/build/cache/busybox-template.tar.zst" >/dev/null &&
	$T ct create q1 --template os@1 --quota 64M:128M >/dev/null &&
	$T ct mount q1 >/dev/null || { echo "crash: set-up failed"; cat "$R/tplfsd.log"; exit 1; }
sync
# Files made durable one by one (dd's fsync), so that the private area holds
# more than the checkpoint taken at the mount; the one being written is lost
# or partial.
i=0
while :; do
	dd if=/dev/urandom of="$R/root/q1/f$i" bs=64K count=8 conv=fsync status=none
	i=$((i + 1))
done &
# the reset comes once three files are durable (f3 begun: f0-f2 synced),
# however long that takes
t_until "three files written and synced" test -e "$R/root/q1/f3" || exit 1
echo "crash: stage quota: writing, $(ls "$R/root/q1" | grep -c '^f') files begun"
echo b >/proc/sysrq-trigger
sleep 30
