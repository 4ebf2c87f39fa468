#!/bin/bash
# Mount options: each missing or bad one fails with a clear error naming it,
# in the kernel log (mount(2)) and through the mount API's log (fsopen).
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

mnt_err() { $SYS mount tplfs "$T_MNT" tplfs "$1"; }

expect_eq "no private= fails EINVAL" EINVAL "$(mnt_err "store=$T_STORE")"
expect_match "no private= is logged, naming the option" 'missing option private=' "$(t_last_log)"

expect_eq "no store= fails EINVAL" EINVAL "$(mnt_err "private=$T_PRIV")"
expect_match "no store= is logged, naming the option" 'missing option store=' "$(t_last_log)"

expect_eq "missing private dir fails ENOENT" ENOENT \
	"$(mnt_err "private=$PWD/nonexistent,store=$T_STORE")"
expect_match "missing private dir is logged" "private=$PWD/nonexistent: cannot resolve" "$(t_last_log)"

touch "$PWD/afile"
expect_eq "private= on a file fails ENOTDIR" ENOTDIR \
	"$(mnt_err "private=$PWD/afile,store=$T_STORE")"
expect_eq "store= on a file fails ENOTDIR" ENOTDIR \
	"$(mnt_err "private=$T_PRIV,store=$PWD/afile")"

for bad in UPPER -lead x/y "$(printf 'a%.0s' {1..64})"; do
	expect_eq "ct=$bad fails EINVAL" EINVAL \
		"$(mnt_err "private=$T_PRIV,store=$T_STORE,ct=$bad")"
done
expect_match "bad ct= is logged" 'ct=.*not a container id' "$(t_last_log)"

expect_eq "unknown option fails EINVAL" EINVAL \
	"$(mnt_err "private=$T_PRIV,store=$T_STORE,colour=blue")"
expect_eq "private= twice fails EINVAL" EINVAL \
	"$(mnt_err "private=$T_PRIV,private=$T_PRIV,store=$T_STORE")"
expect_eq "empty private= fails EINVAL" EINVAL \
	"$(mnt_err "private=,store=$T_STORE")"

out=$($SYS fsmount tplfs "store=$T_STORE")
expect_eq "fsopen without private= fails EINVAL" EINVAL "$(head -1 <<<"$out")"
expect_match "fsopen log channel names private=" '^e tplfs: missing option private=' \
	"$(sed -n 2p <<<"$out")"

# A good mount, and what /proc/mounts says of it.
name=$(printf 'a%.0s' {1..63})
expect_eq "a good mount succeeds" OK \
	"$(mnt_err "private=$T_PRIV,store=$T_STORE,ct=$name,volatile")"
line=$(grep " $T_MNT tplfs " /proc/mounts)
expect_match "options are shown in /proc/mounts" \
	"private=$T_PRIV,store=$T_STORE,ct=$name,volatile" "$line"
mkdir -p "$PWD/mnt2"
expect_eq "the same ct= twice fails EBUSY" EBUSY \
	"$($SYS mount tplfs "$PWD/mnt2" tplfs "private=$T_PRIV,store=$T_STORE,ct=$name")"
expect_match "duplicate ct= is logged" "ct=$name: already mounted" "$(t_last_log)"
expect_eq "another ct= mounts beside it" OK \
	"$($SYS mount tplfs "$PWD/mnt2" tplfs "private=$T_PRIV,store=$T_STORE,ct=other")"
umount "$PWD/mnt2"
umount "$T_MNT"
expect_eq "the ct= is free again after umount" OK \
	"$($SYS mount tplfs "$PWD/mnt2" tplfs "private=$T_PRIV,store=$T_STORE,ct=$name")"
umount "$PWD/mnt2"

# Only CAP_SYS_ADMIN in the initial user namespace may mount.
expect_eq "an unprivileged user cannot mount" EPERM \
	"$(setpriv --reuid 1000 --regid 1000 --clear-groups \
		$SYS mount tplfs "$T_MNT" tplfs "private=$T_PRIV,store=$T_STORE")"
expect_eq "root of a user namespace cannot mount" EPERM \
	"$(unshare --user --map-root-user --mount \
		$SYS mount tplfs "$T_MNT" tplfs "private=$T_PRIV,store=$T_STORE")"

# mount(8) works, and remount keeps the private area.
expect_ok "mount(8) mounts" mount -t tplfs -o "private=$T_PRIV,store=$T_STORE,ct=m8" tplfs "$T_MNT"
expect_ok "remount with the same options" mount -o remount "$T_MNT"
if mount -o "remount,private=$PWD" "$T_MNT" 2>/dev/null; then
	fail "remount may not change private="
else
	ok "remount may not change private="
fi
umount "$T_MNT"
