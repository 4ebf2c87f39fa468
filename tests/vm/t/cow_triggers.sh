#!/bin/bash
# Copy-on-write: every trigger turns a stub into a private file holding the
# right data, in the stub's own inode (st_ino, links, owner, mode, xattrs and
# file capabilities stay), and another container of the same template and
# the object itself stay unchanged.
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

src=$PWD/src
mkdir -p "$src" "$PWD/priv_b" "$PWD/mnt_b"
triggers="append otrunc shrink extend middle fallocate mmapw ftruncate reader hardlink caps suid xattrs"
for f in $triggers; do
	printf '0123456789 template %s\n' "$f" >"$src/$f"
done
head -c 3M /dev/urandom >"$src/large"
chmod 0640 "$src/xattrs"
chown 1000:1000 "$src/xattrs"
chmod 04777 "$src/suid"
for f in $triggers large; do
	t_stub "$src/$f" "$T_PRIV/$f"
	t_stub "$src/$f" "$PWD/priv_b/$f"
done
ln "$T_PRIV/hardlink" "$T_PRIV/hardlink2"
setfattr -n user.note -v kept "$T_PRIV/xattrs"
setcap cap_net_raw+ep "$T_PRIV/caps"
t_mount cow-a
t_mount cow-b "$PWD/mnt_b" "$PWD/priv_b"

tracing=$(t_tracefs)
echo 1 >"$tracing/events/tplfs/tplfs_copy_up/enable"
echo >"$tracing/trace"

declare -A ino
for f in $triggers large; do ino[$f]=$(stat -c %i "$T_PRIV/$f"); done

echo more >>"$T_MNT/append"
expect_eq "append: data" "$(cat "$src/append"; echo more)" "$(cat "$T_MNT/append")"
: >"$T_MNT/otrunc"
expect_eq "O_TRUNC: empty" 0 "$(stat -c %s "$T_MNT/otrunc")"
truncate -s 5 "$T_MNT/shrink"
expect_eq "truncate smaller" "01234" "$(cat "$T_MNT/shrink")"
truncate -s 100 "$T_MNT/extend"
expect_eq "truncate larger: data then zeros" \
	"$( (cat "$src/extend"; head -c $((100 - $(stat -c %s "$src/extend"))) /dev/zero) | sha256sum)" \
	"$(sha256sum <"$T_MNT/extend")"
printf 'XY' | dd of="$T_MNT/middle" bs=1 seek=3 conv=notrunc status=none
expect_eq "a write in the middle" "012XY56789 template middle" "$(cat "$T_MNT/middle")"
fallocate -o 0 -l 4096 "$T_MNT/fallocate"
expect_eq "fallocate: size and data" "4096 0123456789" \
	"$(stat -c %s "$T_MNT/fallocate") $(head -c 10 "$T_MNT/fallocate")"
python3 -c 'import mmap,sys
f=open(sys.argv[1],"r+b"); m=mmap.mmap(f.fileno(),0); m[0:2]=b"MM"; m.flush()' "$T_MNT/mmapw"
expect_eq "a shared writable mmap" "MM23456789" "$(head -c 10 "$T_MNT/mmapw")"
python3 -c 'import os,sys
fd=os.open(sys.argv[1],os.O_RDWR); os.ftruncate(fd,3)' "$T_MNT/ftruncate"
expect_eq "ftruncate" "012" "$(cat "$T_MNT/ftruncate")"

# A reader opened before the copy-up sees the private data after it.
expect_eq "an fd opened before a copy-up reads the new data" "0123456789|changed" \
	"$(python3 -c 'import os,sys,subprocess
fd=os.open(sys.argv[1],os.O_RDONLY); a=os.pread(fd,10,0)
subprocess.run(["sh","-c","printf changed >\"$0\"",sys.argv[1]],check=True)
print(a.decode()+"|"+os.pread(fd,20,0).decode())' "$T_MNT/reader")"

echo via-link >>"$T_MNT/hardlink2"
expect_eq "a write through one hard link shows through the other" \
	"$(cat "$src/hardlink"; echo via-link)" "$(cat "$T_MNT/hardlink")"
expect_eq "the links stay one inode with nlink 2" "${ino[hardlink]} 2 ${ino[hardlink]} 2" \
	"$(stat -c '%i %h' "$T_MNT/hardlink") $(stat -c '%i %h' "$T_MNT/hardlink2")"

