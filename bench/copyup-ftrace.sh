#!/bin/bash
# bench/copyup-ftrace.sh: where a copy-up spends its time, tplfs against
# overlayfs, on xfs in a loop file as bench/guest.sh's copy-up workload (on
# an xfs scratch disk with --fs xfs). A guest script:
#
#   tests/vm/run --kernel 6.12 bench/copyup-ftrace.sh
#
# Prints the median first write (open O_WRONLY, write a byte, close) of 10
# 4 KiB files per contender, then 20 more copy-ups under function_graph
# (depth 3 below tplfs_copy_up / ovl_maybe_copy_up), summed per callee in µs.
# A measurement, not a test: it fails only if it cannot run.
. "$TPLFS_TOP/tests/vm/lib.sh"
set -e
if [ "$TPLFS_FS" != xfs ]; then
	truncate -s 1G xfs.img
	mkfs.xfs -q -f xfs.img
	mkdir x
	mount -o loop xfs.img x
	cd x
fi
t_setup_dirs
FSOPS=$TPLFS_TOP/build/bench/fsops
N=30
mkdir -p lower ovl/u ovl/w ovl/m
for i in $(seq $N); do
	head -c 4096 /dev/urandom >"lower/f$i"
	t_stub "$PWD/lower/f$i" "$T_PRIV/f$i"
done
t_mount ftrace
mount -t overlay overlay -o "lowerdir=$PWD/lower,upperdir=$PWD/ovl/u,workdir=$PWD/ovl/w" ovl/m
sync

echo "first write, 10 copy-ups each (ms):"
for c in tplfs:$T_MNT overlayfs:$PWD/ovl/m; do
	for i in $(seq 1 10); do "$FSOPS" firstwrite "${c#*:}/f$i"; done |
		python3 -c 'import sys, json
v = sorted(json.loads(l)["seconds"] * 1e3 for l in sys.stdin)
print("  %-10s median %.2f  min %.2f  max %.2f" % (sys.argv[1], v[len(v) // 2], v[0], v[-1]))' "${c%%:*}"
done

tr=$(t_tracefs)
echo 0 >"$tr/tracing_on"
echo function_graph >"$tr/current_tracer"
echo 3 >"$tr/max_graph_depth"
echo funcgraph-tail >"$tr/trace_options"
echo tplfs_copy_up >"$tr/set_graph_function"
echo ovl_maybe_copy_up >>"$tr/set_graph_function"
for c in tplfs:$T_MNT overlayfs:$PWD/ovl/m; do
	echo >"$tr/trace"
	echo 1 >"$tr/tracing_on"
	for i in $(seq 11 $N); do "$FSOPS" firstwrite "${c#*:}/f$i" >/dev/null; done
	echo 0 >"$tr/tracing_on"
	echo "${c%%:*}: 20 copy-ups under function_graph, µs summed per callee:"
	python3 - "$tr/trace" <<'PY'
import collections, re, sys
total, calls = collections.Counter(), collections.Counter()
for line in open(sys.argv[1]):
    m = re.search(r'([0-9.]+) us', line)
    if '|' not in line or not m:
        continue
    body = line.split('|')[-1]
    depth = (len(body) - len(body.lstrip(' '))) // 2
    name = (body.split('/*')[1].split('*/')[0] if '/*' in body
            else body.strip().rstrip(';{} ')).strip()
    total[(depth, name)] += float(m.group(1))
    calls[(depth, name)] += 1
for (depth, name), us in sorted(total.items(), key=lambda x: -x[1])[:12]:
    print('  %9.0f %4d  %s%s' % (us, calls[(depth, name)], '  ' * depth, name))
PY
done
echo nop >"$tr/current_tracer"
umount ovl/m "$T_MNT"
if [ "$TPLFS_FS" != xfs ]; then
	cd ..
	umount x
fi
