#!/bin/bash
# tplctl ct rebase on a mounted container (issue 17): the container moves
# from os@1 to os@2 while it runs. A file the template updated reads the
# new bytes in the same inode, a process holding the old one open reads
# the old and a program started before still runs; a file new in os@2
# appears (over a cached negative dentry), one os@2 removed goes; what
# the container changed stays (a conflict where both did); appenders
# racing the rebase lose no line; a second rebase changes nothing; os@1
# can then be removed.
. "$TPLFS_TOP/tests/vm/lib.sh"

t_daemon_places

t_tplfsd "$R" "$PWD/store" "$SOCK" "$LOG"
pids=""
stop_pids() { [ -z "$pids" ] || { kill $pids 2>/dev/null; wait $pids 2>/dev/null; pids=""; }; }
trap 'rc=$?; exec 9<&-; stop_pids; t_stop_tplfsd; (exit $rc); t_finish' EXIT
# os@1: the busybox template and three files; os@2: os@1 updated: a new
# busybox (bytes appended: it still runs), profile and passwd changed
# (the container changes passwd too), a file new, one removed, and the
# file the appenders write changed
src=$PWD/src
mkdir -p "$src"
tar --xattrs --xattrs-include='*' --numeric-owner -xpf "$TPL" -C "$src"
printf 'line0\n' >"$src/etc/appended"
printf 'old only\n' >"$src/etc/old-only"
printf 'export V=1\n' >"$src/etc/profile"
printf 'motd v1\n' >"$src/etc/motd"
$T template import os@1 --from "$src" >/dev/null || { fail "template import os@1"; exit 1; }
printf 'updated\n' >>"$src/bin/busybox"
printf 'export V=2\n' >"$src/etc/profile"
printf 'motd v2\n' >"$src/etc/motd"
printf 'root:x:0:0:root v2:/root:/bin/sh\n' >>"$src/etc/passwd"
printf 'new in 2\n' >"$src/etc/new-in-2"
printf 'line0 v2\n' >"$src/etc/appended"
rm "$src/etc/old-only"
$T template import os@2 --from "$src" >/dev/null || { fail "template import os@2"; exit 1; }

$T ct create r1 --template os@1 --quota 1G >/dev/null && $T ct mount r1 >/dev/null ||
	{ fail "ct create and mount"; exit 1; }
M=$R/root/r1
P=$R/private/r1/fs
ino=$(stat -c %i "$M/bin/busybox")
old_sum=$(sha256sum <"$M/bin/busybox")
# the container: passwd its own, a file of its own, profile's mode its own
echo "user:x:1000:1000::/home/user:/bin/sh" >>"$M/etc/passwd"
echo mine >"$M/etc/mine"
chmod 0600 "$M/etc/profile"
# a program started from the old busybox, and the old one held open
chroot "$M" /bin/busybox sleep 100000 &
sleeper=$!
pids="$pids $sleeper"
exec 9<"$M/bin/busybox"
# a negative dentry for the new file, a positive one for the removed
expect_eq "the new file is not there yet" no "$([ -e "$M/etc/new-in-2" ] && echo yes || echo no)"
expect_eq "the old one is" yes "$([ -e "$M/etc/old-only" ] && echo yes || echo no)"
# appenders racing the rebase: a line each, each its own open
( for i in $(seq 1 200); do echo "line$i" >>"$M/etc/appended"; done ) &
apid=$!
pids="$pids $apid"

out=$($T ct rebase r1 --to os@2 --dry-run)
expect_match "a dry run lists the conflict" 'conflict /etc/passwd: changed in both' "$out"
expect_eq "and changes nothing" "$old_sum" "$(sha256sum <"$M/bin/busybox")"
# the container ran the update itself: motd written with os@2's bytes,
# after the dry run (which reads it and so sets its atime): the rebase's
# read of it for its hash is its first since the write, which moves its
# atime, and on xfs its i_version
printf 'motd v2\n' >"$M/etc/motd"
out=$($T ct rebase r1 --to os@2)
expect_match "ct rebase of the mounted container" \
	'^r1: rebased from os@1 to os@2: [0-9]+ updated, 1 created, 1 removed, [0-9]+ kept, [12] conflicts, 0 merged, [01] busy; report: ' \
	"$(tail -1 <<<"$out")"
wait "$apid"
expect_eq "no appended line is lost" 200 "$(grep -c '^line[1-9]' "$M/etc/appended")"

new_sum=$(sha256sum <"$src/bin/busybox")
expect_eq "busybox reads as os@2's" "$new_sum" "$(sha256sum <"$M/bin/busybox")"
expect_eq "in the same inode" "$ino" "$(stat -c %i "$M/bin/busybox")"
expect_eq "a stub still" stub "$(t_is_stub "$P/bin/busybox")"
expect_eq "the descriptor held open reads the old one" "$old_sum" \
	"$(sha256sum <&9)"
expect_match "the program started before still runs" '^yes$' \
	"$(kill -0 "$sleeper" 2>/dev/null && echo yes)"
expect_match "and a new one runs the new busybox" '^ok$' \
	"$(chroot "$M" /bin/busybox echo ok 2>&1)"
expect_eq "profile: os@2's bytes" 'export V=2' "$(cat "$M/etc/profile")"
expect_eq "with the container's mode" 600 "$(stat -c %a "$M/etc/profile")"
expect_eq "motd, written by the container as os@2 has it, is a stub again" \
	"stub motd v2" "$(t_is_stub "$P/etc/motd") $(cat "$M/etc/motd")"
expect_match "passwd: the container's (a conflict)" '^user:x:1000' "$(tail -1 "$M/etc/passwd")"
expect_eq "its own file stays" mine "$(cat "$M/etc/mine")"
expect_eq "the new file appears" 'new in 2' "$(cat "$M/etc/new-in-2" 2>&1)"
expect_eq "the removed one is gone" no "$([ -e "$M/etc/old-only" ] && echo yes || echo no)"
expect_match "the report is kept" 'conflict /etc/passwd' "$(cat "$R/private/r1/rebase.report")"
expect_match "ct.conf names os@2" '^template = os@2$' "$(cat "$R/private/r1/ct.conf")"
expect_match "a second rebase changes nothing" \
	'^r1: rebased from os@2 to os@2: 0 updated, 0 created, 0 removed, 0 kept, 0 conflicts, 0 merged, 0 busy' \
	"$($T ct rebase r1 --to os@2 | tail -1)"
exec 9<&-
stop_pids
# os@1 stays in use only if a stub of its was left (an appender had it open)
if grep -q '^uses = .*os@1' "$R/private/r1/ct.conf"; then
	expect_match "a stub of os@1 left busy keeps os@1 in use" 'busy' \
		"$($T template rm os@1 2>&1)"
else
	expect_ok "os@1 is no longer used: template rm" $T template rm os@1
fi
expect_eq "no WARN or BUG" "" "$(dmesg | grep -E 'WARNING:|BUG:' | head -3)"
$T ct umount r1 >/dev/null || fail "ct umount"
