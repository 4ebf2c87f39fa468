#!/bin/bash
# p2v reboot test, the boot after: the same command, run again after the
# reset, resumes into the staging area the power cut left, and the
# container it makes equals the server.
. "$TPLFS_TOP/tests/vm/lib.sh"
. "$TPLFS_TOP/tests/vm/p2v-lib.sh"
p2v_crash_places
p2v_server_mount "$D" || { fail "the server mounted again"; exit 1; }
trap 'rc=$?; [ -n "${dpid:-}" ] && kill "$dpid" && wait "$dpid"; p2v_cleanup "$D"; (exit $rc); t_finish' EXIT
p2v_sshd "$D" || exit 1
from=$(($(wc -l <"$D/tplfsd.log") + 1))
"$TPLFS_BIN/tplfsd" --foreground --config /dev/null --root "$R" --store "$D/store" \
	--socket "$SOCK" >>"$D/tplfsd.log" 2>&1 &
dpid=$!
t_wait_ready "$D/tplfsd.log" "$dpid" "$from" || exit 1
expect_eq "the staging area is there after the reset" yes \
	"$([ -d "$R/private/.c1.p2v/fs" ] && echo yes)"
out=$(RSYNC_RSH="$RELAY --count $D/sent -- $SSH" \
	$T ct p2v c1 --from "$FROM" --mount /home --final --template os@1 2>&1)
expect_match "the same command resumes and makes the container" '^c1: a container now' "$out"
$T ct mount c1 >/dev/null || fail "ct mount c1"
expect_match "the container equals the server (contents, metadata, hard links)" '^trees equal' \
	"$(python3 "$TPLFS_TOP/tests/vm/tools/treecmp.py" --meta "${P2V_SKIP[@]}" "$SRV" "$R/root/c1" 2>&1 | tail -1)"
$T ct umount c1 >/dev/null || fail "ct umount c1"
exit "$t_failures"
