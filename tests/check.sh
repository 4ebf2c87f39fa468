#!/bin/bash
# make check: install what is missing, build everything, run the unit tests
# on the host, then the VM tests on both target kernels and the harness's
# self-tests. Ends with one line "N passed, N failed"; exits non-zero on any
# failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2

check_name=check
. "$top/tests/check-count.sh"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

stage deps
scripts/deps.sh || { echo "check: make deps failed"; echo "0 passed, 1 failed"; exit 1; }

stage build
if ! make -s all kmod-all || ! scripts/build-kmod.sh --selftest 6.12 ||
	! scripts/build-kmod.sh --selftest 6.1 ||
	! scripts/template-tarball.sh busybox; then
	echo "check: build failed"
	echo "0 passed, 1 failed"
	exit 1
fi

stage unit tests
make -s unit 2>&1 | tee "$log"
count "$log" "unit tests"

stage "host tests of tplfsd and tplctl"
tests/host/run 2>&1 | tee "$log"
count "$log" "host tests"

stage "fuzzing the request parser (20 s)"
tests/fuzz/run 20 2>&1 | tee "$log"
count "$log" "fuzzing"

for k in 6.12 6.1; do
	stage "VM tests, $k"
	# 30 containers on 6.12 (50 in make demo and check-full); 10 are enough
	# to show 6.1 does the same. The benchmarks' smoke run (bench_smoke.sh)
	# is in make check-full: it exercises the scripts, not the kernel, and
	# the 25 minutes of make check are counted.
	# On 6.1, the scripts that test the daemon and its client more than
	# the module (tests/vm/userspace-heavy.txt: p2v, daemon, apps,
	# containers) are in make check-full; the kernel's paths they take are
	# the other scripts' too.
	scripts=()
	for s in tests/vm/t/*.sh; do
		[ "$s" = tests/vm/t/bench_smoke.sh ] && continue
		[ "$k" = 6.1 ] && grep -qx "${s##*/}" tests/vm/userspace-heavy.txt && continue
		scripts+=("$s")
	done
	# fsx: 50k operations on 6.12, 20k on 6.1 in make check (100k by hand:
	# the script's default; 6.1's 100k in make check-full), so that the
	# whole stays near 25 minutes.
	# The limits only catch hangs: a loaded machine may run this 3x slower.
	tests/vm/run --no-build --kernel "$k" --timeout 5400 --script-timeout 1800 \
		--env TPLFS_NCT="$([ "$k" = 6.12 ] && echo 30 || echo 10)" \
		--env TPLFS_FSX_OPS="$([ "$k" = 6.12 ] && echo 50000 || echo 20000)" \
		"${scripts[@]}" 2>&1 | tee "$log"
	count "$log" "VM tests on $k"
done
# xfs on 6.12; on 6.1 in make check-full (the 25 minutes)
stage "VM tests on xfs, 6.12"
tests/vm/run --no-build --kernel 6.12 --fs xfs --timeout 3600 \
	--script-timeout 1800 tests/vm/xfs/*.sh 2>&1 | tee "$log"
count "$log" "xfs VM tests on 6.12"

stage "the systemd units booted for real, 6.12 (two boots of one disk)"
# tests/vm/run --systemd: the host's systemd as the guest's init; the
# first boot installs and enables, the second checks the boot and the
# shutdown before it (6.1 in make check-full: the units do not depend on
# the kernel, and the 25 minutes are counted)
units_disk=$(mktemp -u "$top/build/vm/units.XXXXXX.img")
for boot in 1 2; do
	tests/vm/run --no-build --systemd --kernel 6.12 --disk "$units_disk" \
		--timeout 1800 tests/vm/systemd/units.sh 2>&1 | tee "$log"
	count "$log" "systemd units, boot $boot"
done
rm -f "$units_disk"

stage "crash safety of copy-up and quota, 6.12, ext4 and xfs"
# The judged stages that crash during a copy-up, on 6.12, so that make
# check stays near 25 minutes (6.1's copied and settled are in make
# check-full; "start", a crash before the copy-up begins, and
# copied-volatile, which judges nothing, run by hand: tests/vm/crash/run).
tests/vm/crash/run 6.12 copying copied random quota 2>&1 | tee "$log"
count "$log" "crash tests on 6.12"
# On xfs the copy-up is a reflink, committed without an fdatasync.
tests/vm/crash/run --fs xfs 6.12 copied random 2>&1 | tee "$log"
count "$log" "crash tests on xfs, 6.12"

stage "VM harness self-tests"
tests/vm/selftest/run 6.12 2>&1 | tee "$log"
count "$log" "harness self-tests"

echo
echo "check: $passed passed, $failed failed"
[ $failed = 0 ]
