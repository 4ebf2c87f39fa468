#!/bin/bash
# trusted.tplfs.* is invisible through the mount and cannot be set or removed,
# even by root; every other xattr passes through to the private inode.
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

printf 'data\n' >"$PWD/src"
t_stub "$PWD/src" "$T_PRIV/stub"
setfattr -n user.colour -v blue "$T_PRIV/stub"
echo private >"$T_PRIV/plain"
origin_before=$(getfattr --absolute-names -n trusted.tplfs.origin -e hex "$T_PRIV/stub" | sed -n 2p)
t_mount xattr

list=$(getfattr --absolute-names -d -m - "$T_MNT/stub" 2>&1)
expect_match "other xattrs are listed" 'user.colour="blue"' "$list"
if grep -q tplfs <<<"$list"; then
	fail "trusted.tplfs.origin is not listed: saw $list"
else
	ok "trusted.tplfs.origin is not listed"
fi
expect_eq "listxattr(2) does not show it either" "user.colour" \
	"$(python3 -c 'import os,sys; print(",".join(sorted(os.listxattr(sys.argv[1]))))' "$T_MNT/stub")"
expect_match "getxattr of the origin: no such attribute" 'No such attribute' \
	"$(getfattr --absolute-names -n trusted.tplfs.origin "$T_MNT/stub" 2>&1)"
expect_match "setting the origin is refused (EPERM)" 'Operation not permitted' \
	"$(setfattr -n trusted.tplfs.origin -v 0x00 "$T_MNT/stub" 2>&1)"
expect_match "removing the origin is refused (EPERM)" 'Operation not permitted' \
	"$(setfattr -x trusted.tplfs.origin "$T_MNT/stub" 2>&1)"
expect_match "forging an origin on a private file is refused" 'Operation not permitted' \
	"$(setfattr -n trusted.tplfs.origin -v "$origin_before" "$T_MNT/plain" 2>&1)"
expect_match "any trusted.tplfs. name is refused" 'Operation not permitted' \
	"$(setfattr -n trusted.tplfs.other -v 1 "$T_MNT/plain" 2>&1)"
expect_eq "the stub's origin is unchanged" "$origin_before" \
	"$(getfattr --absolute-names -n trusted.tplfs.origin -e hex "$T_PRIV/stub" | sed -n 2p)"
expect_eq "the private file got no origin" "" \
	"$(getfattr --absolute-names -n trusted.tplfs.origin "$T_PRIV/plain" 2>/dev/null)"

expect_ok "a user xattr can be set on a stub" setfattr -n user.size -v large "$T_MNT/stub"
expect_eq "it lands on the stub's private inode" "large" \
	"$(getfattr --absolute-names --only-values -n user.size "$T_PRIV/stub")"
expect_eq "the stub is still a stub (no data copied)" "0 data" \
	"$(stat -c %s "$T_PRIV/stub") $(cat "$T_MNT/stub")"
expect_ok "a user xattr can be removed" setfattr -x user.colour "$T_MNT/stub"
expect_eq "removed on the private inode" "" \
	"$(getfattr --absolute-names -n user.colour "$T_PRIV/stub" 2>/dev/null)"
expect_ok "trusted.* other than tplfs passes for root" setfattr -n trusted.other -v 1 "$T_MNT/plain"
expect_eq "and reads back" "1" "$(getfattr --absolute-names --only-values -n trusted.other "$T_MNT/plain")"
