#!/bin/bash
# Quota crash test, the boot after: the container mounts at once with the
# usage of its last checkpoint (the rescan is held back until that is seen), and
# the background rescan then makes the usage exactly what an independent
# count of the private area finds.
. "$TPLFS_TOP/tests/vm/lib.sh"
R=$TPLFS_SCRATCH/q
SOCK=/run/tplfsd-q.sock
T="$TPLFS_BIN/tplctl --socket $SOCK"
FS=$R/private/q1/fs
j() { $T --json ct quota q1 | python3 -c "import json,sys; r=json.load(sys.stdin)['result']; print($1)"; }
kget() { "$TPLFS_BIN/tplfs-chan" quota-get q1 | sed -n "s/^$1=//p"; }

expect_match "quota.usage is a checkpoint of an unclean stop" "state = mounted" \
	"$(cat "$R/private/q1/quota.usage")"
checkpoint=$(sed -n 's/^bytes = //p' "$R/private/q1/quota.usage")
gate=$R/rescan-may-begin
rm -f "$gate"
TPLFSD_TEST_PAUSE=ct.rescan:begin@$gate "$TPLFS_BIN/tplfsd" --foreground --config /dev/null \
	--root "$R" --store "$R/store" --socket "$SOCK" >"$R/tplfsd.log" 2>&1 &
dpid=$!
trap 'rc=$?; kill $dpid; wait $dpid; (exit $rc); t_finish' EXIT
t_wait_ready "$R/tplfsd.log" "$dpid" || exit 1
expect_ok "the container mounts" $T ct mount q1
expect_eq "at once, with the checkpoint's usage, not yet exact" "$checkpoint False" \
	"$(kget bytes_used) $(j "r['exact']")"
touch "$gate"
exact() { [ "$(j "r['exact']")" = True ]; }
t_until "the rescan ends" exact
expect_eq "the background rescan converges to the true usage" \
	"$(python3 "$TPLFS_TOP/tests/vm/tools/usage.py" "$FS")" \
	"$(kget bytes_used) $(kget inodes_used)"
echo "  checkpoint $checkpoint bytes; after the rescan $(kget bytes_used)"
expect_match "the files written after the checkpoint are counted" "^yes$" \
	"$([ "$(kget bytes_used)" -gt "$checkpoint" ] && echo yes)"
expect_match "the rescan is logged" "ct q1: usage rescanned" "$(cat "$R/tplfsd.log")"
expect_ok "the container umounts" $T ct umount q1
