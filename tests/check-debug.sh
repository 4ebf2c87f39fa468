#!/bin/bash
# make check-debug: the VM tests (tests/vm/t on ext4, tests/vm/xfs on xfs)
# on a debug build of Debian's 6.12 (lockdep, KASAN, UBSAN,
# DEBUG_ATOMIC_SLEEP, DEBUG_LIST: scripts/debug-kernel.sh, built once and
# cached). A lockdep, KASAN, UBSAN or sleep-in-atomic report fails the run
# (tests/vm/run's kernel_bad). Not part of make check. Ends with one line
# "N passed, N failed"; exits non-zero on any failure.
#
# Each stage's whole output, the guest's console included, is kept in
# build/check-debug/ (the run directories of tests/vm/run are not).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2

check_name=check-debug
. "$top/tests/check-count.sh"
logs=$top/build/check-debug
mkdir -p "$logs"
give_up() { echo "check-debug: $*"; echo "check-debug: 0 passed, 1 failed"; exit 1; }

stage deps
scripts/deps.sh --debug-kernel || give_up "scripts/deps.sh --debug-kernel failed"

stage "debug kernel (built once, then cached)"
scripts/debug-kernel.sh build 2>&1 | tee "$logs/kernel-build.log"
[ "${PIPESTATUS[0]}" = 0 ] || give_up "the debug kernel did not build (see $logs/kernel-build.log)"

stage build
if ! make -s userspace || ! scripts/build-kmod.sh debug ||
	! scripts/build-kmod.sh --selftest debug ||
	! scripts/template-tarball.sh busybox; then
	give_up "build failed"
fi

# KASAN and lockdep under TCG make the guest several times slower than with
# Debian's kernel: small workloads, and limits (which only catch hangs) far
# above what a run takes.
small=(--env TPLFS_NCT=5 --env TPLFS_FSX_OPS=5000 --env TPLFS_WAIT_MAX=1200)

stage "VM tests, debug kernel"
tests/vm/run --no-build --kernel debug --timeout 14400 --script-timeout 3600 \
	"${small[@]}" tests/vm/t/*.sh 2>&1 | tee "$logs/vm-ext4.log"
count "$logs/vm-ext4.log" "VM tests on the debug kernel"

stage "VM tests on xfs, debug kernel"
tests/vm/run --no-build --kernel debug --fs xfs --timeout 7200 --script-timeout 3600 \
	"${small[@]}" tests/vm/xfs/*.sh 2>&1 | tee "$logs/vm-xfs.log"
count "$logs/vm-xfs.log" "xfs VM tests on the debug kernel"

stage "the harness fails a lockdep and a sleep-in-atomic report"
# A module that takes two mutexes in both orders and calls might_sleep()
# under a spinlock (tests/vm/selftest/tplfs_selftest_lockdep.c): the run
# must fail on both reports although its script passes.
tests/vm/run --no-build --kernel debug --timeout 1800 \
	tests/vm/selftest/plant_lockdep.sh >"$logs/selftest-lockdep.log" 2>&1
rc=$?
problems=$(sed -n '/the guest kernel reported problems/,$p' "$logs/selftest-lockdep.log")
if [ $rc = 1 ] &&
	grep -q 'TPLFS-VM: PASS tests/vm/selftest/plant_lockdep.sh' "$logs/selftest-lockdep.log" &&
	grep -q 'possible circular locking dependency' <<<"$problems" &&
	grep -q 'sleeping function called from invalid context' <<<"$problems"; then
	echo "check-debug: ok: a planted lockdep and might_sleep report fail the run"
	passed=$((passed + 1))
else
	echo "check-debug: FAIL: a planted lockdep and might_sleep report did not fail the run (exit $rc; $logs/selftest-lockdep.log)"
	failed=$((failed + 1))
fi

echo
echo "check-debug: $passed passed, $failed failed"
[ $failed = 0 ]
