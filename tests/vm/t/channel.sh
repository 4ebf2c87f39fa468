#!/bin/bash
# The control device /dev/tplfs (doc/control-device.md): only root with
# CAP_SYS_ADMIN opens it; GET_STATS gives a mount's counters; WAIT_EVENT
# delivers mount and umount events in order, wakes when one arrives, times
# out, and says LOST when asked for events no longer kept; malformed commands
# are refused; ABORT ends a parked wait; a parked wait whose task is killed
# does not keep the module.
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

CHAN=$TPLFS_BIN/tplfs-chan
NEVER=$((1 << 62))	# an event number no test reaches
ct=chan$$

# The number of the next event: the last one kept plus one (1 if none).
next_seq() {
	$CHAN wait 1 300 1 | awk '$2 ~ /^[A-Z?]+$/ { s = $1 } END { print s + 1 }'
}
stats() { $CHAN stats "$@" | paste -sd' '; }
ms_now() { echo $(($(date +%s%N) / 1000000)); }

expect_eq "/dev/tplfs is a character device, 0600, root's" \
	"character special file 600 0 0" "$(stat -c '%F %a %u %g' /dev/tplfs)"
expect_match "a user other than root cannot open it" '^open: error=E(ACCES|PERM)$' \
	"$(setpriv --reuid=65534 --regid=65534 --clear-groups "$CHAN" stats x 2>&1)"
expect_eq "root without CAP_SYS_ADMIN cannot either" "open: error=EPERM" \
	"$(setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin "$CHAN" stats x 2>&1)"

# GET_STATS
src=$PWD/src
mkdir -p "$src"
printf 'read me\n' >"$src/a"
head -c 10000 /dev/urandom >"$src/b"
t_stub "$src/a" "$T_PRIV/a"
t_stub "$src/b" "$T_PRIV/b"
t_mount "$ct"
expect_eq "a fresh mount has counted nothing" \
	"size=56 flags=0 lookups=0 stub_opens=0 copy_ups=0 copy_up_bytes=0 copy_up_ns=0 quota_denials=0 result=56" \
	"$(stats "$ct")"
cat "$T_MNT/a" >/dev/null
cat "$T_MNT/a" >/dev/null
echo more >>"$T_MNT/b"
st=$(stats "$ct")
# (>> opens b as a stub, write-only: its write copies it up)
expect_match "two names looked up, stubs opened three times, one copied up" \
	'^size=56 flags=0 lookups=2 stub_opens=3 copy_ups=1 copy_up_bytes=10000 copy_up_ns=[1-9][0-9]* quota_denials=0 result=56$' \
	"$st"
expect_match "mountstats shows the same counters" \
	' copy_ups=1 copy_up_bytes=10000 copy_up_ns=[0-9]+ lookups=2 stub_opens=3 quota_denials=0$' \
	"$(grep " mounted on $T_MNT with fstype tplfs" /proc/self/mountstats)"
expect_eq "a shorter buffer gets only its length" \
	"size=16 flags=0 lookups=2 stub_opens=0 copy_ups=0 copy_up_bytes=0 copy_up_ns=0 quota_denials=0 result=16" \
	"$(stats "$ct" 16)"
expect_match "a longer one gets what the kernel has" '^size=56 .* result=56$' \
	"$(stats "$ct" 200)"
expect_eq "an unknown ct" "error=ENOENT" "$(stats nosuchct)"
mkdir -p "$PWD/priv_v" "$PWD/mnt_v"
mount -t tplfs -o "private=$PWD/priv_v,store=$T_STORE,ct=$ct-v,volatile" tplfs "$PWD/mnt_v" ||
	fail "volatile mount"
expect_match "a volatile mount says so" '^size=56 flags=1 ' "$(stats "$ct-v")"
umount "$PWD/mnt_v" "$T_MNT"
expect_eq "an unmounted ct is unknown" "error=ENOENT" "$(stats "$ct")"

# WAIT_EVENT: a mount and its umount, in order, with the ct and the device.
next=$(next_seq)
t_mount "$ct"
dev=$(stat -c %d "$T_MNT")
umount "$T_MNT"
expect_eq "a mount and its umount are two consecutive events" \
	"$next MOUNT $ct $dev 0|$((next + 1)) UMOUNT $ct $dev 0|result=2" \
	"$($CHAN wait "$next" 10 1000 | paste -sd'|')"
expect_eq "asking from the second gives the second" \
	"$((next + 1)) UMOUNT $ct $dev 0|result=1" \
	"$($CHAN wait $((next + 1)) 10 1000 | paste -sd'|')"
expect_eq "asking for one gives one" "$next MOUNT $ct $dev 0|result=1" \
	"$($CHAN wait "$next" 1 1000 | paste -sd'|')"
