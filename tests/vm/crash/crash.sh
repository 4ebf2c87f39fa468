#!/bin/bash
# Crash test, crashing boot: start a copy-up (an append of one byte to the
# stub), then reset the machine without syncing (sysrq-b) at the stage
# TPLFS_CRASH_AT names:
#   start     at once
#   copying   while the data is being copied (private file partly written)
#   copied    as soon as the origin is gone (the commit, maybe not on disk)
#   settled   after the copy-up and a sync
#   random    after a random delay of up to 2 s
c=$TPLFS_SCRATCH/crash
opts=private=$c/private,store=$c/store,ct=crash
[ "${TPLFS_CRASH_VOLATILE:-0}" = 1 ] && opts+=,volatile
mount -t tplfs -o "$opts" tplfs "$c/mnt" || exit 1
size=$(stat -c %s "$c/template")
crash() {
	echo "crash: stage ${TPLFS_CRASH_AT}: $*"
	echo b >/proc/sysrq-trigger
	sleep 30
}
is_stub() { getfattr --absolute-names -n trusted.tplfs.origin "$c/private/big" >/dev/null 2>&1; }

printf Z >>"$c/mnt/big" &
case "$TPLFS_CRASH_AT" in
start) crash "immediately" ;;
copying)
	for _ in $(seq 2000); do
		s=$(stat -c %s "$c/private/big")
		if [ "$s" -gt 0 ] && [ "$s" -lt "$size" ] && is_stub; then
			crash "private file at $s of $size bytes"
		fi
	done
	crash "copy not caught in progress" ;;
copied)
	while is_stub; do :; done
	crash "origin removed" ;;
settled)
	wait
	sync
	crash "after sync" ;;
random)
	sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
	sleep $((RANDOM % 2))
	crash "after a random delay" ;;
esac
