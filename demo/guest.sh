#!/bin/bash
# demo/guest.sh: what tplfs is for, in one test guest (demo/run boots it).
# A real Debian 12 template, 50 containers from it, programs run in them,
# copy-on-write, a quota hit, and a summary whose every figure is checked
# against an independent measurement taken here (lines "ok:" / "FAIL:").
#
#   TPLFS_DEMO_TEMPLATE  the template tarball (demo/run passes it)
#   TPLFS_DEMO_NCT       containers (default 50)
. "$TPLFS_TOP/tests/vm/lib.sh"

TPL=${TPLFS_DEMO_TEMPLATE:-$TPLFS_TOP/build/cache/debian-12-minbase.tar.zst}
N=${TPLFS_DEMO_NCT:-50}
D=$TPLFS_SCRATCH/demo
SOCK=$D/tplfsd.sock
T="$TPLFS_BIN/tplctl --socket $SOCK"
FSOPS=$TPLFS_TOP/build/bench/fsops
USAGE="python3 $TPLFS_TOP/tests/vm/tools/usage.py"
MiB=$((1024 * 1024))

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
now() { date +%s%N; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
kib() { awk -v b="$1" 'BEGIN { printf "%.0f KiB", b / 1024 }'; }
json() {	# json PYEXPR TPLCTL-ARGS...: a field of tplctl --json's result
	local expr=$1
	shift
	$T --json "$@" | python3 -c "import json,sys; r=json.load(sys.stdin)['result']; print($expr)"
}
# within WHAT A B PERCENT: A and B agree within PERCENT %
within() {
	expect_eq "$1 ($2 vs $3)" yes "$(awk -v a="$2" -v b="$3" -v p="$4" \
		'BEGIN { d = a - b; if (d < 0) d = -d; m = (a > b ? a : b); print (m == 0 || d * 100 <= p * m) ? "yes" : "no" }')"
}

rm -rf "$D"
mkdir -p "$D"
"$TPLFS_BIN/tplfsd" --foreground --config /dev/null --root "$D/tplfs" \
	--store "$D/store" --socket "$SOCK" >"$D/tplfsd.log" 2>&1 &
dpid=$!
cleanup() {
	local rc=$?
	kill $dpid 2>/dev/null
	wait $dpid 2>/dev/null
	t_umount_under "$D"
	(exit $rc)
	t_finish
}
trap cleanup EXIT
t_wait_ready "$D/tplfsd.log" "$dpid" || exit 1

say "tplfsd: one io_uring daemon; tplctl talks to it"
run $T daemon status | head -4

# --- the template -------------------------------------------------------------
say "A template: $(basename "$TPL")"
t0=$(now)
echo "\$ $T template import debian-12@1 --from $TPL"
$T template import debian-12@1 --from "$TPL" | tail -1
[ "${PIPESTATUS[0]}" = 0 ] || { fail "template import"; exit 1; }
echo "(imported in $((($(now) - t0) / 1000000)) ms)"
run $T template list
tfiles=$(json "r['templates'][0]['files']" template list)
tbytes=$(json "r['templates'][0]['bytes']" template list)
# Independent: the tarball itself, as GNU tar lists it.
read -r ref_files ref_bytes < <(tar -tvf "$TPL" | awk '$1 ~ /^-/ { n++; s += $3 } END { print n, s }')
expect_eq "template files: tplfsd counts what tar lists" "$ref_files" "$tfiles"
expect_eq "template bytes: tplfsd counts what tar lists" "$ref_bytes" "$tbytes"

# --- containers ---------------------------------------------------------------
say "$N containers from it (each with a 1 GiB quota)"
df0=$(df -B1 --output=used "$TPLFS_SCRATCH" | tail -1)
: >"$D/create.ms"
for i in $(seq "$N"); do
	t0=$(now)
	$T ct create "c$i" --template debian-12@1 --quota 1G >/dev/null ||
		{ fail "ct create c$i"; exit 1; }
	echo $((($(now) - t0) / 1000000)) >>"$D/create.ms"
	[ $((i % 10)) = 0 ] && echo "  $i created"
done
sync
df1=$(df -B1 --output=used "$TPLFS_SCRATCH" | tail -1)
create_ms=$(sort -n "$D/create.ms" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
for i in $(seq "$N"); do $T ct mount "c$i" >/dev/null || fail "ct mount c$i"; done
run $T ct list | head -4
echo "  ..."
run $T ct status c1
disk=0
for i in $(seq "$N"); do disk=$((disk + $(json "r['disk_bytes']" ct status --scan "c$i"))); done
du_disk=$(du -sxB1 "$D/tplfs/private"/c*/fs | awk '{ s += $1 } END { print s }')
expect_eq "disk of $N containers: tplfsd's count is du's" "$du_disk" "$disk"
within "disk of $N containers: what df says the disk lost" "$disk" $((df1 - df0)) 25
# Stubs left in the private areas: each copy-up turns one into a file.
stubs() {
	python3 - "$D/tplfs/private" <<'EOF'
import os, sys
n = 0
for top, dirs, files in os.walk(sys.argv[1]):
    for f in files:
        try:
            os.getxattr(os.path.join(top, f), "trusted.tplfs.origin",
                        follow_symlinks=False)
            n += 1
        except OSError:
            pass
print(n)
EOF
}
stubs0=$(stubs)

# --- programs run in them ---------------------------------------------------------
say "Real programs in the containers"
sh=/bin/bash
[ -x "$D/tplfs/root/c1$sh" ] || sh=/bin/sh	# the busybox stand-in
run chroot "$D/tplfs/root/c1" $sh -c 'echo "$(cat /etc/os-release | grep ^PRETTY_NAME=) in $(cat /etc/hostname), ${BASH_VERSION:+bash $BASH_VERSION}"'
if [ -x "$D/tplfs/root/c2/usr/bin/dpkg" ]; then
	expect_match "dpkg -l lists the template's packages" "^[0-9]{2,}$" \
		"$(chroot "$D/tplfs/root/c2" dpkg -l | grep -c '^ii')"
	echo "  dpkg -l in c2: $(chroot "$D/tplfs/root/c2" dpkg -l | grep -c '^ii') packages installed"
	expect_ok "dpkg --verify in c3: every package's files are intact" \
		chroot "$D/tplfs/root/c3" dpkg --verify
else
	echo "  (this template has no dpkg: no dpkg -l, no dpkg --verify)"
fi

changed=/etc/motd
[ -e "$D/tplfs/root/c1$changed" ] || changed=/etc/os-release
say "Copy-on-write: a change in one container stays there"
run chroot "$D/tplfs/root/c2" $sh -c "echo 'c2 was here' >$changed"
for i in 1 2 3; do printf 'c%s: %s: %s\n' "$i" "$changed" "$(grep -m1 . "$D/tplfs/root/c$i$changed")"; done
expect_eq "c2 sees its change" "c2 was here" "$(cat "$D/tplfs/root/c2$changed")"
expect_eq "c1 does not" "$(tar -xOf "$TPL" ".$changed")" "$(cat "$D/tplfs/root/c1$changed")"

# --- page cache ---------------------------------------------------------------------
say "One page cache for all: $N containers read /usr/bin"
sync
echo 3 >/proc/sys/vm/drop_caches
cached() { awk '/^Cached:/ { print $2 }' /proc/meminfo; }
$FSOPS meminfo >/dev/null	# the tool itself in the cache first
c0=$(cached)
for i in $(seq "$N"); do
	one=$($FSOPS readtree "$D/tplfs/root/c$i/usr/bin" | sed 's/.*"bytes":\([0-9]*\).*/\1/')
done
c1=$(cached)
cache=$(((c1 - c0) * 1024))
echo "  each read $(mib "$one"); the page cache grew by $(mib "$cache") for all $N"
# Independent: the objects those files stand for, as fincore sees them.
objs=$(find "$D/store/objects" -type f -print0 | xargs -0 fincore --bytes --noheadings --output RES |
	awk '{ s += $1 } END { print s + 0 }')
within "the page cache holds one copy (fincore of the store's objects)" "$cache" "$objs" 30
expect_match "far from $N copies" "^yes$" "$([ "$cache" -lt $((2 * one)) ] && echo yes)"

# --- quota --------------------------------------------------------------------------
say "Quota: c5 gets a 16 MiB limit, at once, while mounted"
run $T ct quota c5 --set 12M:16M
used5=$(json "r['bytes']['used']" ct quota c5)
run df -h "$D/tplfs/root/c5"
echo "$ dd if=/dev/zero of=/big bs=1M   # in c5"
err=$(chroot "$D/tplfs/root/c5" dd if=/dev/zero of=/big bs=1M 2>&1 | grep -i error)
echo "  $err"
expect_match "writing past the limit fails with EDQUOT" "Disk quota exceeded" "$err"
run $T ct quota c5
run df -h "$D/tplfs/root/c5"
expect_eq "c5 holds exactly its hard limit" $((16 * MiB)) "$(json "r['bytes']['used']" ct quota c5)"
expect_eq "the kernel's usage is what a fresh count of c5's private area finds" \
	"$($USAGE "$D/tplfs/private/c5/fs" | cut -d' ' -f1)" "$(json "r['bytes']['used']" ct quota c5)"
expect_match "df in c5 shows the limit" "^tplfs +12M" \
	"$(df -h --output=source,size "$D/tplfs/root/c5" | tail -1)"

# --- copy-ups -------------------------------------------------------------------------
copyups=0
for i in $(seq "$N"); do copyups=$((copyups + $(json "r['copy_ups']" ct stats "c$i"))); done
expect_eq "copy-ups: the kernel's count is the stubs that became files" \
	$((stubs0 - $(stubs))) "$copyups"

say "Summary: $N containers of $(basename "$TPL" | sed 's/\.tar.*//') on $(uname -r) ($TPLFS_FS, qemu TCG)"
printf '  %-34s %s\n' \
	"template" "$tfiles files, $(mib "$tbytes")" \
	"disk used by $N containers" "$(mib "$disk") ($(kib $((disk / N))) each)" \
	"page cache, /usr/bin read by all" "$(mib "$cache") (one copy: $(mib "$one"))" \
	"time per container create" "$create_ms ms (median; qemu TCG, not real hardware)" \
	"copy-ups done" "$copyups" \
	"quota" "c5 refused at $(mib $((16 * MiB))): Disk quota exceeded"
echo
echo "Every figure above was checked against an independent measurement (ok: lines)."
