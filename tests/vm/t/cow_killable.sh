#!/bin/bash
# A task waiting behind another's copy-up of the same file can be killed
# (the copy-up lock is taken killably, as ovl_copy_up_start does): with the
# private filesystem frozen, a first writer holds the lock, blocked in the
# copy-up; a second waits for the lock and is killed; it is gone at once,
# the first finishes after the thaw, and the file is the template's.
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

mkdir -p "$PWD/src"
head -c $((256 << 10)) /dev/urandom >"$PWD/src/big"
t_stub "$PWD/src/big" "$T_PRIV/big"
t_mount killable
fs=$(findmnt -n -o TARGET --target "$T_PRIV")
state() { awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null; }
# at PID FUNCTION [!FUNCTION]: asleep (D: uninterruptible or killable)
# with FUNCTION in its kernel stack, and not the other. The state alone is
# not enough: a python starting up sleeps in D too, on the 9p root's pages,
# and a writer taken for blocked there let the second one reach the
# copy-up first (and block, unkillably, on the frozen filesystem).
at() {
	test "$(state "$1")" = D &&
		grep -q "$2" "/proc/$1/stack" 2>/dev/null &&
		{ [ -z "${3:-}" ] || ! grep -q "${3#!}" "/proc/$1/stack"; }
}
gone() { test ! -e "/proc/$1"; }
writer='import os, sys; os.close(os.open(sys.argv[1], os.O_RDWR))'

# never leave the scratch disk frozen, whatever fails
trap 'rc=$?; fsfreeze -u "$fs" 2>/dev/null; (exit $rc); t_finish' EXIT
expect_ok "the private filesystem freezes" fsfreeze -f "$fs"
python3 -c "$writer" "$T_MNT/big" &
first=$!
t_until "the first writer blocks in its copy-up, on the frozen filesystem" \
	at $first tplfs_change_begin
python3 -c "$writer" "$T_MNT/big" &
second=$!
t_until "the second writer waits for the lock" at $second tplfs_copy_up '!tplfs_change_begin'
kill -KILL $second
t_until "the killed writer is gone while the copy-up still waits" \
	gone $second
expect_eq "the first writer is still waiting" D "$(state $first)"
expect_ok "the private filesystem thaws" fsfreeze -u "$fs"
wait $first
expect_eq "the first writer's copy-up finishes" 0 $?
wait $second
expect_eq "the second was killed" 137 $?
expect_eq "the file is the template's" "$(sha256sum <"$PWD/src/big")" \
	"$(sha256sum <"$T_MNT/big")"
expect_eq "and private now" "" \
	"$(getfattr --absolute-names -n trusted.tplfs.origin "$T_PRIV/big" 2>/dev/null)"

umount "$T_MNT"
