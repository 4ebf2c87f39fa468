#!/bin/bash
# Second stage of a tplfs test guest, running on the host's root filesystem
# (read-only, over 9p): load the modules, mount the scratch disk, run the test
# scripts one by one, unload tplfs, report, power off.
#
# Everything the host decided is in $1/guest.env. Lines starting with
# "TPLFS-VM:" are read by tests/vm/run on the host.
set -u
run=$1
# shellcheck source=/dev/null
. "$run/guest.env"

mark() { echo "TPLFS-VM: $*"; }
# --systemd: run by tplfs-vm-tests.service; the scratch disk is on
# /scratch already (it holds the root's overlay: never unmounted), the
# scripts work in /scratch/work, and the guest powers off cleanly through
# systemd, so that units stop as they would on a host.
if [ "${TPLFS_SYSTEMD:-0}" = 1 ]; then
	# sync first: files written by the scripts into the overlay were
	# found empty at the next boot of the disk (the drop-ins of
	# tests/vm/systemd/units.sh), the final sync of systemd-shutdown
	# notwithstanding
	poweroff_now() { sync; systemctl --no-block poweroff; exit 0; }
else
# Wait for the power-off in the shell itself, with builtins only: once it
# has begun, the 9p root may be gone; a program run from it then fails
# (EIO), this shell (init) exits and the kernel panics "Attempted to kill
# init" after the result (seen under load, in sleep 60).
poweroff_now() {
	local fifo=/run/tplfs-poweroff
	sync
	mkfifo "$fifo" 2>/dev/null && exec 3<>"$fifo"
	echo o >/proc/sysrq-trigger
	# nothing writes the fifo: this returns after 300 s only if the
	# power-off never came (then init exits and the kernel says so)
	if [ -e /proc/self/fd/3 ]; then
		read -r -t 300 -u 3 _
	else
		for ((i = 0; i < 100000000; i++)); do :; done
	fi
}
fi

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=${TERM:-dumb} LANG=C.UTF-8
TPLFS_SCRATCH=/tmp/scratch
[ "${TPLFS_SYSTEMD:-0}" = 1 ] && TPLFS_SCRATCH=/scratch/work
export TPLFS_TOP TPLFS_KERNEL TPLFS_KVER TPLFS_SCRATCH TPLFS_FS TPLFS_SYSTEMD
export TPLFS_KO TPLFS_SELFTEST_DIR TPLFS_BIN=$TPLFS_TOP/build/bin
hostname tplfs-guest 2>/dev/null

# Hung tasks must be seen within a test run, not after it (the script
# timeout is 600 s or more), and a task a loaded host starved under TCG is
# no hung task: 120 s, the kernel's default.
echo 120 >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null

setup_failed=0
for m in virtio_blk loop dm-thin-pool xfs ext4 overlay fuse; do
	if ! modprobe -d "$TPLFS_KROOT" -S "$TPLFS_KVER" "$m"; then
		mark "setup: cannot load module $m"
		setup_failed=1
	fi
done
if [ "${TPLFS_SYSTEMD:-0}" = 1 ]; then
	# what systemd-modules-load did, for the scripts to see
	grep -q '^tplfs ' /proc/modules && export TPLFS_LOADED_AT_BOOT=1
	if ! modprobe tplfs; then
		mark "setup: cannot load tplfs from /lib/modules/$TPLFS_KVER"
		setup_failed=1
	fi
elif ! insmod "$TPLFS_KO"; then
	mark "setup: cannot load $TPLFS_KO"
	setup_failed=1
fi
mkdir -p "$TPLFS_SCRATCH"
if [ "${TPLFS_SYSTEMD:-0}" = 1 ]; then
	mountpoint -q /scratch || { mark "setup: no scratch disk on /scratch"; setup_failed=1; }
elif ! mount /dev/vda "$TPLFS_SCRATCH"; then
	mark "setup: cannot mount the scratch disk ($TPLFS_FS)"
	setup_failed=1
fi
if [ $setup_failed != 0 ]; then
	mark "RESULT passed=0 failed=1"
	poweroff_now
fi

if [ "$TPLFS_SHELL" = 1 ]; then
	echo "tplfs guest: kernel $TPLFS_KVER, tplfs loaded, scratch ($TPLFS_FS) on $TPLFS_SCRATCH."
	echo "Exit the shell to power off."
	cd $TPLFS_SCRATCH && setsid -c bash -i
	mark "RESULT passed=0 failed=0"
	poweroff_now
fi

passed=0
failed=0
i=0
# the list on a descriptor of its own, each script's stdin /dev/null: a
# script that reads its stdin (ssh does) must not eat the scripts after it
while IFS=$'\t' read -r -u 4 orig script; do
	i=$((i + 1))
	name=${orig#"$TPLFS_TOP"/}
	work=$TPLFS_SCRATCH/t$i
	mkdir -p "$work"
	mark "BEGIN $name"
	start=$(date +%s)
	(cd "$work" && exec timeout --kill-after=10 "$TPLFS_SCRIPT_TIMEOUT" bash "$script" </dev/null)
	rc=$?
	secs=$(($(date +%s) - start))
	# A test must leave nothing mounted on top of the scratch disk.
	while read -r _ mnt _; do
		case "$mnt" in "$TPLFS_SCRATCH"/*)
			mark "END $name: left $mnt mounted"
			umount -l "$mnt"
			[ "$rc" = 0 ] && rc=1
			;;
		esac
	done < <(tac /proc/mounts)
	if [ "$rc" = 0 ]; then
		passed=$((passed + 1))
		mark "PASS $name (${secs}s)"
	else
		failed=$((failed + 1))
		mark "FAIL $name (exit $rc, ${secs}s)"
	fi
done 4<"$run/scripts"

if [ "${TPLFS_SYSTEMD:-0}" = 1 ]; then
	# the units of the scripts may hold tplfs mounts until the shutdown
	mark "RESULT passed=$passed failed=$failed"
	poweroff_now
fi
umount "$TPLFS_SCRATCH" || { mark "FAIL cleanup: scratch busy"; failed=$((failed + 1)); }
if rmmod tplfs; then
	passed=$((passed + 1))
	mark "PASS module unloads"
else
	failed=$((failed + 1))
	mark "FAIL module unloads: rmmod tplfs failed"
fi
mark "RESULT passed=$passed failed=$failed"
poweroff_now
