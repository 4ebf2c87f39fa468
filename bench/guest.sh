#!/bin/bash
# bench/guest.sh: the benchmarks, inside one test guest (bench/run boots it).
# Every contender gets the same template tree on the same scratch disk:
#
#   native          one plain copy of the tree (cp -a), read in place
#   tplfs           tplfsd: template import, ct create + ct mount
#   overlayfs       the tree as lowerdir, an upper and work dir per container
#   fuse-overlayfs  the same through fuse-overlayfs
#   cp -a, tar      a full copy / extraction per container (how the seeds'
#                   tools made containers from a template cache)
#
# Each measurement is appended to $B/samples as one JSON line; collect.py
# makes the document (medians, min, max) printed between BENCH-JSON markers.
# TPLFS_BENCH_SMOKE=1: every workload at a tiny size (make check).
set -u
. "$TPLFS_TOP/tests/vm/lib.sh"

SMOKE=${TPLFS_BENCH_SMOKE:-0}
TPL=${TPLFS_BENCH_TEMPLATE:-$TPLFS_TOP/build/cache/busybox-template.tar.zst}
B=$TPLFS_SCRATCH/bench
FSOPS=$TPLFS_TOP/build/bench/fsops
LOAD=$TPLFS_TOP/build/bench/ctl-load
SOCK=$B/tplfsd.sock
T="$TPLFS_BIN/tplctl --socket $SOCK"
SAMPLES=$B/samples
MiB=$((1024 * 1024))

# NCOPY full copies (the page-cache workload reads NMEM of them), NTAR
# extractions (timed like the copies; fewer: each costs the whole tree).
if [ "$SMOKE" = 1 ]; then
	NCT=3 NCOPY=2 NTAR=1 R=1 RC=1 BIG=4 RAND=20 EXEC=5 NMEM=2 MEMLIMIT=$MiB
	SIZES="4k:4096 64k:65536 1m:$MiB" DSEC=0.5 CLIENTS="1 4 16" XFS_SIZE=512M
else
	NCT=100 NCOPY=20 NTAR=5 R=5 RC=3 BIG=256 RAND=2000 EXEC=1000 NMEM=20
	MEMLIMIT=$((32 * MiB)) SIZES="4k:4096 1m:$MiB 64m:$((64 * MiB))" DSEC=3
	CLIENTS="1 16 256" XFS_SIZE=3G
fi

# TPLFS_BENCH_MONITOR=SECS (bench/run --monitor): every SECS seconds a
# "bench-mon:" line of memory, vmstat counters and the busiest processes, to
# see what a slow phase is doing. It costs the guest some CPU (ps).
# Only the loop itself holds the log open: cleanup's kill releases it.
monitor() {
	cd / || return
	exec 2>/dev/null
	while sleep "$1" >/dev/null; do
		echo "bench-mon: t=$(cut -d' ' -f1 /proc/uptime)" \
			"$(grep -E '^(MemFree|Cached|Dirty|Writeback|Slab|SUnreclaim|AnonPages|Shmem):' /proc/meminfo |
				awk '{ printf "%s%dM ", $1, $2 / 1024 }')" \
			"load=$(cut -d' ' -f1-4 /proc/loadavg)" \
			"$(grep -E '^(pgpgin|pgpgout|pgalloc_normal|pgscan_kswapd|pgscan_direct|allocstall_normal|compact_stall|thp_fault_alloc|thp_collapse_alloc) ' /proc/vmstat |
				awk '{ printf "%s=%s ", $1, $2 }')" \
			"top=$(ps -eo pcpu,stat,comm --sort=-pcpu | sed -n 2,4p | tr -s ' ' | tr '\n' '|')"
	done
}

now() { date +%s%N; }
secs() { echo "$(( $2 - $1 ))" | awk '{ printf "%.6f", $1 / 1e9 }'; }
# sample WORKLOAD CONTENDER JSON: one measurement (fsops's JSON, or a number)
sample() { printf '{"w":"%s","c":"%s","r":%s}\n' "$1" "$2" "$3" >>"$SAMPLES"; }
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
step() { echo "bench: $*"; }
die() { echo "bench: FAIL: $*"; exit 1; }

rm -rf "$B"
mkdir -p "$B"/{lower,native,ovl,fuse,cpa,tar,mem}
: >"$SAMPLES"