# Opening for reading and writing copies up (a shared writable mapping may
# follow); the copy must not lose file capabilities (a write itself drops
# them, as on any filesystem).
python3 -c 'import os,sys; os.close(os.open(sys.argv[1],os.O_RDWR))' "$T_MNT/caps"
expect_match "file capabilities survive copy-up" 'cap_net_raw=ep' "$(getcap "$T_PRIV/caps")"
expect_eq "and the data came along" "$(cat "$src/caps")" "$(cat "$T_MNT/caps")"
echo x >>"$T_MNT/xattrs"
expect_eq "owner, mode and xattrs survive copy-up" "640 1000 1000 kept" \
	"$(stat -c '%a %u %g' "$T_PRIV/xattrs") $(getfattr --absolute-names --only-values -n user.note "$T_PRIV/xattrs")"
setpriv --reuid 1001 --regid 1001 --clear-groups sh -c "echo x >>'$T_MNT/suid'"
expect_eq "a non-owner's write clears setuid" 777 "$(stat -c %a "$T_PRIV/suid")"

# Reading does not copy up; writing the large one copies 3 MiB.
cat "$T_MNT/large" >/dev/null
expect_eq "reading leaves a stub" stub "$(t_is_stub "$T_PRIV/large")"
printf 'Z' | dd of="$T_MNT/large" bs=1 seek=$((1 << 20)) conv=notrunc status=none
expect_eq "a copied-up large file" \
	"$( (head -c $((1 << 20)) "$src/large"; printf Z; tail -c +$(((1 << 20) + 2)) "$src/large") | sha256sum)" \
	"$(sha256sum <"$T_MNT/large")"

for f in $triggers large; do
	expect_eq "$f: now private, same inode" "private ${ino[$f]}" \
		"$(t_is_stub "$T_PRIV/$f") $(stat -c %i "$T_MNT/$f")"
	expect_eq "$f: the other container is unchanged" \
		"$(sha256sum <"$src/$f")" "$(sha256sum <"$PWD/mnt_b/$f")"
	expect_eq "$f: its stub is still a stub" stub "$(t_is_stub "$PWD/priv_b/$f")"
done
expect_eq "no object changed" "" \
	"$(for f in $triggers large; do
		o=$T_STORE/$("$TPLFS_BIN/tplfs-mkstub" --origin "$T_STORE" "$src/$f" | sed -n 2p)
		[ -f "$o" ] || echo "$f: object missing"
	done)"
expect_eq "the hidden caps backup is gone" "" \
	"$(getfattr --absolute-names -n trusted.tplfs.caps "$T_PRIV/caps" 2>/dev/null)"

trace=$(cat "$tracing/trace")
echo 0 >"$tracing/events/tplfs/tplfs_copy_up/enable"
expect_match "the tracepoint marks the 3 MiB copy-up" \
	"tplfs_copy_up: .* ino=${ino[large]} bytes=$((3 << 20)) ns=[0-9]+ data=1 synced=1 err=0" "$trace"
expect_match "and the O_TRUNC one, without data and so without an fdatasync" \
	"tplfs_copy_up: .* ino=${ino[otrunc]} bytes=0 ns=[0-9]+ data=0 synced=0 err=0" "$trace"
expect_eq "one event per copy-up" 14 "$(grep -c 'tplfs_copy_up:' <<<"$trace")"

# The counters, in /proc/self/mountstats (otrunc and reader were
# emptied by O_TRUNC: no data copied).
stats=$(grep " mounted on $T_MNT with fstype tplfs" /proc/self/mountstats)
expect_match "mountstats counts 14 copy-ups" ' copy_ups=14 ' "$stats"
bytes=0
for f in $triggers large; do
	case $f in otrunc|reader) ;; *) bytes=$((bytes + $(stat -c %s "$src/$f"))) ;; esac
done
expect_match "and the bytes they copied" " copy_up_bytes=$bytes " "$stats"
expect_match "and the time they took" ' copy_up_ns=[1-9][0-9]* ' "$stats"
expect_match "the other container copied nothing" ' copy_ups=0 copy_up_bytes=0 ' \
	"$(grep " mounted on $PWD/mnt_b with fstype tplfs" /proc/self/mountstats)"
