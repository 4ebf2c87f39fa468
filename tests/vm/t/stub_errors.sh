#!/bin/bash
# Broken stubs: a missing object, a malformed origin, an object that does not
# match: stat and readdir still work, open fails with EIO and a log line
# naming the container and the inode. Fuzzed origins never crash.
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

printf 'template content\n' >"$PWD/src"
good=$("$TPLFS_BIN/tplfs-mkstub" --origin "$T_STORE" "$PWD/src" | sed -n 1p)
obj=$T_STORE/$("$TPLFS_BIN/tplfs-mkstub" --origin "$T_STORE" "$PWD/src" | sed -n 2p)
hex=${good#0x}

# stub NAME HEXVALUE: an empty private file with that origin
stub() {
	: >"$T_PRIV/$1"
	setfattr -n trusted.tplfs.origin -v "0x$2" "$T_PRIV/$1"
}
stub good "$hex"
stub short "${hex:0:94}"
stub long "${hex}00"
stub version2 "02${hex:2}"
stub algo2 "${hex:0:2}02${hex:4}"
stub flags "${hex:0:4}0100${hex:8}"
stub reserved "${hex:0:8}00000001${hex:16}"
stub bigsize "${hex:0:16}1200000000000000${hex:32}"
stub hugesize "${hex:0:16}ffffffffffffffff${hex:32}"
stub nodigest "${hex:0:32}$(printf '%064d' 0)"
: >"$T_PRIV/empty-value"
setfattr -n trusted.tplfs.origin -v "" "$T_PRIV/empty-value" 2>/dev/null ||
	setfattr -n trusted.tplfs.origin "$T_PRIV/empty-value"

t_mount errs
expect_eq "the good stub reads" "template content" "$(cat "$T_MNT/good")"

for name in short long version2 algo2 flags reserved bigsize hugesize nodigest empty-value; do
	ino=$(stat -c %i "$T_PRIV/$name")
	if stat "$T_MNT/$name" >/dev/null; then
		ok "$name: stat works"
	else
		fail "$name: stat works"
	fi
	expect_match "$name: open fails with EIO" 'Input/output error' "$(cat "$T_MNT/$name" 2>&1)"
	declare "log_${name//-/_}=$(t_last_log)"
	expect_match "$name: the log names the container and the inode" \
		"tplfs: ct=errs inode $ino: stub " "$(t_last_log)"
done
# (the lines of the first opens: the log is rate-limited, 10 lines in 5 s)
expect_match "a malformed origin is logged as such" 'malformed origin' \
	"$log_version2"
expect_match "a size that does not match the object is logged as such" \
	'object size differs' "$log_bigsize"
expect_eq "ls lists every stub, broken or not" 11 "$(ls "$T_MNT" | wc -l)"

# The object disappears: stat keeps working from the origin, open fails.
mv "$obj" "$obj.away"
stub missing "$hex"
expect_eq "stat of a stub with no object" 17 "$(stat -c %s "$T_MNT/missing")"
expect_match "its open fails with EIO" 'Input/output error' "$(cat "$T_MNT/missing" 2>&1)"
expect_match "the log says the object is missing" \
	"ct=errs inode $(stat -c %i "$T_PRIV/missing"): stub object cannot be found" "$(t_last_log)"
mv "$obj.away" "$obj"
mkdir -p "$T_STORE/objects/ee"
mkdir "$T_STORE/objects/ee/$(printf 'e%.0s' {1..62})"
stub dirobject "${hex:0:32}$(printf 'e%.0s' {1..64})"
expect_match "an object that is a directory: EIO" 'Input/output error' "$(cat "$T_MNT/dirobject" 2>&1)"

# Fuzz: random origin values, of random lengths or on a valid header.
python3 - "$T_PRIV/fuzz" "$hex" <<'PY'
import os, random, sys
d, good = sys.argv[1], bytes.fromhex(sys.argv[2])
os.makedirs(d)
rnd = random.Random(int(os.environ.get("TPLFS_SEED", "1234")))
for i in range(400):
    if i % 2:
        v = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, 97)))
    else:
        v = bytearray(good)
        for _ in range(rnd.randrange(1, 4)):
            v[rnd.randrange(len(v))] = rnd.getrandbits(8)
        v = bytes(v)
    p = os.path.join(d, "f%03d" % i)
    open(p, "wb").close()
    os.setxattr(p, "trusted.tplfs.origin", v)
PY
# stat, open, read and mmap each, in one process (TCG forks slowly).
out=$(python3 - "$T_MNT/fuzz" <<'PY'
import mmap, os, sys
d = sys.argv[1]
stats = opened = 0
for name in sorted(os.listdir(d)):
    p = os.path.join(d, name)
    os.stat(p)
    stats += 1
    try:
        fd = os.open(p, os.O_RDONLY)
    except OSError:
        continue
    opened += 1
    os.pread(fd, 4096, 3)
    if os.fstat(fd).st_size:
        mmap.mmap(fd, 0, prot=mmap.PROT_READ).close()
    os.close(fd)
print(stats, len(os.listdir(d)))
PY
)
expect_eq "stat and readdir work on all 400 fuzzed stubs" "400 400" "$out"