# --- the template, and the contenders' trees -------------------------------
step "template $(basename "$TPL")"
tar --xattrs --xattrs-include='*' --acls --numeric-owner -xpf "$TPL" -C "$B/lower" ||
	die "cannot extract $TPL"
mkdir "$B/lower/bench"
head -c $((BIG * MiB)) /dev/urandom >"$B/lower/bench/big"
for s in $SIZES; do head -c "${s#*:}" /dev/urandom >"$B/lower/bench/f${s%%:*}"; done
tfiles=$(find "$B/lower" | wc -l)
tbytes=$(du -sxb "$B/lower" | cut -f1)
tar --xattrs --xattrs-include='*' --acls -cf "$B/template.tar" -C "$B/lower" .
cp -a "$B/lower/." "$B/native/"
prog=/bin/true
[ -x "$B/lower$prog" ] || prog=/bin/busybox

"$TPLFS_BIN/tplfsd" --foreground --config /dev/null --root "$B/tplfs" \
	--store "$B/tplfs-store" --socket "$SOCK" >"$B/tplfsd.log" 2>&1 &
dpid=$!
# At the end: the daemons stopped, every mount under $B gone (the module
# must unload after the run).
cleanup() {
	local rc=$?
	kill $dpid ${xpid:-} ${mpid:-} 2>/dev/null
	wait 2>/dev/null
	t_umount_under "$B"
	(exit $rc)
	t_finish
}
trap cleanup EXIT
if [ "${TPLFS_BENCH_MONITOR:-0}" != 0 ]; then
	monitor "$TPLFS_BENCH_MONITOR" &
	mpid=$!
fi
t_wait_ready "$B/tplfsd.log" "$dpid" || die "tplfsd did not start"
$T template import os@1 --from "$B/lower" >/dev/null || die "template import"
[ -c /dev/fuse ] || die "no /dev/fuse (fuse module)"
command -v fuse-overlayfs >/dev/null || die "no fuse-overlayfs (make deps)"

# --- 1. create ---------------------------------------------------------------
ovl_mount() {	# ovl_mount DIR LOWER overlay|fuse
	mkdir -p "$1"/{u,w,m}
	if [ "$3" = overlay ]; then
		mount -t overlay overlay -o "lowerdir=$2,upperdir=$1/u,workdir=$1/w" "$1/m"
	else
		fuse-overlayfs -o "lowerdir=$2,upperdir=$1/u,workdir=$1/w" "$1/m"
	fi
}
step "1. create: $NCT containers each (tplfs, overlayfs, fuse-overlayfs), $NCOPY full copies, $NTAR extractions"
for i in $(seq "$NCT"); do
	t0=$(now)
	$T ct create "c$i" --template os@1 >/dev/null && $T ct mount "c$i" >/dev/null ||
		die "tplfs c$i"
	sample create tplfs "$(secs "$t0" "$(now)")"
done
for i in $(seq "$NCT"); do
	t0=$(now)
	ovl_mount "$B/ovl/c$i" "$B/lower" overlay || die "overlayfs c$i"
	sample create overlayfs "$(secs "$t0" "$(now)")"
done
for i in $(seq "$NCT"); do
	t0=$(now)
	ovl_mount "$B/fuse/c$i" "$B/lower" fuse || die "fuse-overlayfs c$i"
	sample create fuse-overlayfs "$(secs "$t0" "$(now)")"
done
for i in $(seq "$NCOPY"); do
	t0=$(now)
	cp -a "$B/lower" "$B/cpa/c$i" && sync || die "cp -a c$i"
	sample create "cp -a" "$(secs "$t0" "$(now)")"
	[ "$i" -le "$NTAR" ] || continue
	t0=$(now)
	mkdir "$B/tar/c$i" && tar --xattrs --xattrs-include='*' --acls --numeric-owner \
		-xpf "$B/template.tar" -C "$B/tar/c$i" && sync || die "tar c$i"
	sample create tar "$(secs "$t0" "$(now)")"
done
for i in $(seq "$NTAR"); do
	sample create_disk tplfs "$(du -sxB1 "$B/tplfs/private/c$i" | cut -f1)"
	sample create_disk overlayfs "$(du -sxB1 "$B/ovl/c$i/u" "$B/ovl/c$i/w" | awk '{ s += $1 } END { print s }')"
	sample create_disk fuse-overlayfs "$(du -sxB1 "$B/fuse/c$i/u" "$B/fuse/c$i/w" | awk '{ s += $1 } END { print s }')"
	sample create_disk "cp -a" "$(du -sxB1 "$B/cpa/c$i" | cut -f1)"
	sample create_disk tar "$(du -sxB1 "$B/tar/c$i" | cut -f1)"
