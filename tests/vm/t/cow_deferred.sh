#!/bin/bash
# Copy-up at the first change of data, not at an open for writing: `touch`
# and a write-only open that writes nothing leave the stub a stub (its
# metadata changed, metacopy); the first write, splice, fallocate or
# truncate through such a file copies up, and the file writes to the private
# file from then on, whoever copied it up. An open for reading and writing
# still copies up at once (a shared writable mapping may follow: ->mmap may
# not copy up under mmap_lock).
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

src=$PWD/src
mkdir -p "$src"
files="touched wronly written appended other splice falloc ftrunc rdwr fsynced uring"
for f in $files; do printf '0123456789 template %s\n' "$f" >"$src/$f"; done
head -c 4M /dev/urandom >"$src/big"
for f in $files big; do t_stub "$src/$f" "$T_PRIV/$f"; done
t_mount deferred

tracing=$(t_tracefs)
echo 1 >"$tracing/events/tplfs/tplfs_copy_up/enable"
echo >"$tracing/trace"
events() { grep -c 'tplfs_copy_up:' "$tracing/trace"; }
py() { python3 -c "import os, sys; $1" "${@:2}"; }

# --- nothing copied ---
touch -d '2020-01-02 03:04:05' "$T_MNT/big"
expect_eq "touch leaves a 4 MiB stub a stub" stub "$(t_is_stub "$T_PRIV/big")"
expect_eq "with its new mtime (metacopy)" "2020-01-02 03:04:05" \
	"$(date -d "@$(stat -c %Y "$T_MNT/big")" '+%F %T')"
expect_eq "and its data the template's" "$(sha256sum <"$src/big")" "$(sha256sum <"$T_MNT/big")"
touch "$T_MNT/touched"
expect_eq "touch of a small stub too" stub "$(t_is_stub "$T_PRIV/touched")"
py 'os.close(os.open(sys.argv[1], os.O_WRONLY))' "$T_MNT/wronly"
expect_eq "an O_WRONLY open and close copies nothing" stub "$(t_is_stub "$T_PRIV/wronly")"
py 'fd = os.open(sys.argv[1], os.O_WRONLY); os.fsync(fd); os.lseek(fd, 0, os.SEEK_END); os.close(fd)' \
	"$T_MNT/fsynced"
expect_eq "nor fsync and lseek on it" stub "$(t_is_stub "$T_PRIV/fsynced")"
expect_eq "no copy-up so far" 0 "$(events)"

# --- the first change of data copies up ---
expect_eq "a write-only file copies up at its first write" "stub private" \
	"$(py 'fd = os.open(sys.argv[1], os.O_WRONLY)
a = os.popen("getfattr --absolute-names -n trusted.tplfs.origin " + sys.argv[2] + " >/dev/null 2>&1 && echo stub || echo private").read().strip()
os.write(fd, b"AB")
b = os.popen("getfattr --absolute-names -n trusted.tplfs.origin " + sys.argv[2] + " >/dev/null 2>&1 && echo stub || echo private").read().strip()
os.close(fd); print(a, b)' "$T_MNT/written" "$T_PRIV/written")"
expect_eq "and the write lands over the template's data" "AB23456789 template written" \
	"$(cat "$T_MNT/written")"
echo more >>"$T_MNT/appended"
expect_eq "O_APPEND appends to the template's data" \
	"$(cat "$src/appended"; echo more)" "$(cat "$T_MNT/appended")"
py 'fd = os.open(sys.argv[1], os.O_WRONLY); r, w = os.pipe(); os.write(w, b"SP"); os.close(w)
os.splice(r, fd, 2)' "$T_MNT/splice"
expect_eq "splice into it copies up" "SP23456789 template splice" "$(cat "$T_MNT/splice")"
py 'fd = os.open(sys.argv[1], os.O_WRONLY); os.posix_fallocate(fd, 0, 8192)' "$T_MNT/falloc"
expect_eq "fallocate copies up" "private 8192 0123456789" \
	"$(t_is_stub "$T_PRIV/falloc") $(stat -c %s "$T_MNT/falloc") $(head -c 10 "$T_MNT/falloc")"
py 'fd = os.open(sys.argv[1], os.O_WRONLY); os.ftruncate(fd, 4); os.write(fd, b"xy")' "$T_MNT/ftrunc"
expect_eq "ftruncate copies up, and a write after it goes to the private file" "xy23" \
	"$(cat "$T_MNT/ftrunc")"

expect_eq "an io_uring write to a write-only stub" 2 \
	"$("$TPLFS_BIN/tplfs-uring-write" "$T_MNT/uring" 4 IO 2>&1)"
expect_eq "copies up and writes" "0123IO6789 template uring" "$(cat "$T_MNT/uring")"

# A file opened for writing while a stub, copied up by another: its first
# write goes to the private file, after the other's, and is not lost.
expect_eq "a writer whose stub another copied up writes to the copy" "0Y2X456789 template other" \
	"$(py 'fd = os.open(sys.argv[1], os.O_WRONLY)
g = os.open(sys.argv[1], os.O_WRONLY); os.pwrite(g, b"X", 3); os.close(g)
os.pwrite(fd, b"Y", 1); os.close(fd)
print(open(sys.argv[1]).read().strip())' "$T_MNT/other")"
expect_eq "the object is untouched by all of it" "$(sha256sum <"$src/other")" \
	"$(sha256sum <"$T_STORE/$($MKSTUB --origin "$T_STORE" "$src/other" | sed -n 2p)")"

# --- read-write opens copy up at once ---
py 'os.close(os.open(sys.argv[1], os.O_RDWR))' "$T_MNT/rdwr"
expect_eq "an O_RDWR open copies up at once" private "$(t_is_stub "$T_PRIV/rdwr")"

# one event for each file that was written: written appended splice falloc
# ftrunc uring other rdwr
expect_eq "one copy-up for each file whose data changed" 8 "$(events)"
echo 0 >"$tracing/events/tplfs/tplfs_copy_up/enable"
for f in touched wronly fsynced big; do
	expect_eq "$f: still a stub" stub "$(t_is_stub "$T_PRIV/$f")"
done
