#!/bin/bash
# A private area without stubs: lookup, getattr, readdir, readlink pass
# through with st_ino of the private inode, and every file operation on a
# private file (read, write, fsync, truncate, fallocate, mmap) reaches it.
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

# A private area with every kind of entry.
mkdir -p "$T_PRIV/etc/sub" "$T_PRIV/empty"
printf 'hello\n' >"$T_PRIV/etc/hello"
: >"$T_PRIV/etc/zero"
head -c 8M /dev/urandom >"$T_PRIV/big"
truncate -s 1G "$T_PRIV/sparse"
printf 'tail' | dd of="$T_PRIV/sparse" bs=1 seek=$((512 << 20)) conv=notrunc status=none
ln -s ../../big "$T_PRIV/etc/sub/link"
ln -s /nonexistent/target "$T_PRIV/dangling"
ln "$T_PRIV/etc/hello" "$T_PRIV/hardlink"
mkfifo "$T_PRIV/fifo"
mknod "$T_PRIV/null" c 1 3
chmod 0640 "$T_PRIV/etc/hello"
chown 1000:1000 "$T_PRIV/etc/zero"
touch -d '2001-02-03 04:05:06' "$T_PRIV/etc/zero"
for i in $(seq 1 300); do echo "$i" >"$T_PRIV/etc/sub/f$i"; done

mount -t tplfs -o "private=$T_PRIV,store=$T_STORE,ct=read" tplfs "$T_MNT" ||
	{ fail "mount"; exit 1; }

# stat of every entry: type, mode, owner, size, times, nlink and inode
# number equal the private area's; st_dev is the tplfs mount's own.
listing() { (cd "$1" && find . -printf '%p %y %m %U %G %s %T@ %n %i %l\n' | sort); }
expect_eq "stat of every entry matches the private area" \
	"$(listing "$T_PRIV")" "$(listing "$T_MNT")"
expect_eq "st_dev is the mount's" "$(stat -c %d "$T_MNT")" "$(stat -c %d "$T_MNT/etc/hello")"
if [ "$(stat -c %d "$T_MNT")" != "$(stat -c %d "$T_PRIV")" ]; then
	ok "st_dev differs from the private area's"
else
	fail "st_dev differs from the private area's: both $(stat -c %d "$T_MNT")"
fi

# readdir: names, d_type and d_ino as in the private area.
expect_eq "readdir (d_type, d_ino) of the root" \
	"$($SYS scandir "$T_PRIV")" "$($SYS scandir "$T_MNT")"
expect_eq "readdir of a 300-entry directory" \
	"$($SYS scandir "$T_PRIV/etc/sub")" "$($SYS scandir "$T_MNT/etc/sub")"
expect_eq "empty directory lists nothing" "" "$(ls -A "$T_MNT/empty")"

# Contents.
expect_eq "small file reads" "hello" "$(cat "$T_MNT/etc/hello")"
expect_eq "empty file reads empty" "0" "$(wc -c <"$T_MNT/etc/zero")"
expect_eq "8 MiB file reads identically" \
	"$(sha256sum <"$T_PRIV/big")" "$(sha256sum <"$T_MNT/big")"
expect_eq "read at the end of a sparse file" \
	"$(tail -c 4096 "$T_PRIV/sparse" | sha256sum)" "$(tail -c 4096 "$T_MNT/sparse" | sha256sum)"
expect_eq "read past a 512 MiB hole" "tail" \
	"$(dd if="$T_MNT/sparse" bs=1 skip=$((512 << 20)) count=4 status=none)"
expect_eq "a hard link reads the same" "hello" "$(cat "$T_MNT/hardlink")"
expect_eq "hard links are one inode" \
	"$(stat -c %i "$T_MNT/etc/hello")" "$(stat -c %i "$T_MNT/hardlink")"
expect_eq "a read through a symlink" \
	"$(sha256sum <"$T_PRIV/big")" "$(sha256sum <"$T_MNT/etc/sub/link")"
expect_eq "readlink" "../../big" "$(readlink "$T_MNT/etc/sub/link")"
expect_eq "readlink of a dangling symlink" "/nonexistent/target" "$(readlink "$T_MNT/dangling")"
expect_eq "a device node works" "0" "$(head -c 10 "$T_MNT/null" | wc -c)"

# Lookups that must fail.
if stat "$T_MNT/nope" 2>/dev/null; then fail "a missing name is ENOENT"; else ok "a missing name is ENOENT"; fi
expect_match "a missing name says so" 'No such file' "$(cat "$T_MNT/etc/nope" 2>&1)"
# The private area changes underneath: a name created after a failed lookup appears.
echo late >"$T_PRIV/etc/late"
expect_eq "a file created in the private area after a miss" "late" "$(cat "$T_MNT/etc/late")"

# Permissions are the file's own, checked with the caller's credentials.
expect_match "mode 0640 keeps others out" 'Permission denied' \
	"$(setpriv --reuid 1001 --regid 1001 --clear-groups cat "$T_MNT/etc/hello" 2>&1)"
expect_eq "the owner may read" "hello" \
	"$(chown 1001 "$T_PRIV/etc/hello"; setpriv --reuid 1001 --regid 1001 --clear-groups cat "$T_MNT/etc/hello" 2>&1)"

# Private files (not stubs) pass every file operation through.
echo appended >>"$T_MNT/etc/hello"
expect_eq "an append lands in the private file" "$(printf 'hello\nappended')" "$(cat "$T_PRIV/etc/hello")"
expect_eq "and reads back through the mount" "$(printf 'hello\nappended')" "$(cat "$T_MNT/etc/hello")"
expect_eq "stat sees the new size" "$(stat -c %s "$T_PRIV/etc/hello")" "$(stat -c %s "$T_MNT/etc/hello")"
expect_ok "a write with fsync" dd if=/dev/zero of="$T_MNT/big" bs=4k count=4 conv=notrunc,fsync status=none
expect_ok "fdatasync" python3 -c 'import os,sys; fd=os.open(sys.argv[1],os.O_WRONLY); os.write(fd,b"x"); os.fdatasync(fd)' "$T_MNT/etc/zero"
expect_eq "the private file holds the write" "x" "$(head -c 1 "$T_PRIV/etc/zero")"
expect_ok "truncate of a private file" truncate -s 3 "$T_MNT/etc/hello"
expect_eq "truncated in the private area" "hel" "$(cat "$T_PRIV/etc/hello")"
expect_ok "fallocate of a private file" fallocate -l 1M "$T_MNT/etc/zero"
expect_eq "fallocate reached the private file" $((1 << 20)) "$(stat -c %s "$T_PRIV/etc/zero")"
expect_ok "chmod through the mount" chmod 0600 "$T_MNT/etc/hello"
expect_eq "chmod reached the private inode" 600 "$(stat -c %a "$T_PRIV/etc/hello")"
expect_eq "and the mount sees it" 600 "$(stat -c %a "$T_MNT/etc/hello")"
expect_eq "a shared writable mmap writes the private file" "Y" \
	"$(python3 -c 'import mmap,sys
f=open(sys.argv[1],"r+b"); m=mmap.mmap(f.fileno(),0); m[0:1]=b"Y"; m.flush(); m.close()' "$T_MNT/big"; head -c 1 "$T_PRIV/big")"

expect_eq "statfs reports tplfs" 0x54504c46 "$($SYS statfs "$T_MNT")"
expect_eq "df works" 0 "$(df "$T_MNT" >/dev/null; echo $?)"

umount "$T_MNT"
expect_eq "after umount the private area keeps the writes" "hel" "$(cat "$T_PRIV/etc/hello")"
