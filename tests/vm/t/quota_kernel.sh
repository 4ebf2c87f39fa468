#!/bin/bash
# Quota in the module, driven through /dev/tplfs (tplfs-chan quota-set/get):
# everything written through the mount is charged (writes, sendfile, copy-up,
# fallocate, creates) and released (unlink, truncate, rmdir, rename over,
# O_TMPFILE); EDQUOT comes at the limit and not before, without losing what
# was written; soft limits block after their grace; statfs shows the limit;
# two mounts are independent; a raised limit applies at once; concurrent
# writers stay within the documented bound; and the kernel's usage equals an
# independent count of the private area (tests/vm/tools/usage.py).
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

CHAN=$TPLFS_BIN/tplfs-chan
USAGE="python3 $TPLFS_TOP/tests/vm/tools/usage.py"
M=$((1024 * 1024))
src=$PWD/src
mkdir -p "$src" "$T_PRIV/etc" "$PWD/priv2" "$PWD/mnt2"
head -c $M /dev/urandom >"$src/obj1m"
printf 'small\n' >"$src/small"
t_stub "$src/obj1m" "$T_PRIV/etc/big"
t_stub "$src/small" "$T_PRIV/etc/small"
t_stub "$src/obj1m" "$T_PRIV/etc/big2"

qget() { $CHAN quota-get "${2:-q1}" sync | sed -n "s/^$1=//p"; }
qset() { $CHAN quota-set "$@" >/dev/null || fail "quota-set $*"; }
ref_bytes() { sync; $USAGE "${1:-$T_PRIV}" | cut -d' ' -f1; }
ref_inodes() { $USAGE "${1:-$T_PRIV}" | cut -d' ' -f2; }
# expect_exact WHAT: the kernel's usage is what a fresh count finds
expect_exact() {
	expect_eq "$1: usage equals a fresh count" "$($USAGE "$T_PRIV")" \
		"$(qget bytes_used) $(qget inodes_used)"
}
# fill FILE: write 64 KiB blocks until the first error; the error text
fill() { dd if=/dev/zero of="$1" bs=64K status=none conv=notrunc oflag=append 2>&1 | sed 's/.*: //'; }
size() { stat -c %s "$1"; }
# ev_next: the number the next event will get (the ring may have wrapped)
ev_next() {
	local seq=1 last s t a0
	while :; do
		last=$($CHAN wait "$seq" 256 10 | grep -v '^result=' | tail -1)
		[ -n "$last" ] || { echo "$seq"; return; }
		read -r s t _ a0 _ <<<"$last"
		if [ "$t" = LOST ]; then seq=$((seq + a0)); else seq=$((s + 1)); fi
	done
}
# ev_since SEQ: the events from SEQ on (at most 256)
ev_since() { $CHAN wait "$1" 256 100; }

t_mount q1
# Stubs cost an inode and no blocks: usage is the directories' blocks.
base=$(ref_bytes)
expect_eq "stubs have no blocks" 0 "$(stat -c %b "$T_PRIV/etc/big")"
expect_eq "without SET_QUOTA usage counts from the mount" "0 0" \
	"$(qget bytes_used) $(qget inodes_used)"
expect_eq "usage not known yet" 0 "$(qget flags)"
qset q1 used="$base:$(ref_inodes)"
expect_eq "SET_QUOTA gives the usage" 1 "$(qget flags)"
expect_exact "after SET_QUOTA"

# --- hard limit on bytes: writes ---
seq0=$(ev_next)
hard=$((base + 8 * M + 4096 * 3))
qset q1 bytes=0:$hard
expect_eq "a write past the hard limit fails" "Disk quota exceeded" \
	"$(fill "$T_MNT/fill")"
expect_eq "EDQUOT at the limit and not before: the file has all that fits" \
	$((hard - base)) "$(size "$T_MNT/fill")"
expect_eq "usage is the hard limit" $hard "$(qget bytes_used)"
expect_exact "full"
expect_ok "rewriting allocated blocks at the limit works" \
	dd if=/dev/urandom of="$T_MNT/fill" bs=4K count=4 conv=notrunc status=none
