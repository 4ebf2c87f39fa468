#!/bin/bash
# fsx: the same seeded random operations (tests/tools/tplfs-fsx.c) on a
# tplfs mount whose files start as stubs and on a plain copy of the tree give
# the same outcomes and data, and the same trees (tests/vm/tools/treecmp.py).
# TPLFS_FSX_SEED and TPLFS_FSX_OPS override the seed and the 100k operations.
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

seed=${TPLFS_FSX_SEED:-$(date +%s)}
ops=${TPLFS_FSX_OPS:-100000}
src=$PWD/src
python3 - "$src" "$seed" <<'PY'
import os, random, sys
root, rnd = sys.argv[1], random.Random(int(sys.argv[2]))
for d in range(6):
    os.makedirs(os.path.join(root, "d%d" % d, "sub"))
    for f in range(10):
        size = rnd.choice([0, 1, 100, 4096, 5000, 65536, 200000])
        p = os.path.join(root, "d%d" % d, ("sub/" if f % 3 == 0 else "") + "f%d" % f)
        with open(p, "wb") as fh:
            fh.write(rnd.randbytes(size))
        os.chmod(p, rnd.choice([0o644, 0o600, 0o755, 0o640]))
PY
(cd "$src" && find . -type d) | while read -r d; do mkdir -p "$T_PRIV/$d"; done
(cd "$src" && find . -type f) | while read -r f; do
	printf '%s\t%s\n' "$src/$f" "$T_PRIV/$f"
done | $MKSTUB "$T_STORE" - || fail "making stubs"
cp -a "$src" "$PWD/plain"
# a few hard links, in both trees
for t in "$T_PRIV" "$PWD/plain"; do
	ln "$t/d0/f1" "$t/d1/hl1"
	ln "$t/d2/f2" "$t/d2/sub/hl2"
done
t_mount fsx

# In rounds, with the whole trees compared after each.
rounds=4
echo "  fsx: seed $seed, $ops operations in $rounds rounds"
for r in $(seq 1 $rounds); do
	if ! out=$("$TPLFS_BIN/tplfs-fsx" $((seed + r)) $((ops / rounds)) "$T_MNT" "$PWD/plain"); then
		fail "fsx round $r (seed $seed): $out"
		break
	fi
	if cmp=$(python3 "$TPLFS_TOP/tests/vm/tools/treecmp.py" "$T_MNT" "$PWD/plain"); then
		ok "fsx round $r, seed $((seed + r)): ${out#tplfs-fsx: }; $cmp"
	else
		fail "fsx round $r (seed $seed): the trees differ: $cmp"
		break
	fi
done
stubs=$(find "$T_PRIV" -type f -exec getfattr --absolute-names -n trusted.tplfs.origin {} + 2>/dev/null | grep -c '^# file')
echo "  fsx: $stubs files are still stubs at the end"
umount "$T_MNT"
t_mount fsx2
expect_eq "after a remount the trees are still equal" 0 \
	"$(python3 "$TPLFS_TOP/tests/vm/tools/treecmp.py" "$T_MNT" "$PWD/plain" >/dev/null; echo $?)"
