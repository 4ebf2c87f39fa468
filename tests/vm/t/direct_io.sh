#!/bin/bash
# Direct I/O (O_DIRECT) through the mount, as databases use it (InnoDB's
# O_DIRECT flush method, PostgreSQL's direct I/O); every open(O_DIRECT)
# failed with EINVAL. A stub opened read-only reads its object directly; a
# stub opened for writing is copied up first and written directly; private
# and new files; fcntl(F_SETFL) turning O_DIRECT on and off reaches the real
# file; a reader holding a stub open with O_DIRECT reads the container's data
# after a copy-up; quota charges what direct writes allocate and refuses
# them at the limit. "Directly" is checked, not assumed: the real file has
# none of the data in its page cache afterwards (mincore). Errors are the
# bare filesystem's. Run on ext4 (tests/vm/t) and xfs (tests/vm/xfs).
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

DIO="python3 $TPLFS_TOP/tests/vm/tools/dio.py"
CHAN=$TPLFS_BIN/tplfs-chan
USAGE="python3 $TPLFS_TOP/tests/vm/tools/usage.py"
K=1024
src=$PWD/src
mkdir -p "$src" "$T_PRIV/db" "$PWD/bare"
head -c $((64 * K)) /dev/urandom >"$src/data"
sum=$(sha256sum <"$src/data" | cut -d' ' -f1)
for f in ro rw setfl held; do t_stub "$src/data" "$T_PRIV/db/$f"; done
obj=$(find "$T_STORE/objects" -type f | head -1)
[ -n "$obj" ] || fail "no object in the store"
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
qget() { $CHAN quota-get dio sync | sed -n "s/^$1=//p"; }
t_mount dio
M=$T_MNT

# --- a stub, read-only: read from the object, past its page cache ---
drop_caches
expect_eq "O_DIRECT read of a stub gives the template's data" "$sum" \
	"$($DIO read "$M/db/ro")"
expect_eq "it read the object directly: none of it in the page cache" 0 \
	"$($DIO resident "$obj")"
expect_eq "the stub stays a stub" stub "$(t_is_stub "$T_PRIV/db/ro")"

# --- a stub opened for writing: copied up, then written directly ---
expect_eq "O_DIRECT write to a stub" ok "$($DIO write "$M/db/rw" 4096 8192 aa)"
expect_eq "the stub was copied up" private "$(t_is_stub "$T_PRIV/db/rw")"
expect_eq "written directly: none of the blocks written in the private page cache" 0 \
	"$($DIO resident "$T_PRIV/db/rw" 4096 8192)"
expect_eq "the private file holds template and write" \
	"$( (head -c 4096 "$src/data"; head -c 8192 /dev/zero | tr '\0' '\252'
	     tail -c +12289 "$src/data") | sha256sum | cut -d' ' -f1)" \
	"$(sha256sum <"$T_PRIV/db/rw" | cut -d' ' -f1)"
expect_eq "read back through the mount with O_DIRECT" \
	"$(sha256sum <"$T_PRIV/db/rw" | cut -d' ' -f1)" "$($DIO read "$M/db/rw")"
expect_eq "the object is unchanged" "$sum" "$(sha256sum <"$obj" | cut -d' ' -f1)"

# --- new and private files ---
expect_ok "O_DIRECT create (dd oflag=direct)" \
	dd if=/dev/zero of="$M/db/new" bs=4096 count=4 oflag=direct status=none
expect_eq "the new file's size" 16384 "$(stat -c %s "$T_PRIV/db/new")"
expect_ok "O_DIRECT rewrite of a private file (conv=notrunc)" \
	dd if="$src/data" of="$M/db/new" bs=4096 count=16 oflag=direct \
	conv=notrunc status=none
drop_caches
expect_eq "O_DIRECT read of a private file" "$sum" "$($DIO read "$M/db/new")"
expect_eq "read directly" 0 "$($DIO resident "$T_PRIV/db/new")"

# --- fcntl(F_SETFL) turns O_DIRECT on and off on an open file ---
cp "$src/data" "$PWD/bare/setfl"
expect_eq "on the bare filesystem (the reference)" "buffered direct buffered" \
	"$($DIO setfl "$PWD/bare/setfl" "$PWD/bare/setfl")"
expect_eq "through the mount, the real file follows F_SETFL" \
	"buffered direct buffered" "$($DIO setfl "$M/db/setfl" "$T_PRIV/db/setfl")"
expect_eq "misaligned direct writes: the bare filesystem's answer" \
	"$($DIO misaligned "$PWD/bare/setfl")" "$($DIO misaligned "$M/db/setfl")"

# --- a reader holding a stub with O_DIRECT sees the container's data ---
expect_eq "after a copy-up the O_DIRECT reader reads the private file" \
	changed "$($DIO switch "$M/db/held")"
expect_eq "the held stub was copied up" private "$(t_is_stub "$T_PRIV/db/held")"

# --- quota: direct writes are charged, and refused at the limit ---
$CHAN quota-set dio used="$($USAGE "$T_PRIV" | tr ' ' :)" >/dev/null ||
	fail "quota-set used"
used=$(qget bytes_used)
expect_ok "a direct write of 256 KiB" \
	dd if=/dev/zero of="$M/db/charged" bs=64K count=4 oflag=direct status=none
sync
expect_eq "usage after direct writes equals a fresh count" \
	"$($USAGE "$T_PRIV")" "$(qget bytes_used) $(qget inodes_used)"
expect_eq "the 256 KiB are charged" $((used + 256 * K)) "$(qget bytes_used)"
hard=$((used + 256 * K + 128 * K))
$CHAN quota-set dio bytes=0:$hard >/dev/null || fail "quota-set bytes"
expect_match "a direct write past the hard limit fails" "Disk quota exceeded" \
	"$(dd if=/dev/zero of="$M/db/over" bs=64K count=8 oflag=direct status=none 2>&1)"
expect_eq "usage stops at the hard limit" $hard "$(qget bytes_used)"
expect_eq "what fit was written" $((128 * K)) "$(stat -c %s "$T_PRIV/db/over")"