expect_eq "a create needs no block" "" "$(touch "$T_MNT/empty" 2>&1)"
expect_match "mkdir needs a block" "Disk quota exceeded" "$(mkdir "$T_MNT/d" 2>&1)"
# (the first write copies up: coreutils' echo names its error, dash's
# builtin says "I/O error" whatever it was)
expect_match "copy-up at the limit fails" "Disk quota exceeded" \
	"$(sh -c "/bin/echo x >>'$T_MNT/etc/big'" 2>&1)"
expect_eq "the stub is still the template" "$(sha256sum <"$src/obj1m")" \
	"$(sha256sum <"$T_MNT/etc/big")"
expect_match "fallocate at the limit fails" "Disk quota exceeded" \
	"$(fallocate -l 1M "$T_MNT/fa" 2>&1)"
expect_match "sendfile at the limit fails" "Disk quota exceeded" \
	"$(python3 -c 'import os,sys
i=os.open(sys.argv[1],os.O_RDONLY); o=os.open(sys.argv[2],os.O_WRONLY|os.O_CREAT)
os.sendfile(o,i,0,65536)' "$src/obj1m" "$T_MNT/sent" 2>&1)"
expect_match "denials are counted" "^[1-9]" \
	"$($CHAN stats q1 | sed -n 's/^quota_denials=//p')"
expect_match "a QUOTA_HARD event was posted" "QUOTA_HARD q1 0 $hard" \
	"$(ev_since "$seq0")"

# --- deleting frees; copy-up, fallocate, sendfile are charged ---
rm "$T_MNT/fill"
expect_eq "deleting frees" $base "$(qget bytes_used)"
echo x >>"$T_MNT/etc/big"
expect_eq "copy-up is charged its blocks" $((base + M + 4096)) "$(qget bytes_used)"
fallocate -l 2M "$T_MNT/fa"
expect_eq "fallocate is charged" $((base + 3 * M + 4096)) "$(qget bytes_used)"
python3 -c 'import os,sys
i=os.open(sys.argv[1],os.O_RDONLY); o=os.open(sys.argv[2],os.O_WRONLY|os.O_CREAT)
assert os.sendfile(o,i,0,1<<20) == 1<<20' "$src/obj1m" "$T_MNT/sent"
expect_eq "sendfile (splice) is charged" $((base + 4 * M + 4096)) "$(qget bytes_used)"
room=$((hard - $(qget bytes_used)))
expect_match "fallocate larger than the room fails whole" "Disk quota exceeded" \
	"$(fallocate -o 2M -l $((room + 4096)) "$T_MNT/fa" 2>&1)"
expect_eq "...and allocates nothing" $((base + 4 * M + 4096)) "$(qget bytes_used)"
expect_ok "fallocate of exactly the room works" \
	fallocate -o 2M -l $room "$T_MNT/fa"
expect_eq "full again" $hard "$(qget bytes_used)"
expect_ok "fallocate over allocated blocks at the limit works" \
	fallocate -o 0 -l 1M "$T_MNT/fa"
expect_ok "writing into preallocated blocks at the limit works" \
	dd if=/dev/zero of="$T_MNT/fa" bs=64K count=8 seek=4 conv=notrunc status=none
truncate -s 1M "$T_MNT/fa"
expect_eq "truncate frees" $((hard - room - M)) "$(qget bytes_used)"
expect_exact "after copy-up, fallocate, sendfile, truncate"

# --- raising the limit applies at once ---
rm "$T_MNT/fa" "$T_MNT/sent"
fill "$T_MNT/fill" >/dev/null
expect_eq "full" $hard "$(qget bytes_used)"
qset q1 bytes=0:$((hard + M))
expect_ok "after raising the hard limit writes continue at once" \
	dd if=/dev/zero of="$T_MNT/fill" bs=64K count=16 oflag=append conv=notrunc status=none
rm "$T_MNT/fill"

# --- released: unlinked while open, rename over, O_TMPFILE, rmdir ---
used=$(qget bytes_used)
python3 - "$T_MNT" "$used" "$CHAN" <<'EOF' || fail "open-unlinked and O_TMPFILE accounting"
import os, subprocess, sys
mnt, used, chan = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def usage():
    out = subprocess.run([chan, "quota-get", "q1", "sync"], capture_output=True, text=True).stdout
    return int([l for l in out.splitlines() if l.startswith("bytes_used=")][0].split("=")[1])
