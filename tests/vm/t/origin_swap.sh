#!/bin/bash
# SET_ORIGIN, the compare-and-swap of a file's origin under a mounted
# container (a rebase moves a stub to a new object, a relink turns an
# unchanged private file back into a stub), and GET_ORIGIN, through the ring
# and the ioctl: file descriptors keep what they had, new opens and stat
# see the new object, st_ino stays; a stale expectation, a writer, an open
# private file, a missing object, a file of another tree are refused and
# change nothing; writers racing relinks and rebases lose no write.
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs
CHAN=$TPLFS_BIN/tplfs-chan
CT=swap

src=$PWD/src
mkdir -p "$src"
printf 'version one\n' >"$src/v1"
printf 'version two, longer\n' >"$src/v2"
for f in f reader writer stale; do t_stub "$src/v1" "$T_PRIV/$f"; done
chown 1000:1001 "$T_PRIV/f"
chmod 0640 "$T_PRIV/f"
setfattr -n user.note -v kept "$T_PRIV/f"
hex1=$($MKSTUB --origin "$T_STORE" "$src/v1" | sed -n 1p)
hex2=$($MKSTUB --origin "$T_STORE" "$src/v2" | sed -n 1p)
t_mount "$CT"

get() { $CHAN origin-get "$CT" "$T_PRIV/$1" ${2:-}; }
set_origin() { $CHAN origin-set "$CT" "$T_PRIV/$1" "$2" "$3" ${4:-} | tail -1; }

# --- GET_ORIGIN ---
expect_eq "GET_ORIGIN of a stub gives its origin" "state=stub origin=${hex1#0x}" "$(get f | head -1)"
expect_eq "and through the ioctl" "state=stub origin=${hex1#0x}" "$(get f ioctl | head -1)"
ino=$(stat -c %i "$T_MNT/f")

