#!/bin/bash
# FIEMAP through the mount is the real filesystem's answer: for a private
# file the private inode's extents, for a stub its object's (the data it
# reads), for FIEMAP_FLAG_XATTR the private inode's; the flags the real
# filesystem supports (SYNC, XATTR) work, and an unsupported flag gets its
# EBADR with its list of what it does not support. tplfs had no ->fiemap:
# every FIEMAP failed with EOPNOTSUPP. Run on ext4 and xfs.
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

FIEMAP="python3 $TPLFS_TOP/tests/vm/tools/fiemap.py"
src=$PWD/src
mkdir -p "$src" "$T_PRIV/d"
head -c 300000 /dev/urandom >"$src/data"
t_stub "$src/data" "$T_PRIV/d/stub"
head -c 200000 /dev/urandom >"$T_PRIV/d/private"
sync
obj=$(find "$T_STORE/objects" -type f | head -1)
[ -n "$obj" ] || fail "no object in the store"
t_mount fm
M=$T_MNT

expect_match "a private file has extents on the bare filesystem (reference)" \
	'^ok 0x0 [1-9]' "$($FIEMAP "$T_PRIV/d/private")"
expect_eq "a private file's extents are the private inode's" \
	"$($FIEMAP "$T_PRIV/d/private")" "$($FIEMAP "$M/d/private")"
expect_eq "a stub's extents are its object's" \
	"$($FIEMAP "$obj")" "$($FIEMAP "$M/d/stub")"
for flags in sync xattr sync+xattr; do
	expect_eq "FIEMAP_FLAG ${flags^^} on a private file" \
		"$($FIEMAP "$T_PRIV/d/private" $flags)" \
		"$($FIEMAP "$M/d/private" $flags)"
done
expect_eq "FIEMAP_FLAG_XATTR on a stub: the private inode's xattrs" \
	"$($FIEMAP "$T_PRIV/d/stub" xattr)" "$($FIEMAP "$M/d/stub" xattr)"
expect_match "an unsupported flag: EBADR on the bare filesystem (reference)" \
	'^EBADR ' "$($FIEMAP "$T_PRIV/d/private" 0xffffffff)"
expect_eq "an unsupported flag: the same EBADR and flags through the mount" \
	"$($FIEMAP "$T_PRIV/d/private" 0xffffffff)" \
	"$($FIEMAP "$M/d/private" 0xffffffff)"
expect_eq "the stub is still a stub" stub "$(t_is_stub "$T_PRIV/d/stub")"

# after a copy-up the extents are the private file's
expect_ok "copy-up by a write" dd if=/dev/zero of="$M/d/stub" bs=1 count=1 \
	conv=notrunc status=none
sync
expect_eq "a copied-up file's extents are the private inode's" \
	"$($FIEMAP "$T_PRIV/d/stub" sync)" "$($FIEMAP "$M/d/stub" sync)"
