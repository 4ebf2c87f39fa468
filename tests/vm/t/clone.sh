#!/bin/bash
# Clones on a mounted container, through tplfsd and the module: ct unlink
# makes a running linked clone full by the module's copy-up of each stub;
# the file of a running program is left a stub (busy) and the clone stays
# linked until a second unlink once it stopped; what reads through the
# mount never changes; the quota counts the copies. ct create --clone full
# mounts and runs with no stub at all.
. "$TPLFS_TOP/tests/vm/lib.sh"

t_daemon_places

t_tplfsd "$R" "$PWD/store" "$SOCK" "$LOG"
trap 'rc=$?; [ -n "$held" ] && kill "$held" 2>/dev/null; t_stop_tplfsd; (exit $rc); t_finish' EXIT
$T template import os@1 --from "$TPL" >/dev/null || { fail "template import"; exit 1; }
$T ct create c1 --template os@1 >/dev/null && $T ct mount c1 >/dev/null ||
	{ fail "ct create and mount"; exit 1; }
M=$R/root/c1
P=$R/private/c1/fs
used() { $T --json ct quota "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["bytes"]["used"])'; }
stubs() { find "$1" -type f -exec getfattr --absolute-names -n trusted.tplfs.origin {} + 2>/dev/null | grep -c '^trusted.tplfs.origin='; }
sums() { (cd "$1" && find . -type f -exec sha256sum {} + | sort -k2); }

echo "its own" >>"$M/etc/profile"
before_sum=$(sums "$M")
before=$(used c1)
n=$(stubs "$P")
expect_match "the linked clone has stubs ($n)" '^[1-9][0-9]*$' "$n"
# a program running from the template's busybox
chroot "$M" /bin/busybox sleep 600 &
held=$!
# running once its exe is busybox (a hang, not a slow guest, ends the wait)
for _ in $(seq 3000); do
	case $(readlink "/proc/$held/exe") in *busybox*) break ;; esac
	sleep 0.1
done
expect_match "the program runs from the mount" busybox "$(readlink "/proc/$held/exe")"

out=$($T ct unlink c1)
expect_match "ct unlink of the running container" \
	'^c1: [1-9][0-9]* of [1-9][0-9]* stubs made private copies .*running programs left.*; a linked clone$' "$out"
expect_eq "the running program's file is left a stub" stub "$(t_is_stub "$P/bin/busybox")"
expect_eq "the others are private" "private private" \
	"$(t_is_stub "$P/etc/passwd") $(t_is_stub "$P/etc/group")"
expect_eq "ct status says linked" "linked" \
	"$($T --json ct status c1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["clone"])')"
expect_eq "every file reads as before" "$before_sum" "$(sums "$M")"
after=$(used c1)
expect_match "the quota counts the copies ($before -> $after)" '^yes$' \
	"$([ "$after" -gt "$before" ] && echo yes)"
kill "$held"; wait "$held" 2>/dev/null; held=
out=$($T ct unlink c1)
expect_match "stopped, a second unlink takes it" '^c1: 1 of 1 stubs made private copies .*; a full clone$' "$out"
expect_eq "no stub is left" 0 "$(stubs "$P")"
expect_eq "ct status says full" "full" \
	"$($T --json ct status c1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["clone"])')"
expect_eq "every file still reads as before" "$before_sum" "$(sums "$M")"
expect_match "programs run from the private busybox" '^ok$' \
	"$(chroot "$M" /bin/busybox echo ok 2>&1)"
$T ct umount c1 >/dev/null || fail "ct umount c1"

# a full clone from the start
out=$($T ct create c2 --template os@1 --clone full)
expect_match "ct create --clone full" '^c2: created from os@1, a full clone \([0-9]+ entries: 0 stubs, ' "$out"
expect_eq "it holds no stub" 0 "$(stubs "$R/private/c2/fs")"
$T ct mount c2 >/dev/null || fail "ct mount c2"
expect_match "it runs" '^ok$' "$(chroot "$R/root/c2" /bin/busybox echo ok 2>&1)"
$T ct umount c2 >/dev/null || fail "ct umount c2"
