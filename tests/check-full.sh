#!/bin/bash
# make check-full (after make check): the slow real-OS part of the store
# tests, on a Debian 12 minbase template (debootstrap, cached under
# build/cache/; the busybox template if Debian's archive cannot be reached,
# and the log says so):
#
# - tests/vm/t/containers.sh in a 6.12 guest: the template imported, 50
#   containers made from it and mounted, each compared with the template
#   (contents in 3 of them), dpkg -l and dpkg --verify run in them;
# - tests/vm/full/debian_update.sh on 6.12 and 6.1 (ext4) and on 6.12 with
#   xfs: a real update (bookworm-security's packages, fetched on the host
#   by scripts/debian-update-debs.sh) made in a maintenance container,
#   published and rebased onto 20 running containers (issue 17). Needs
#   Debian's archive: without it, it fails and says why.
# - tests/vm/full/debian_apps.sh on 6.12 and 6.1: application templates of
#   real packages (nginx-light, curl) made in containers, published as
#   layers, added to and removed from 20 running containers (issue 19).
# - tests/vm/systemd/units.sh on 6.1 (two boots with systemd as init; 6.12
#   is in make check); the xfs VM tests and the copy-up crash stages on 6.1,
#   and the benchmarks' smoke run, which make check leaves out for time;
# - tests/vm/full/debian_nspawn.sh on 6.12 and 6.1: systemd-nspawn boots 5
#   containers of Debian 12 with systemd (template-tarball.sh
#   debian-systemd) in turn, one with -U over shifted ids (issue 22).
# - on 6.1, the VM tests make check leaves out there
#   (tests/vm/userspace-heavy.txt) and fsx with 100k operations;
# - tests/vm/t/p2v.sh on 6.12 and 6.1 with the Debian template as the
#   server and a 1 GiB sparse file: over ssh, cut and killed, resumed;
#   dpkg --verify in the container as on the server (issue 20); and
#   tests/vm/crash/run p2v on both: the guest reset mid-transfer, the
#   same command resumes at the next boot.
#
# Ends with "check-full: N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
passed=0
failed=0
count() { # count LOG: add the run's "N passed, N failed"
	local line
	line=$(grep -aE '[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
	if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
	else
		failed=$((failed + 1))
	fi
}

tpl=$(scripts/template-tarball.sh debian) || { echo "check-full: 0 passed, 1 failed"; exit 1; }
dpkg=1
case "$tpl" in *busybox*) dpkg=0 ;; esac
echo "check-full: template $tpl"
tests/vm/run --no-build --kernel 6.12 --disk-size 10G --timeout 2400 \
	--script-timeout 2300 --env TPLFS_TEMPLATE="$tpl" --env TPLFS_NCT=50 \
	--env TPLFS_NDATA=3 --env TPLFS_DPKG=$dpkg \
	tests/vm/t/containers.sh 2>&1 | tee "$log"
count "$log"

if [ "$dpkg" = 1 ] && upd=$(scripts/debian-update-debs.sh); then
	for run in "6.12 ext4" "6.1 ext4" "6.12 xfs"; do
		set -- $run
		echo "check-full: the Debian update on $1, $2"
		tests/vm/run --no-build --kernel "$1" --fs "$2" --disk-size 6G \
			--timeout 3600 --script-timeout 3500 --env TPLFS_TEMPLATE="$tpl" \
			--env TPLFS_UPDATE="$upd" tests/vm/full/debian_update.sh 2>&1 | tee "$log"
		count "$log"
	done
	for k in 6.12 6.1; do
		echo "check-full: Debian app templates on $k"
		tests/vm/run --no-build --kernel "$k" --disk-size 6G \
			--timeout 3600 --script-timeout 3500 --env TPLFS_TEMPLATE="$tpl" \
			--env TPLFS_UPDATE="$upd" tests/vm/full/debian_apps.sh 2>&1 | tee "$log"
		count "$log"
	done
else
	echo "check-full: FAIL: no Debian update to test (no Debian template, or scripts/debian-update-debs.sh failed)"
	failed=$((failed + 1))
fi
# what make check leaves out for its 25 minutes: xfs on 6.1, 6.1's crash
# stages, the benchmarks' smoke run
echo "check-full: the xfs VM tests on 6.1"
tests/vm/run --no-build --kernel 6.1 --fs xfs --timeout 3600 \
	--script-timeout 1800 tests/vm/xfs/*.sh 2>&1 | tee "$log"
count "$log"
echo "check-full: crash safety of copy-up on 6.1"
tests/vm/crash/run 6.1 copied settled 2>&1 | tee "$log"
count "$log"
echo "check-full: the benchmarks' smoke run on 6.12"
tests/vm/run --no-build --kernel 6.12 --timeout 3600 --script-timeout 1800 \
	tests/vm/t/bench_smoke.sh 2>&1 | tee "$log"
count "$log"

# what make check leaves out on 6.1 (tests/vm/userspace-heavy.txt; p2v
# has its Debian run below), and fsx's 100k operations there
heavy=()
while read -r s; do
	[ "$s" = p2v.sh ] || heavy+=("tests/vm/t/$s")
done <tests/vm/userspace-heavy.txt
echo "check-full: the daemon's VM tests on 6.1, and fsx"
tests/vm/run --no-build --kernel 6.1 --timeout 3600 --script-timeout 1800 \
	--env TPLFS_NCT=10 "${heavy[@]}" tests/vm/t/fsx.sh 2>&1 | tee "$log"
count "$log"

# p2v (issue 20) of a Debian server, with a 1 GiB sparse file, on both
# kernels (the busybox one is in make check on 6.12)
for k in 6.12 6.1; do
	echo "check-full: p2v of a Debian 12 server on $k"
	tests/vm/run --no-build --kernel "$k" --disk-size 6G --timeout 3600 \
		--script-timeout 3500 --env TPLFS_TEMPLATE="$tpl" \
		--env TPLFS_P2V_SPARSE_MB=1024 tests/vm/t/p2v.sh 2>&1 | tee "$log"
	count "$log"
done

# a p2v transfer cut by a reset of the guest, resumed at the next boot
for k in 6.12 6.1; do
	echo "check-full: p2v across a reset on $k"
	tests/vm/crash/run "$k" p2v 2>&1 | tee "$log"
	count "$log"
done

# the systemd units booted for real on 6.1 (6.12 is in make check)
units_disk=$(mktemp -u "$top/build/vm/units.XXXXXX.img")
for boot in 1 2; do
	echo "check-full: the systemd units on 6.1, boot $boot"
	tests/vm/run --no-build --systemd --kernel 6.1 --disk "$units_disk" \
		--timeout 1800 tests/vm/systemd/units.sh 2>&1 | tee "$log"
	count "$log"
done
rm -f "$units_disk"

if sdtpl=$(scripts/template-tarball.sh debian-systemd); then
	for k in 6.12 6.1; do
		echo "check-full: systemd-nspawn boots Debian containers on $k"
		tests/vm/run --no-build --kernel "$k" --disk-size 6G \
			--timeout 3600 --script-timeout 3500 --env TPLFS_TEMPLATE="$sdtpl" \
			tests/vm/full/debian_nspawn.sh 2>&1 | tee "$log"
		count "$log"
	done
else
	echo "check-full: FAIL: no Debian template with systemd (scripts/template-tarball.sh debian-systemd)"
	failed=$((failed + 1))
fi
echo "check-full: $passed passed, $failed failed"
[ "$failed" = 0 ]