# --- a stub moved to a new object, under an open file ---
out=$(python3 -c 'import os, subprocess, sys
chan, ct, priv, expect, new, mnt = sys.argv[1:]
fd = os.open(mnt, os.O_RDONLY)
before = os.pread(fd, 100, 0)
r = subprocess.run([chan, "origin-set", ct, priv, expect, new], capture_output=True, text=True)
print(r.stdout.strip().splitlines()[-1])
print(os.pread(fd, 100, 0) == before and b"one" in before)
print(open(mnt, "rb").read().decode().strip())
' "$CHAN" "$CT" "$T_PRIV/f" "stub:$hex1" "$hex2" "$T_MNT/f")
expect_eq "SET_ORIGIN moves a stub to the new object" "result=0" "$(sed -n 1p <<<"$out")"
expect_eq "a file opened before keeps reading the old one" True "$(sed -n 2p <<<"$out")"
expect_eq "a new open reads the new one" "version two, longer" "$(sed -n 3p <<<"$out")"
expect_eq "stat has its size, st_ino stays" "$(stat -c %s "$src/v2") $ino" "$(stat -c '%s %i' "$T_MNT/f")"
expect_eq "owner, mode and xattrs stay" "1000 1001 640 kept" \
	"$(stat -c '%u %g %a' "$T_MNT/f") $(getfattr --only-values -n user.note "$T_MNT/f")"
expect_eq "the private inode is still an empty stub" "stub 0" \
	"$(t_is_stub "$T_PRIV/f") $(stat -c %s "$T_PRIV/f")"
expect_eq "a copy-up after it copies the new object" "version two, longer+" \
	"$(printf + >>"$T_MNT/f"; tr -d '\n' <"$T_MNT/f")"

# --- refusals change nothing ---
expect_eq "an expectation that no longer holds: ESTALE" error=ESTALE \
	"$(set_origin stale "stub:$hex2" "$hex1")"
expect_eq "a private file expected as a stub: ESTALE" error=ESTALE \
	"$(set_origin f "stub:$hex2" "$hex1")"
expect_eq "through the ioctl too" error=ESTALE "$(set_origin stale "stub:$hex2" "$hex1" ioctl)"
expect_eq "stale is unchanged" "version one" "$(cat "$T_MNT/stale")"
exec 7>>"$T_MNT/writer"
expect_eq "a stub open for writing: ETXTBSY" error=ETXTBSY "$(set_origin writer "stub:$hex1" "$hex2")"
exec 7>&-
expect_eq "a new origin whose object is not there: ENOENT" error=ENOENT \
	"$(set_origin stale "stub:$hex1" "0x$(printf '01010000000000000d00000000000000%064d' 7)")"
expect_eq "a malformed new origin: EINVAL" error=EINVAL \
	"$(set_origin stale "stub:$hex1" "0x09${hex2:4}")"
printf x >"$PWD/outside"
expect_eq "a file outside the private area: EXDEV" error=EXDEV \
	"$($CHAN origin-get "$CT" "$PWD/outside" | tail -1)"
expect_eq "no such mount: ENOENT" error=ENOENT "$($CHAN origin-get nosuchct "$T_PRIV/stale" | tail -1)"
expect_eq "a directory: EINVAL" error=EINVAL "$($CHAN origin-get "$CT" "$T_PRIV" | tail -1)"

# --- relink: an unchanged private file becomes a stub again ---
cat "$src/v1" >"$T_MNT/p"
chmod 0600 "$T_MNT/p"
touch -d '2021-02-03 04:05:06' "$T_MNT/p"
ino=$(stat -c %i "$T_MNT/p")
# written back first: xfs moves i_version when writeback allocates the data
sync "$T_PRIV/p"
st=$(get p | sed -n 's/^state=private expect=//p')
expect_match "GET_ORIGIN of a private file" '^private:[0-9]+:[0-9]+:[0-9]+:12$' "$st"
expect_eq "relink of the unchanged file" result=0 "$(set_origin p "$st" "$hex1")"
expect_eq "it is a stub, its data gone from the private area" "stub 0" \
	"$(t_is_stub "$T_PRIV/p") $(stat -c %s "$T_PRIV/p")"
expect_eq "it reads the object, same inode, mode and mtime" "version one $ino 600 2021-02-03 04:05:06" \
	"$(cat "$T_MNT/p") $(stat -c '%i %a' "$T_MNT/p") $(date -d "@$(stat -c %Y "$T_MNT/p")" '+%F %T')"

cat "$src/v1" >"$T_MNT/q"
sync "$T_PRIV/q"
st=$(get q | sed -n 's/^state=private expect=//p')
printf 'version ONE\n' | dd of="$T_MNT/q" conv=notrunc status=none
expect_eq "a write since GET_ORIGIN, same size, same tick: ESTALE" error=ESTALE \
	"$(set_origin q "$st" "$hex1")"
expect_eq "and the write is there" "version ONE private" "$(cat "$T_MNT/q") $(t_is_stub "$T_PRIV/q")"
cat "$src/v1" >"$T_MNT/q"
sync "$T_PRIV/q"
st=$(get q | sed -n 's/^state=private expect=//p')
exec 8<"$T_MNT/q"
expect_eq "a private file open (even to read): EBUSY" error=EBUSY "$(set_origin q "$st" "$hex1")"
exec 8<&-
expect_eq "closed, it relinks" result=0 "$(set_origin q "$st" "$hex1")"
expect_eq "a stub expected as private: ESTALE" error=ESTALE "$(set_origin q "$st" "$hex1")"

# --- races: a writer against relinks and rebases; no write is lost ---
# The writer writes, in turn, the object's content and another of the same
# size into race-relink, and appends to race-rebase (a stub at first), each
# time through a new write-only file (a stub copies up at the write), and
# reads back what it wrote. The relinker turns race-relink into a stub
# whenever it reads as the object's content, the rebaser moves race-rebase
# between the two objects while it is a stub. A relink or rebase that hid
# a write would show as a read-back that is not what was written.
ROUNDS=${TPLFS_SWAP_ROUNDS:-15}
cat "$src/v1" >"$T_MNT/race-relink"
t_stub "$src/v1" "$T_PRIV/race-rebase"
rm -f "$PWD/stop"
python3 -c 'import os, sys
relink, rebase, v1, stop, out = sys.argv[1:]
v1 = open(v1, "rb").read()
lost = i = 0
data = v1
while not os.path.exists(stop):
    data = v1 if i % 2 == 0 else b"version %03d\n" % (i % 1000)
    fd = os.open(relink, os.O_WRONLY)
    os.pwrite(fd, data, 0)
    os.close(fd)
    lost += open(relink, "rb").read() != data
    fd = os.open(rebase, os.O_WRONLY | os.O_APPEND)
    os.write(fd, b"line %d\n" % i)
    os.close(fd)
    lost += not open(rebase, "rb").read().endswith(b"line %d\n" % i)
    i += 1
open(out, "w").write("%d %d %s\n" % (lost, i, data.decode().strip()))
' "$T_MNT/race-relink" "$T_MNT/race-rebase" "$src/v1" "$PWD/stop" "$PWD/writer.out" &
wpid=$!
relinks=0 rebases=0
for _ in $(seq "$ROUNDS"); do
	# relink only what reads as the object's content, as ct relink does
	sync "$T_PRIV/race-relink"
	st=$(get race-relink | sed -n 's/^state=private expect=//p')
	if [ -n "$st" ] && cmp -s "$T_MNT/race-relink" "$src/v1"; then
		[ "$(set_origin race-relink "$st" "$hex1")" = result=0 ] && relinks=$((relinks + 1))
	fi
	cur=$(get race-rebase | sed -n 's/^state=stub origin=/0x/p')
	if [ -n "$cur" ]; then
		new=$hex2
		[ "$cur" = "$hex2" ] && new=$hex1
		[ "$(set_origin race-rebase "stub:$cur" "$new")" = result=0 ] && rebases=$((rebases + 1))
	fi
done
touch "$PWD/stop"
wait $wpid
read -r lost writes last <"$PWD/writer.out"
echo "  $ROUNDS rounds against $writes writes: $relinks relinks, $rebases rebases"
expect_eq "no write was lost or hidden" 0 "$lost"
expect_eq "the relinked file holds the last write" "$last" "$(cat "$T_MNT/race-relink")"
expect_match "the rebased file starts with one version's content" '^version (one|two, longer)$' \
	"$(head -1 "$T_MNT/race-rebase")"
expect_eq "and has every appended line after it" "$(seq -f 'line %g' 0 $((writes - 1)))" \
	"$(tail -n +2 "$T_MNT/race-rebase")"
expect_eq "the kernel logged no stub error for this mount" "" \
	"$(dmesg | grep "tplfs: ct=$CT .*stub" | grep -v 'malformed')"
