#!/bin/bash
# tests/vm/run --systemd: systemd is PID 1, the boot is over (the runner is
# Type=exec), the scratch disk is on /scratch under an overlay root, and
# tplfs is loaded from /lib/modules.
set -u
[ "$(cat /proc/1/comm)" = systemd ] || { echo "PID 1 is $(cat /proc/1/comm)"; exit 1; }
s=$(systemctl is-system-running --wait)
case "$s" in running|degraded) ;; *) echo "system $s"; exit 1 ;; esac
[ "$(findmnt -n -o FSTYPE /)" = overlay ] || { echo "/ is not the overlay"; exit 1; }
mountpoint -q /scratch || { echo "no /scratch"; exit 1; }
[ "$TPLFS_SCRATCH" = /scratch/work ] || { echo "TPLFS_SCRATCH=$TPLFS_SCRATCH"; exit 1; }
[ "$(modinfo -F filename tplfs)" = "/lib/modules/$(uname -r)/extra/tplfs.ko" ] ||
	{ echo "tplfs from $(modinfo -F filename tplfs)"; exit 1; }
grep -q '^tplfs ' /proc/modules || { echo "tplfs not loaded"; exit 1; }