fd = os.open(mnt + "/open-unlinked", os.O_RDWR | os.O_CREAT)
os.write(fd, b"x" * (1 << 20))
os.unlink(mnt + "/open-unlinked")
assert usage() == used + (1 << 20), ("kept while open", usage(), used)
os.close(fd)
assert usage() == used, ("released at the last close", usage(), used)
fd = os.open(mnt, os.O_TMPFILE | os.O_WRONLY)
os.write(fd, b"x" * (1 << 20))
assert usage() == used + (1 << 20), "O_TMPFILE charged"
os.close(fd)
assert usage() == used, "O_TMPFILE released"
EOF
head -c $M /dev/zero >"$T_MNT/a"
head -c $M /dev/zero >"$T_MNT/b"
mv "$T_MNT/a" "$T_MNT/b"
expect_eq "rename over a file releases it" $((used + M)) "$(qget bytes_used)"
rm "$T_MNT/b"
inodes=$(qget inodes_used)
mkdir -p "$T_MNT/d1/d2"
ln -s /etc/hostname "$T_MNT/d1/sym"
mkfifo "$T_MNT/d1/fifo"
expect_eq "mkdir, symlink, mkfifo charge inodes" $((inodes + 4)) "$(qget inodes_used)"
ln "$T_MNT/etc/small" "$T_MNT/d1/hardlink"
expect_eq "a hard link is no new inode" $((inodes + 4)) "$(qget inodes_used)"
expect_exact "after namespace operations"
rm -r "$T_MNT/d1"
expect_eq "rm -r releases them" "$inodes $used" "$(qget inodes_used) $(qget bytes_used)"

# --- an ACL too long for the inode takes an xattr block: charged ---
# (charged by the operation itself: read without SYNC, which re-reads every
# cached inode and would hide a missed charge)
qget_nosync() { $CHAN quota-get q1 | sed -n "s/^$1=//p"; }
acl=$(seq -s, -f 'u:%g:r' 2001 2040)
used=$(qget bytes_used)
expect_ok "setfacl through the mount on a stub" setfacl -m "$acl" "$T_MNT/etc/big2"
now=$(qget_nosync bytes_used)
expect_match "the ACL's block is charged at once ($now vs $used)" '^yes$' \
	"$([ "$now" -gt "$used" ] && echo yes)"
expect_exact "after setfacl"
expect_eq "the stub stays a stub" stub "$(t_is_stub "$T_PRIV/etc/big2")"
expect_ok "setfacl -b through the mount" setfacl -b "$T_MNT/etc/big2"
expect_eq "removing it frees the block at once" "$used" "$(qget_nosync bytes_used)"

# --- inode limits ---
qset q1 inodes=0:$((inodes + 2))
expect_ok "creates up to the inode limit" touch "$T_MNT/i1" "$T_MNT/i2"
expect_match "one more is refused" "Disk quota exceeded" "$(touch "$T_MNT/i3" 2>&1)"
expect_match "mkdir too" "Disk quota exceeded" "$(mkdir "$T_MNT/i3" 2>&1)"
rm "$T_MNT/i1"
expect_ok "after a delete one more fits" touch "$T_MNT/i3"
rm "$T_MNT/i2" "$T_MNT/i3"

# --- statfs: the limit is the size ---
used=$(qget bytes_used)
inodes=$(qget inodes_used)
qset q1 bytes=$((64 * M)):$((128 * M)) inodes=1000:2000 grace=600
expect_eq "df: size is the soft limit" $((64 * M)) \
	$(($(stat -f -c '%b*%S' "$T_MNT")))
expect_eq "df: free is what usage leaves of it" $((64 * M - used)) \
	$(($(stat -f -c '%a*%S' "$T_MNT")))
expect_eq "df -i: inodes and free inodes" "1000 $((1000 - inodes))" \
	"$(stat -f -c '%c %d' "$T_MNT")"
expect_match "df shows it" "^tplfs +64M" "$(df -h --output=source,size "$T_MNT" | tail -1)"
qset q1 bytes=0:$M inodes=0:0
expect_eq "df: hard limit when no soft one; free never below 0" "256 0" \
	"$(stat -f -c '%b %a' "$T_MNT")"
host_free=$(($(stat -f -c '%a*%S' "$T_PRIV")))
qset q1 bytes=0:$((1024 * 1024 * M)) inodes=0:0
expect_eq "df: free never more than the host has" "$host_free" \
	$(($(stat -f -c '%a*%S' "$T_MNT")))

