#!/bin/bash
# Every namespace operation passes straight through to the private area:
# create, mkdir, rmdir, unlink, rename (directories too, no EXDEV;
# RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT), link (a stub's links
# stay a stub), symlink, mknod, O_TMPFILE. New files belong to the caller,
# setgid directories and the umask apply. Another container of the same
# template is unchanged after all of it.
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

src=$PWD/src
mkdir -p "$src/etc/sub" "$PWD/priv_b" "$PWD/mnt_b"
for f in etc/a etc/b etc/sub/c; do echo "template $f" >"$src/$f"; done
for p in "$T_PRIV" "$PWD/priv_b"; do
	mkdir -p "$p/etc/sub" "$p/shared"
	chmod 1777 "$p/shared"
	for f in etc/a etc/b etc/sub/c; do t_stub "$src/$f" "$p/$f"; done
done
t_mount ns-a
t_mount ns-b "$PWD/mnt_b" "$PWD/priv_b"
listing() { (cd "$1" && find . -printf '%p %y %m %U %G %s %n\n' | sort); }
before_b=$(listing "$PWD/mnt_b")
as() { local uid=$1; shift; setpriv --reuid "$uid" --regid "$uid" --clear-groups "$@"; }
M=$T_MNT

expect_ok "create" sh -c "echo new >'$M/new'"
expect_eq "create reaches the private area" "new" "$(cat "$T_PRIV/new")"
expect_eq "a new file is private" private "$(t_is_stub "$T_PRIV/new")"
expect_ok "mkdir" mkdir "$M/dir"
expect_ok "mkdir -p deep" mkdir -p "$M/dir/x/y/z"
expect_eq "mkdir reaches the private area" d "$(stat -c %F "$T_PRIV/dir/x/y/z" | cut -c1)"
expect_ok "symlink" ln -s ../etc/a "$M/dir/link"
expect_eq "symlink target" "../etc/a" "$(readlink "$T_PRIV/dir/link")"
expect_eq "read through the new symlink" "template etc/a" "$(cat "$M/dir/link")"
expect_ok "mkfifo" mkfifo "$M/dir/fifo"
expect_eq "mknod fifo" fifo "$(stat -c %F "$T_PRIV/dir/fifo")"
expect_ok "mknod char device" mknod "$M/dir/null" c 1 3
expect_eq "mknod char device numbers" "1 3" "$(stat -c '%t %T' "$T_PRIV/dir/null")"
expect_eq "the device works through the mount" "" "$(cat "$M/dir/null")"

# fsync of a directory makes a rename durable (PostgreSQL, dpkg, sqlite,
# git); it failed with EINVAL, ext4 returns 0
expect_ok "fsync of a directory" sync "$M/dir"
expect_ok "fdatasync of a directory" sync -d "$M/dir"
expect_ok "fsync of the mount's root" sync "$M"

expect_ok "hard link of a stub" ln "$M/etc/a" "$M/etc/a-link"
expect_eq "the link is the stub: same inode, nlink 2" \
	"$(stat -c %i "$T_PRIV/etc/a") 2 stub" \
	"$(stat -c '%i %h' "$T_PRIV/etc/a-link") $(t_is_stub "$T_PRIV/etc/a-link")"
expect_eq "and reads the template" "template etc/a" "$(cat "$M/etc/a-link")"
expect_eq "one inode through the mount too" "$(stat -c '%i %h' "$M/etc/a")" "$(stat -c '%i %h' "$M/etc/a-link")"
expect_ok "unlink of a stub" rm "$M/etc/a-link"
expect_eq "nlink drops" 1 "$(stat -c %h "$M/etc/a")"
expect_ok "unlink of a private file" rm "$M/new"
expect_eq "gone from the private area" "" "$(ls "$T_PRIV" | grep -x new)"
expect_match "rmdir of a non-empty directory fails" 'not empty' "$(rmdir "$M/dir/x" 2>&1)"
expect_ok "rmdir" rmdir "$M/dir/x/y/z"

# rename: files, stubs, directories, across directories.
expect_ok "rename a stub" mv "$M/etc/b" "$M/etc/b2"
expect_eq "a renamed stub stays a stub" "stub template etc/b" \
	"$(t_is_stub "$T_PRIV/etc/b2") $(cat "$M/etc/b2")"
