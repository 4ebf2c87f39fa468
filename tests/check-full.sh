#!/bin/bash
# make check-full (after make check): the slow real-OS part of the store
# tests. A Debian 12 minbase template (debootstrap, cached under
# build/cache/; the busybox template if Debian's archive cannot be reached,
# and the log says so) is imported in a 6.12 guest, 50 containers are made
# from it and mounted, each compared with the template (contents in 3 of
# them), and dpkg -l and dpkg --verify run in them. Ends with
# "check-full: N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
log=$(mktemp)
trap 'rm -f "$log"' EXIT

tpl=$(scripts/template-tarball.sh debian) || { echo "check-full: 0 passed, 1 failed"; exit 1; }
dpkg=1
case "$tpl" in *busybox*) dpkg=0 ;; esac
echo "check-full: template $tpl"
tests/vm/run --no-build --kernel 6.12 --disk-size 10G --timeout 2400 \
	--script-timeout 2300 --env TPLFS_TEMPLATE="$tpl" --env TPLFS_NCT=50 \
	--env TPLFS_NDATA=3 --env TPLFS_DPKG=$dpkg \
	tests/vm/t/containers.sh 2>&1 | tee "$log"
line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
echo "check-full: ${line#*: }"
grep -q ' 0 failed' <<<"$line"