# --- soft limit and grace ---
used=$(qget bytes_used)
# A day of grace, so that no step of a slow guest outlasts it; its end is
# then put in the past through SET_QUOTA, as tplfsd restores a checkpoint
# whose grace has run out (no sleeping against the clock).
qset q1 bytes=$((used + M)):$((used + 16 * M)) grace=86400 inodes=0:0
seq0=$(ev_next)
before=$(date +%s)
expect_ok "over the soft limit within grace" \
	dd if=/dev/zero of="$T_MNT/soft" bs=64K count=32 status=none
expect_match "a QUOTA_SOFT event gives the grace's end" "QUOTA_SOFT q1 0 [0-9]{10}" \
	"$(ev_since "$seq0")"
end=$(qget bytes_grace_end)
expect_match "grace_end is set" "^[0-9]{10}$" "$end"
expect_ok "grace_end is the grace after the soft limit was crossed" \
	test "$end" -ge $((before + 86400)) -a "$end" -le $(($(date +%s) + 86400))
expect_ok "still writable within grace" \
	dd if=/dev/zero of="$T_MNT/soft" bs=64K count=1 oflag=append conv=notrunc status=none
past=$(($(date +%s) - 1))
qset q1 used="$(qget bytes_used):$(qget inodes_used)" grace-end=$past:0
expect_eq "a grace_end in the past is kept while over soft" "$past" \
	"$(qget bytes_grace_end)"
expect_eq "after the grace the soft limit is hard" "Disk quota exceeded" \
	"$(fill "$T_MNT/soft")"
rm "$T_MNT/soft"
expect_eq "back under soft: grace ends" 0 "$(qget bytes_grace_end)"
expect_ok "and writes work again" dd if=/dev/zero of="$T_MNT/soft" bs=64K count=1 status=none
rm "$T_MNT/soft"

# --- two containers on one disk are independent ---
t_stub "$src/obj1m" "$PWD/priv2/big"
t_mount q2 "$PWD/mnt2" "$PWD/priv2"
qset q2 used="$(ref_bytes "$PWD/priv2"):$(ref_inodes "$PWD/priv2")" bytes=0:$((4 * M))
used=$(qget bytes_used)
qset q1 bytes=0:$((used + 2 * M))
fill "$T_MNT/fill" >/dev/null
expect_eq "q1 is full" $((used + 2 * M)) "$(qget bytes_used)"
expect_ok "q2 still writes" dd if=/dev/zero of="$PWD/mnt2/f" bs=64K count=16 status=none
expect_eq "q1 did not move" $((used + 2 * M)) "$(qget bytes_used)"
expect_eq "q2's usage is its own" "$($USAGE "$PWD/priv2" | cut -d' ' -f1)" "$(qget bytes_used q2)"
rm "$T_MNT/fill"

# --- concurrency: one write's worth at most over the hard limit ---
used=$(qget bytes_used)
hard=$((used + 16 * M))
qset q1 bytes=0:$hard
for i in 1 2 3 4 5 6 7 8; do
	fill "$T_MNT/w$i" >"$PWD/w$i.err" &
done
wait
errs=$(sort -u "$PWD"/w*.err)
expect_eq "every writer ended with EDQUOT" "Disk quota exceeded" "$errs"
total=$(ref_bytes)
expect_match "usage stays within one 64 KiB write of the hard limit ($total vs $hard)" \
	"^yes$" "$([ "$total" -le $((hard + 65536)) ] && [ "$total" -ge $((hard - 8 * 65536)) ] && echo yes)"
expect_exact "after concurrent writers"
rm "$T_MNT"/w*

# --- if-gen: a stale rescan is refused ---
gen=$(qget gen)
touch "$T_MNT/moved"
expect_eq "SET_QUOTA if-gen after a change: EAGAIN" "error=EAGAIN" \
	"$($CHAN quota-set q1 used=1:1 if-gen="$gen")"
gen=$(qget gen)
expect_eq "SET_QUOTA if-gen unchanged: taken" "result=0" \
	"$($CHAN quota-set q1 used="$(ref_bytes):$(ref_inodes)" if-gen="$gen")"
expect_exact "after a conditional set"
expect_eq "soft over hard is refused" "error=EINVAL" "$($CHAN quota-set q1 bytes=2:1)"
expect_eq "an unknown ct" "error=ENOENT" "$($CHAN quota-get nosuch)"