expect_ok "rename a non-empty directory across directories" mv "$M/etc/sub" "$M/dir/sub"
expect_eq "its stubs moved with it" "template etc/sub/c" "$(cat "$M/dir/sub/c")"
expect_ok "rename over an existing file" sh -c "echo over >'$M/victim'; echo winner >'$M/w'; mv '$M/w' '$M/victim'"
expect_eq "the target is replaced" "winner" "$(cat "$M/victim")"
rn() { python3 - "$@" <<'PY'
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
flags = {"noreplace": 1, "exchange": 2, "whiteout": 4}[sys.argv[1]]
r = libc.renameat2(-100, sys.argv[2].encode(), -100, sys.argv[3].encode(), flags)
print("OK" if r == 0 else errno.errorcode[ctypes.get_errno()])
PY
}
echo one >"$M/one"; echo two >"$M/two"
expect_eq "RENAME_NOREPLACE onto an existing name: EEXIST" EEXIST "$(rn noreplace "$M/one" "$M/two")"
expect_eq "RENAME_NOREPLACE onto a free name" OK "$(rn noreplace "$M/one" "$M/three")"
expect_eq "RENAME_EXCHANGE" OK "$(rn exchange "$M/two" "$M/three")"
expect_eq "the two names swapped" "one two" "$(cat "$M/two") $(cat "$M/three")"
expect_eq "RENAME_EXCHANGE of a stub and a directory" OK "$(rn exchange "$M/etc/a" "$M/dir/x")"
expect_eq "swapped in the private area" "stub d" "$(t_is_stub "$T_PRIV/dir/x") $(stat -c %F "$T_PRIV/etc/a" | cut -c1)"
wo=$(rn whiteout "$M/three" "$M/four")
case "$wo" in
OK) expect_eq "RENAME_WHITEOUT leaves a whiteout (0:0 char device)" "character special file 0 0" \
	"$(stat -c '%F %t %T' "$T_PRIV/three")" ;;
EINVAL|EOPNOTSUPP) ok "RENAME_WHITEOUT is refused cleanly ($wo)" ;;
*) fail "RENAME_WHITEOUT: unexpected $wo" ;;
esac

# O_TMPFILE, then linked into the tree.
expect_eq "O_TMPFILE and linkat" "tmp data" "$(python3 - "$M/dir" <<'PY'
import ctypes, os, sys
d = sys.argv[1]
fd = os.open(d, os.O_TMPFILE | os.O_RDWR, 0o644)
os.write(fd, b"tmp data")
# linkat(fd, "", AT_EMPTY_PATH): the /proc/self/fd form fails with EXDEV in
# these guests on every filesystem (their /proc sits under switch_root).
libc = ctypes.CDLL(None, use_errno=True)
if libc.linkat(fd, b"", -100, os.path.join(d, "from-tmpfile").encode(), 0x1000):
    raise OSError(ctypes.get_errno(), "linkat")
os.close(fd)
print(open(os.path.join(d, "from-tmpfile")).read())
PY
)"
expect_eq "the tmpfile landed in the private area" "tmp data" "$(cat "$T_PRIV/dir/from-tmpfile")"

# Ownership: the caller's fsuid/fsgid, the setgid directory, the umask.
as 1000 sh -c "umask 022; echo u >'$M/shared/by-user'; mkdir '$M/shared/userdir'"
expect_eq "a new file belongs to its creator" "1000 1000 644" "$(stat -c '%u %g %a' "$T_PRIV/shared/by-user")"
expect_eq "a new directory too" "1000 1000" "$(stat -c '%u %g' "$T_PRIV/shared/userdir")"
mkdir "$M/sgid" && chgrp 2000 "$M/sgid" && chmod 2777 "$M/sgid"
as 1000 sh -c "umask 077; echo g >'$M/sgid/f'; mkdir '$M/sgid/d'"
expect_eq "setgid directory: group inherited, umask 077 applied" "1000 2000 600" \
	"$(stat -c '%u %g %a' "$T_PRIV/sgid/f")"
expect_eq "setgid directory: subdirectory inherits setgid" "2000 2700" \
	"$(stat -c '%g %a' "$T_PRIV/sgid/d")"
expect_match "a user cannot create in root's 0755 directory" 'Permission denied' \
	"$(as 1000 touch "$M/etc/nope" 2>&1)"
expect_match "a user cannot delete root's file in a sticky directory" 'not permitted' \
	"$(echo r >"$M/shared/roots"; as 1000 rm -f "$M/shared/roots" 2>&1)"

expect_eq "st_ino through the mount is the private one after all of it" \
	"$(stat -c %i "$T_PRIV/dir/sub/c")" "$(stat -c %i "$M/dir/sub/c")"
expect_eq "the other container is unchanged" "$before_b" "$(listing "$PWD/mnt_b")"
expect_eq "its private area too" "$(cd "$src" && find . -type f | sort)" \
	"$(cd "$PWD/priv_b" && find . -type f | sort)"