done

# ct_root CONTENDER N [BASE [TPLFS_ID_PREFIX]]: the root of container N
ct_root() {
	local base=${3:-$B}
	case $1 in
	native) echo "$base/native" ;;
	tplfs) echo "$base/tplfs/root/${4:-c}$2" ;;
	overlayfs) echo "$base/ovl/c$2/m" ;;
	fuse-overlayfs) echo "$base/fuse/c$2/m" ;;
	"cp -a") echo "$base/cpa/c$2" ;;
	esac
}
declare -A ROOT
for c in native tplfs overlayfs fuse-overlayfs; do ROOT[$c]=$(ct_root "$c" 1); done
ACCESS="native tplfs overlayfs fuse-overlayfs"

# Every contender shows the same tree.
n0=$($FSOPS walk "$B/native" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
for c in $ACCESS; do
	n=$($FSOPS walk "${ROOT[$c]}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
	expect_eq "$c shows the template's $n0 entries" "$n0" "$n"
done

# --- 2. metadata walk, 3. small files, 4. large file, 5. exec ------------------
step "2-5. walk, small files, large file, exec"
for c in $ACCESS; do
	root=${ROOT[$c]}
	$FSOPS walk "$root" >/dev/null
	for _ in $(seq "$R"); do sample walk_warm "$c" "$($FSOPS walk "$root")"; done
	for _ in $(seq "$RC"); do drop_caches; sample walk_cold "$c" "$($FSOPS walk "$root")"; done
	$FSOPS smallfiles "$root" >/dev/null
	for _ in $(seq "$R"); do sample smallfiles "$c" "$($FSOPS smallfiles "$root")"; done
	for _ in $(seq "$RC"); do
		drop_caches
		sample seqread "$c" "$($FSOPS seqread "$root/bench/big")"
		drop_caches
		sample randread "$c" "$($FSOPS randread "$root/bench/big" "$RAND")"
	done
	$FSOPS exec "$root" "$prog" 1 >/dev/null || die "exec in $c"
	for _ in $(seq "$RC"); do sample exec "$c" "$($FSOPS exec "$root" "$prog" "$EXEC")"; done
done

# --- 6. copy-up: the first write to a template file, on ext4 and on xfs ------
step "6. copy-up on $TPLFS_FS"
copyup() {	# copyup FS: tplfs/overlayfs/fuse-overlayfs containers 2.. of ROOTS
	local fs=$1 s name r c
	for s in $SIZES; do
		name=${s%%:*}
		for r in $(seq "$RC"); do
			for c in $ACCESS; do
				sample "copyup_${name}_$fs" "$c" \
					"$($FSOPS firstwrite "$(ct_root "$c" $((r + 1)) "$CU_BASE" "$CU_CT")/bench/f$name")"
			done
		done
	done
}
# native: a write to the plain copy, the baseline of a first write
CU_BASE=$B CU_CT=c
copyup "$TPLFS_FS"

step "6. copy-up on xfs (a loop file)"
truncate -s "$XFS_SIZE" "$B/xfs.img"
mkfs.xfs -q -f "$B/xfs.img" && mkdir -p "$B/x" && mount -o loop "$B/xfs.img" "$B/x" ||
	die "xfs loop"
X=$B/x
mkdir -p "$X"/{lower,native,ovl,fuse}
cp -a "$B/lower/bench" "$X/lower/" && cp -a "$B/lower/bench" "$X/native/"
"$TPLFS_BIN/tplfsd" --foreground --config /dev/null --root "$X/tplfs" \
	--store "$X/tplfs-store" --socket "$X/s.sock" >"$X/tplfsd.log" 2>&1 &
xpid=$!
t_wait_ready "$X/tplfsd.log" "$xpid" || die "tplfsd (xfs) did not start"
TX="$TPLFS_BIN/tplctl --socket $X/s.sock"
$TX template import bench@1 --from "$X/lower" >/dev/null || die "xfs import"
# ct= ids are unique among all mounts: x2.. next to the first daemon's c2..
for i in $(seq 2 $((RC + 1))); do
	$TX ct create "x$i" --template bench@1 >/dev/null && $TX ct mount "x$i" >/dev/null ||
		die "xfs tplfs x$i"
	ovl_mount "$X/ovl/c$i" "$X/lower" overlay && ovl_mount "$X/fuse/c$i" "$X/lower" fuse ||
		die "xfs overlay c$i"
done
CU_BASE=$X CU_CT=x
copyup xfs
for i in $(seq 2 $((RC + 1))); do
	$TX ct umount "x$i" >/dev/null
	umount "$X/ovl/c$i/m" "$X/fuse/c$i/m"
done
kill $xpid; wait $xpid
umount "$X"

# --- 7. page cache: NMEM containers each read the same part of the template ----
step "7. page cache, $NMEM containers reading $((MEMLIMIT / MiB)) MiB each"
for c in native tplfs overlayfs fuse-overlayfs "cp -a"; do
	drop_caches
	before=$($FSOPS meminfo)
	for i in $(seq "$NMEM"); do
		$FSOPS readtree "$(ct_root "$c" "$i")/usr" "$MEMLIMIT" >/dev/null ||
			die "readtree $c $i"
	done
	after=$($FSOPS meminfo)
	sample memory "$c" "$(python3 -c 'import json,sys
print(json.loads(sys.argv[2])["cached_kib"] - json.loads(sys.argv[1])["cached_kib"])' "$before" "$after")"
done

# --- 8. the daemon ------------------------------------------------------------
step "8. tplfsd: requests/s and latency with $CLIENTS clients"
for n in $CLIENTS; do
	sample "daemon_$n" tplfs "$($LOAD "$SOCK" "$n" "$DSEC")"
done

# --- 9. fs-verity: what verity=on costs a cold open ---------------------------
# One private area over a store on ext4 with the verity feature (the import
# gives every object fs-verity), mounted twice: verity=off and verity=on.
# 6.1 cannot mount verity=on (doc/kernel-module.md): no row there.
case "$(uname -r)" in
6.1.*) step "9. fs-verity: not on 6.1" ;;
*)
	step "9. fs-verity: cold small-file reads, verity=on against off"
	V=$B/v
	mkdir -p "$V"
	truncate -s $((tbytes * 2 / MiB + 96))M "$B/verity.img"
	mkfs.ext4 -q -F -O verity -b 4096 "$B/verity.img" && mount -o loop "$B/verity.img" "$V" ||
		die "verity store"
	"$TPLFS_BIN/tplfsd" --foreground --config /dev/null --root "$V/tplfs" \
		--store "$V/store" --socket "$V/s.sock" >"$V/tplfsd.log" 2>&1 &
	xpid=$!
	t_wait_ready "$V/tplfsd.log" "$xpid" || die "tplfsd (verity) did not start"
	TV="$TPLFS_BIN/tplctl --socket $V/s.sock"
	$TV template import v@1 --from "$B/lower" >/dev/null && $TV ct create v1 --template v@1 >/dev/null ||
		die "verity import"
	kill $xpid; wait $xpid
	mkdir -p "$V/off" "$V/on"
	for m in off on; do
		mount -t tplfs -o "private=$V/tplfs/private/v1/fs,store=$V/store,ct=v$m,verity=$m" \
			tplfs "$V/$m" || die "verity=$m mount"
	done
	for _ in $(seq "$RC"); do
		for m in off on; do
			drop_caches
			sample verity_cold "$([ $m = on ] && echo 'tplfs verity=on' || echo tplfs)" \
				"$($FSOPS smallfiles "$V/$m")"
		done
	done
	umount "$V/off" "$V/on" "$V"
	;;
esac

# --- the document ---------------------------------------------------------------
echo BENCH-JSON-BEGIN
python3 "$TPLFS_TOP/bench/collect.py" "$SAMPLES" \
	--kernel "$(uname -r)" --fs "$TPLFS_FS" \
	--emulator "${TPLFS_BENCH_EMULATOR:-qemu}" \
	--template "$(basename "$TPL" | sed 's/\.tar.*//')" \
	--template-files "$tfiles" --template-bytes "$tbytes" \
	--smoke "$SMOKE" --command "${TPLFS_BENCH_COMMAND:-make bench}" \
	--params "{\"big_mib\": $BIG, \"rand\": $RAND, \"exec\": $EXEC, \"prog\": \"$prog\", \"nmem\": $NMEM, \"mem_mib\": $((MEMLIMIT / MiB))}" ||
	fail "collect.py"
echo BENCH-JSON-END