next=$((next + 2))
mount -t tplfs -o "private=$T_PRIV,store=$T_STORE" tplfs "$T_MNT" || fail "a mount without ct="
umount "$T_MNT"
expect_eq "a mount without ct= has events too, with no ct" \
	"$next MOUNT -|$((next + 1)) UMOUNT -|result=2" \
	"$($CHAN wait "$next" 10 1000 | cut -d' ' -f1-3 | paste -sd'|')"

# A parked wait is woken by the next event.
# (its timeout only ends a hang: the result tells a wake from a timeout)
$CHAN wait $((next + 2)) 4 $((T_WAIT_MAX * 1000)) >"$PWD/woken" &
waiter=$!
sleep 1
if kill -0 $waiter 2>/dev/null; then
	ok "a wait for an event not yet posted stays parked"
else
	fail "the wait completed before its event: $(cat "$PWD/woken")"
fi
t_mount "$ct"
dev=$(stat -c %d "$T_MNT")
start=$(ms_now)
wait $waiter
took=$(($(ms_now) - start))
expect_eq "the mount wakes it with the event (${took} ms after it)" \
	"$((next + 2)) MOUNT $ct $dev 0|result=1" "$(paste -sd'|' "$PWD/woken")"
umount "$T_MNT"

# Timeouts
start=$(ms_now)
out=$($CHAN wait $NEVER 1 1500)
took=$(($(ms_now) - start))
expect_eq "a wait times out with 0 events" "result=0" "$out"
# never early; late by what the emulator costs (not a speed test: the
# upper bound only catches a timeout that never fires)
if [ $took -ge 1500 ] && [ $took -lt $((T_WAIT_MAX * 1000)) ]; then
	ok "not before its timeout (1500 ms: ${took} ms)"
else
	fail "a 1500 ms timeout took ${took} ms"
fi

# LOST: 130 mounts and umounts, 260 events, push the first 4 out of the ring
# (by mount(2) and umount2(2) from one process: mount(8) 260 times costs 30 s
# under TCG).
before=$(next_seq)
start=$(ms_now)
python3 - "$T_PRIV" "$T_STORE" "$ct" "$T_MNT" <<'EOF' || fail "130 mounts and umounts"
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
priv, store, ct, mnt = sys.argv[1:]
opts = f"private={priv},store={store},ct={ct}".encode()
for i in range(130):
    if (libc.mount(b"tplfs", mnt.encode(), b"tplfs", 0, opts) or
            libc.umount2(mnt.encode(), 0)):
        sys.exit(f"mount {i}: {os.strerror(ctypes.get_errno())}")
EOF
echo "  (130 mounts and umounts: $(($(ms_now) - start)) ms)"
expect_eq "asking for an event no longer kept: LOST, then the oldest kept" \
	"$before LOST - 4|$((before + 4)) MOUNT $ct|$((before + 5)) UMOUNT $ct|result=3" \
	"$($CHAN wait "$before" 3 1000 | awk 'NF < 5 { print; next } { print $1, $2, $3 ($2 == "LOST" ? " " $4 : "") }' | paste -sd'|')"
expect_eq "a LOST entry comes alone when there is room for one" \
	"$before LOST - 4 0|result=1" "$($CHAN wait "$before" 1 1000 | paste -sd'|')"
expect_eq "the last event is kept" "$((before + 259)) UMOUNT $ct" \
	"$($CHAN wait $((before + 259)) 5 1000 | head -1 | cut -d' ' -f1-3)"

# Malformed commands
expect_ok "a command larger than 16 bytes needs SQE128" $CHAN small-ring
expect_ok "unknown commands, set reserved fields and an unterminated ct are refused" $CHAN bad
expect_ok "ABORT completes the parked waits of its file" $CHAN abort-test

# A parked wait whose task is killed lets the module go.
base=$(cat /sys/module/tplfs/refcnt)
$CHAN park $((T_WAIT_MAX * 1000)) >"$PWD/parked" &
parker=$!
t_until "the wait is parked" grep -q parked "$PWD/parked"
expect_eq "a parked wait holds the module (through its file)" $((base + 1)) \
	"$(cat /sys/module/tplfs/refcnt)"
gone() { [ ! -e /proc/"$1" ] || [ "$(cut -d' ' -f3 /proc/"$1"/stat 2>/dev/null)" = Z ]; }
start=$(ms_now)
kill -9 $parker
released() { gone $parker && [ "$(cat /sys/module/tplfs/refcnt)" = "$base" ]; }
t_until "killed with its wait parked: released" released
took=$(($(ms_now) - start))
if gone $parker && [ "$(cat /sys/module/tplfs/refcnt)" = "$base" ]; then
	ok "killed with its wait parked: gone and the module released in ${took} ms"
else
	fail "killed with its wait parked: after ${took} ms, state $(cut -d' ' -f3 /proc/$parker/stat 2>/dev/null), refcnt $(cat /sys/module/tplfs/refcnt) (was $base)"
fi
wait $parker 2>/dev/null
true
