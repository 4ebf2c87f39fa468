#!/bin/bash
# Permission checks use the file's own mode, owner and ACLs with the caller's
# credentials; the store is reached with the mounter's. chmod and chown of a
# stub change the stub only.
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

as() { local uid=$1; shift; setpriv --reuid "$uid" --regid "$uid" --clear-groups "$@"; }

printf 'secret\n' >"$PWD/src"
chmod 0600 "$PWD/src"
t_stub "$PWD/src" "$T_PRIV/secret"
printf 'public\n' >"$PWD/src2"
chmod 0644 "$PWD/src2"
t_stub "$PWD/src2" "$T_PRIV/public"
mkdir -m 0700 "$T_PRIV/closed"
t_stub "$PWD/src2" "$T_PRIV/closed/inside"
# The store itself is closed to everyone but root.
chmod 0700 "$T_STORE"
t_mount perms

expect_match "mode 0600 root's stub: EACCES for a user" 'Permission denied' \
	"$(as 1000 cat "$T_MNT/secret" 2>&1)"
expect_eq "a 0644 stub reads for a user, though the store is closed to him" "public" \
	"$(as 1000 cat "$T_MNT/public" 2>&1)"
expect_match "a 0700 directory keeps a user out" 'Permission denied' \
	"$(as 1000 cat "$T_MNT/closed/inside" 2>&1)"
expect_match "exec of a 0644 stub: EACCES" 'Permission denied' \
	"$(as 1000 "$T_MNT/public" 2>&1)"

expect_ok "chown of a stub" chown 1000:1000 "$T_MNT/secret"
expect_eq "the owner may now read it" "secret" "$(as 1000 cat "$T_MNT/secret" 2>&1)"
expect_ok "chmod of a stub" chmod 0640 "$T_MNT/secret"
expect_eq "mode and owner are the stub's" "640 1000 1000" "$(stat -c '%a %u %g' "$T_PRIV/secret")"
expect_eq "the stub stays a stub: nothing copied" 0 "$(stat -c %s "$T_PRIV/secret")"
expect_eq "the object's mode is untouched" 444 \
	"$(stat -c %a "$T_STORE/$("$TPLFS_BIN/tplfs-mkstub" --origin "$T_STORE" "$PWD/src" | sed -n 2p)")"
# utimensat() on the path (GNU touch opens the file for writing first,
# which is a copy-up trigger like any open for writing).
expect_ok "utimes of a stub" python3 -c 'import os,sys; os.utime(sys.argv[1], (1577836800, 1577836800))' "$T_MNT/secret"
expect_eq "times are the stub's, and it is still a stub" "1577836800 0" "$(stat -c '%Y %s' "$T_PRIV/secret")"
expect_match "a user may not chmod root's stub" 'Operation not permitted' \
	"$(as 1001 chmod 0777 "$T_MNT/public" 2>&1)"

# POSIX ACLs of the private inode apply.
expect_match "before the ACL, user 1001 is out" 'Permission denied' "$(as 1001 cat "$T_MNT/secret" 2>&1)"
setfacl -m u:1001:r "$T_PRIV/secret"
expect_eq "an ACL entry lets user 1001 read" "secret" "$(as 1001 cat "$T_MNT/secret" 2>&1)"
expect_match "getfacl through the mount shows it" 'user:1001:r--' "$(getfacl -pn "$T_MNT/secret" 2>&1)"
expect_match "user 1002 is still out" 'Permission denied' "$(as 1002 cat "$T_MNT/secret" 2>&1)"
expect_ok "setfacl through the mount" setfacl -m u:1002:r "$T_MNT/secret"
expect_eq "the ACL lets user 1002 read" "secret" "$(as 1002 cat "$T_MNT/secret" 2>&1)"
expect_match "the ACL is the stub's" 'user:1002:r--' "$(getfacl -pn "$T_PRIV/secret" 2>&1)"
expect_eq "an ACL change copies nothing" 0 "$(stat -c %s "$T_PRIV/secret")"
expect_ok "setfacl -b removes it" setfacl -b "$T_MNT/secret"
expect_match "user 1001 is out again" 'Permission denied' "$(as 1001 cat "$T_MNT/secret" 2>&1)"

# Writing needs write permission on the stub, as on any file.
expect_match "a user may not write root's 0644 stub" 'Permission denied' \
	"$( (as 1000 sh -c "echo x >>'$T_MNT/public'") 2>&1)"
expect_eq "and nothing was copied" "0 public" "$(stat -c %s "$T_PRIV/public") $(cat "$T_MNT/public")"

# A mode changed in the private area under the mount (as tplfsd may) holds
# at the next access, in RCU-walk as in ref-walk: the cached inode is not
# trusted past the private inode.
chmod 0644 "$T_PRIV/secret"
expect_eq "a mode opened underneath lets a user read" "secret" "$(as 1001 cat "$T_MNT/secret" 2>&1)"
chmod 0600 "$T_PRIV/secret"
expect_match "a mode closed underneath keeps him out at once" 'Permission denied' \
	"$(as 1001 cat "$T_MNT/secret" 2>&1)"
expect_match "and his access(2) says so" '^no$' \
	"$(as 1001 sh -c "test -r '$T_MNT/secret' && echo yes || echo no")"

# The mounter is checked on the private inode too (as overlayfs does): with a
# mounter that cannot read a user's 0600 file, root through the mount cannot
# either, and access(2) agrees with open(2).
mkdir -p "$PWD/p2/sub" "$PWD/m2"
printf 'mine\n' >"$PWD/p2/sub/mine"
printf 'open\n' >"$PWD/p2/sub/open"
chown 1000:1000 "$PWD/p2/sub/mine"
chmod 0600 "$PWD/p2/sub/mine"
expect_ok "mount by a mounter without DAC override" \
	setpriv --bounding-set -dac_override,-dac_read_search \
	mount -t tplfs -o "private=$PWD/p2,store=$T_STORE,ct=nodac" tplfs "$PWD/m2"
expect_match "root cannot open the user's file through that mount" 'Permission denied' \
	"$(cat "$PWD/m2/sub/mine" 2>&1)"
expect_eq "and access(2) says the same" no \
	"$(test -r "$PWD/m2/sub/mine" && echo yes || echo no)"
expect_eq "a file the mounter may read reads" open "$(cat "$PWD/m2/sub/open" 2>&1)"
umount "$PWD/m2"
