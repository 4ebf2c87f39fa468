#!/bin/bash
# p2v reboot test, crashing boot (issue 20: "a reboot of the destination"):
# a p2v over ssh is transferring into its staging area when the machine is
# reset without syncing (sysrq-b). The server's filesystems were synced
# before; what the transfer wrote is as a power cut leaves it.
. "$TPLFS_TOP/tests/vm/lib.sh"
. "$TPLFS_TOP/tests/vm/p2v-lib.sh"
p2v_crash_places
mkdir -p "$R"
p2v_server_make "$D" "$TPLFS_TOP/build/cache/busybox-template.tar.zst" 64 || exit 1
sync
p2v_sshd "$D" || exit 1
"$TPLFS_BIN/tplfsd" --foreground --config /dev/null --root "$R" --store "$D/store" \
	--socket "$SOCK" >"$D/tplfsd.log" 2>&1 &
t_wait_ready "$D/tplfsd.log" $! || exit 1
$T template import os@1 --from "$TPLFS_TOP/build/cache/busybox-template.tar.zst" >/dev/null ||
	{ echo "crash: set-up failed"; exit 1; }
sync
# held in /home's pass, a third of its random file through
RSYNC_RSH="$RELAY --count $D/sent --hold-after 1000000 --held $D/held -- $SSH" \
	$T ct p2v c1 --from "$FROM" --mount /home >"$D/first.out" 2>&1 &
t_until "the transfer to be held" test -e "$D/held" || exit 1
echo "crash: stage p2v: transferring, $(find "$R/private/.c1.p2v/fs" | wc -l) entries staged"
echo b >/proc/sysrq-trigger
sleep 30
