#!/bin/bash
# Reading through stubs: contents equal the objects (small, empty, 100 MiB,
# sparse), stat comes from the stub and its origin, and read, mmap, splice,
# SEEK_DATA/SEEK_HOLE and fadvise are the object's.
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

src=$PWD/src
mkdir -p "$src" "$T_PRIV/d"
printf 'hello stub\n' >"$src/small"
: >"$src/empty"
head -c 100M /dev/urandom >"$src/big"
truncate -s 64M "$src/sparse"
printf 'middle' | dd of="$src/sparse" bs=1 seek=$((32 << 20)) conv=notrunc status=none
chown 1000:1001 "$src/small"
chmod 0750 "$src/small"
touch -d '2001-02-03 04:05:06' "$src/small"
for f in small empty big sparse; do
	t_stub "$src/$f" "$T_PRIV/d/$f"
done
# Make the sparse object really sparse, as an import of a sparse file would.
obj=$T_STORE/$("$TPLFS_BIN/tplfs-mkstub" --origin "$T_STORE" "$src/sparse" | sed -n 2p)
chmod u+w "$obj" && cp --sparse=always "$src/sparse" "$obj" && chmod 0444 "$obj"

t_mount stubread

for f in small empty big sparse; do
	expect_eq "$f reads as its object" \
		"$(sha256sum <"$src/$f")" "$(sha256sum <"$T_MNT/d/$f")"
	expect_eq "$f: size, mode, owner, mtime as the template file" \
		"$(stat -c '%s %a %u %g %Y' "$src/$f")" "$(stat -c '%s %a %u %g %Y' "$T_MNT/d/$f")"
	expect_eq "$f: st_ino is the stub's" \
		"$(stat -c %i "$T_PRIV/d/$f")" "$(stat -c %i "$T_MNT/d/$f")"
	expect_eq "$f: the stub itself stays empty" 0 "$(stat -c %s "$T_PRIV/d/$f")"
done
expect_eq "st_blocks of a stub: as a fully written file" \
	$(((100 << 20) / 512)) "$(stat -c %b "$T_MNT/d/big")"
expect_eq "st_blocks of an empty stub" 0 "$(stat -c %b "$T_MNT/d/empty")"
expect_eq "ls -l shows the origin's size" \
	"$((100 << 20))" "$(ls -l "$T_MNT/d/big" | awk '{print $5}')"

py() { python3 -c "$@"; }
expect_eq "mmap reads the object" "$(sha256sum <"$src/big" | cut -d' ' -f1)" \
	"$(py 'import mmap,sys,hashlib
f=open(sys.argv[1],"rb"); m=mmap.mmap(f.fileno(),0,prot=mmap.PROT_READ)
print(hashlib.sha256(m).hexdigest())' "$T_MNT/d/big")"
expect_eq "mmap of a small stub" "hello stub" \
	"$(py 'import mmap,sys
f=open(sys.argv[1],"rb"); m=mmap.mmap(f.fileno(),0,prot=mmap.PROT_READ)
print(m[:10].decode())' "$T_MNT/d/small")"
expect_eq "sendfile (splice) reads the object" "$(sha256sum <"$src/big" | cut -d' ' -f1)" \
	"$(py 'import os,sys,hashlib
i=os.open(sys.argv[1],os.O_RDONLY); o=os.open(sys.argv[2],os.O_RDWR|os.O_CREAT|os.O_TRUNC)
n=os.fstat(i).st_size; off=0
while off<n: off+=os.sendfile(o,i,off,n-off)
os.lseek(o,0,0); h=hashlib.sha256()
while True:
    b=os.read(o,1<<20)
    if not b: break
    h.update(b)
print(h.hexdigest())' "$T_MNT/d/big" /tmp/sendfile.out)"
rm -f /tmp/sendfile.out

seeks='import os,sys
fd=os.open(sys.argv[1],os.O_RDONLY)
print(os.lseek(fd,0,os.SEEK_DATA), os.lseek(fd,32<<20,os.SEEK_HOLE), os.lseek(fd,0,os.SEEK_END))'
expect_eq "SEEK_DATA/SEEK_HOLE/SEEK_END are the object's" \
	"$(py "$seeks" "$obj")" "$(py "$seeks" "$T_MNT/d/sparse")"
expect_match "SEEK_DATA finds the data in the middle" "^$((32 << 20)) " "$(py "$seeks" "$T_MNT/d/sparse")"

# fadvise reaches the object's page cache. The read and the fadvise run on
# one CPU: DONTNEED drains only its own CPU's batch of folios not yet on the
# LRU, and those cannot be dropped (with large folios, up to ~15 MiB).
taskset -c 0 cat "$T_MNT/d/big" >/dev/null
bigobj=$T_STORE/$("$TPLFS_BIN/tplfs-mkstub" --origin "$T_STORE" "$src/big" | sed -n 2p)
resident() { fincore --bytes --noheadings --output RES "$1" | tr -d ' '; }
expect_eq "a read fills the object's page cache" $((100 << 20)) "$(resident "$bigobj")"
# A folio still in a batch (or locked by the readahead's end) is skipped;
# on a busy machine one call left 20 MiB. Each call drains and drops
# more: called until the object's cache is empty (a stub that did not
# pass fadvise on would leave it full until the wait gives up).
dontneed() {
	taskset -c 0 python3 -c 'import os,sys
fd=os.open(sys.argv[1],os.O_RDONLY); os.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED)' "$T_MNT/d/big" &&
		[ "$(resident "$bigobj")" = 0 ]
}
t_until "fadvise(DONTNEED) through the stub empties it" dontneed &&
	ok "fadvise(DONTNEED) through the stub empties it"

expect_eq "the object is untouched" "$(sha256sum <"$src/big")" "$(sha256sum <"$bigobj")"
