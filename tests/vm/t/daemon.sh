#!/bin/bash
# tplfsd with the module: the kernel channel (ct stats through GET_STATS,
# mount/umount events through WAIT_EVENT, also for mounts made without the
# daemon), a burst of concurrent clients, kill -9 in the middle of ct mount
# and ct umount then restart (finished from the journal), re-attaching to a
# container that stayed mounted, daemon status past one message, and
# the module unloading once the daemon is gone, by SIGTERM or kill -9,
# while its WAIT_EVENT was pending. The daemon's root has a comma in its
# path (the mount API takes each option whole), and what the module says
# of a refused mount reaches tplctl.
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

R="$PWD/tpl,fs"
# mount(8) -o cannot carry the comma; the hand-made mounts go through this
RLINK=$PWD/tplfs-link
ln -s "$R" "$RLINK"
SOCK=$PWD/tplfsd.sock
LOG=$PWD/tplfsd.log
TPLCTL="$TPLFS_BIN/tplctl --socket $SOCK"
PIDF=$PWD/tplfsd.pid

# a private area for container $1, with two stubs and a private file
make_ct() {
	local fs=$R/private/$1/fs
	mkdir -p "$fs/etc"
	t_stub "$PWD/src.bin" "$fs/data.bin"
	t_stub "$PWD/src.txt" "$fs/etc/motd"
	echo "$1" >"$fs/etc/hostname"
	printf 'backend = dir\n' >"$R/private/$1/ct.conf"
}

# start_daemon [ENV=VALUE...]: start tplfsd and wait until it serves
start_daemon() {
	local mark
	mark=$(wc -l <"$LOG" 2>/dev/null || echo 0)
	env "$@" "$TPLFS_BIN/tplfsd" --foreground --config /dev/null --root "$R" \
		--store "$T_STORE" --socket "$SOCK" >>"$LOG" 2>&1 &
	echo $! >"$PIDF"
	t_wait_ready "$LOG" "$(cat "$PIDF")" $((mark + 1)) || exit 1
}

# wait_for WHAT COMMAND...: until COMMAND succeeds (t_until), then ok
wait_for() { t_until "$@" && ok "$1"; }

stat_of() { # stat_of CT KEY
	$TPLCTL --json ct stats "$1" | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["result"][sys.argv[1]])' "$2"
}

status_has() { # status_has CT: the daemon lists CT as mounted
	$TPLCTL --json daemon status | python3 -c '
import json, sys
cts = json.load(sys.stdin)["result"]["containers"]
sys.exit(0 if any(c["id"] == sys.argv[1] and c["mounted"] for c in cts) else 1)' "$1"
}

status_lacks() { ! status_has "$1"; }

refcnt() { cat /sys/module/tplfs/refcnt; }
refcnt_is() { test "$(refcnt)" = "$1"; }	# read each time wait_for tries

head -c 1M /dev/urandom >"$PWD/src.bin"
echo "welcome" >"$PWD/src.txt"
make_ct web1
make_ct web2
make_ct ext2
base_refs=$(refcnt)

start_daemon
expect_match "the daemon follows the kernel channel" "/dev/tplfs open" \
	"$($TPLCTL daemon status)"
expect_eq "the daemon holds /dev/tplfs open" "$((base_refs + 1))" "$(refcnt)"

# --- ct mount, ct stats -----------------------------------------------------
expect_eq "ct mount" "web1: $R/root/web1" "$($TPLCTL ct mount web1)"
expect_eq "the container's stub reads the template data" \
	"$(sha256sum <"$PWD/src.bin")" "$(sha256sum <"$R/root/web1/data.bin")"
expect_eq "the kernel counted one stub open" 1 "$(stat_of web1 stub_opens)"
expect_eq "no copy-up yet" 0 "$(stat_of web1 copy_ups)"
echo more >>"$R/root/web1/data.bin"
expect_eq "a write copied the file up" 1 "$(stat_of web1 copy_ups)"
expect_eq "... all of its 1 MiB" 1048576 "$(stat_of web1 copy_up_bytes)"
# lookups counts dcache misses: data.bin was looked up once.
lookups=$(stat_of web1 lookups)
[ "$lookups" -ge 1 ] && ok "lookups are counted ($lookups)" ||
	fail "lookups: $lookups"
expect_match "ct stats, for people" 'copy-ups +1 \(1048576 bytes' \
	"$($TPLCTL ct stats web1)"
expect_match "ct mount of a mounted container is refused" "already mounted" \
	"$($TPLCTL ct mount web1 2>&1)"
expect_match "ct stats of a container not mounted" "web2 is not mounted" \
	"$($TPLCTL ct stats web2 2>&1)"

# --- events: a mount made without the daemon is seen ---------------------------
mkdir -p "$PWD/ext"
mount -t tplfs -o "private=$RLINK/private/web2/fs,store=$T_STORE,ct=ext1" tplfs "$PWD/ext"
wait_for "a mount made without the daemon arrives as an event" status_has ext1
umount "$PWD/ext"
wait_for "... and so does its umount" status_lacks ext1
expect_match "the events were logged" "kernel: unmounted ext1" "$(cat "$LOG")"
# The module announces a mount when its superblock is made, before the
# mount is in mountinfo: a daemon that read mountinfo at once missed it
# (seen under load). Held between the two by the mount API, it must
# still find it.
gate=$PWD/attach-now
$SYS attach-later "$PWD/ext" "$gate" tplfs "private=$R/private/web2/fs" \
	"store=$T_STORE" ct=ext2 >"$PWD/attach.out" &
attacher=$!
wait_for "a superblock made, not yet mounted, is announced" \
	grep -q "kernel: mounted ext2" "$LOG"
expect_eq "...and not taken for a mount yet" "" "$(status_has ext2 && echo yes)"
expect_match "the module's own refusal of a second ct=ext2 reaches tplctl" \
	"mount on $R/root/ext2: tplfs: ct=ext2: already mounted" \
	"$($TPLCTL ct mount ext2 2>&1)"
touch "$gate"
wait $attacher
expect_eq "attached once the test allows it" "CREATED|OK" "$(paste -sd'|' "$PWD/attach.out")"
wait_for "a mount attached after its announcement is found" status_has ext2
umount "$PWD/ext"
wait_for "... and its umount" status_lacks ext2

# --- daemon status past one message ------------------------------------------------
# Every mounted container was listed whatever their number: hundreds of
# mounts (or a few dozen on long paths, as here: each entry over 3 KB)
# outgrew one message and daemon status failed. Now the list stops at half
# a message and the counts stay whole.
status_count() { # status_count KEY: containers_mounted, ...
	$TPLCTL --json daemon status | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["result"][sys.argv[1]])' "$1"
}
mounted_is() { test "$(status_count containers_mounted)" = "$1"; }
long=$PWD/many
for i in $(seq 12); do long=$long/$(printf 'd%.0s' $(seq 250)); done
bad=0
for i in $(seq 30); do
	mkdir -p "$long/$i"
	mount -t tplfs -o "private=$RLINK/private/web2/fs,store=$T_STORE,ct=many$i" \
		tplfs "$long/$i" || bad=1
done
expect_eq "30 more mounts made, on paths of over 3000 bytes" 0 "$bad"
wait_for "the daemon counts them all (and web1)" mounted_is 31
out=$($TPLCTL daemon status)
expect_match "daemon status answers with 31 mounted" \
	"mounted  31 container\(s\), 0 busy" "$out"
expect_match "... and says the list is not whole" \
	"listed: tplctl ct list has them all" "$out"
expect_eq "containers_all_listed is false" False \
	"$(status_count containers_all_listed)"
for i in $(seq 30); do umount "$long/$i"; done
wait_for "once unmounted, the count is back to web1" mounted_is 1
expect_eq "... and the list is whole again" True \
	"$(status_count containers_all_listed)"

# --- a burst of concurrent clients --------------------------------------------
expect_eq "300 concurrent clients are all answered" 300 "$(python3 - "$SOCK" "$TPLFS_TOP/tests/host" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from tplproto import connect, reply
socks = [connect(sys.argv[1], timeout=120) for _ in range(300)]
for s in socks:
    s.send(b'{"verb":"ct.stats","args":{"id":"web1"}}')
ok = sum(1 for s in socks if reply(s)[0]["result"]["copy_ups"] == 1)
print(ok)
PY
)"

# --- kill -9 in the middle of ct mount, after the mount -----------------------
kill "$(cat "$PIDF")"; wait
start_daemon TPLFSD_TEST_PAUSE=ct.mount:mounted
$TPLCTL ct mount web2 >/dev/null 2>&1 &
wait_for "ct mount web2 reached its fault point" grep -q "test pause at ct.mount:mounted" "$LOG"
kill -9 "$(cat "$PIDF")"; wait
expect_eq "the journal holds the operation" "ct-web2.json" "$(ls "$R/journal")"
start_daemon
expect_match "restart: the mount had happened, so ct mount is finished" \
	"recovery: ct.mount web2 had mounted it on $R/root/web2: finished" "$(cat "$LOG")"
expect_eq "the journal is empty" "" "$(ls "$R/journal")"
expect_ok "the restarted daemon knows web2 is mounted" status_has web2
expect_ok "... and web1, which stayed mounted" status_has web1
expect_eq "... and reads web1's counters again" 1 "$(stat_of web1 copy_ups)"

# --- kill -9 in the middle of ct umount ------------------------------------------
kill "$(cat "$PIDF")"; wait
start_daemon TPLFSD_TEST_PAUSE=ct.umount:journaled
$TPLCTL ct umount web2 >/dev/null 2>&1 &
wait_for "ct umount web2 reached its fault point" grep -q "test pause at ct.umount:journaled" "$LOG"
kill -9 "$(cat "$PIDF")"; wait
expect_ok "web2 is still mounted after the kill" mountpoint -q "$R/root/web2"
start_daemon
expect_match "restart: ct umount is finished" "recovery: ct.umount web2: finished" \
	"$(cat "$LOG")"
if mountpoint -q "$R/root/web2"; then fail "web2 is unmounted"; else ok "web2 is unmounted"; fi
expect_eq "the journal is empty" "" "$(ls "$R/journal")"

# --- the module unloads once the daemon is gone -----------------------------------
expect_eq "ct umount" "web1: $R/root/web1" "$($TPLCTL ct umount web1)"
expect_eq "only the daemon holds the module" "$((base_refs + 1))" "$(refcnt)"
kill -9 "$(cat "$PIDF")"; wait
wait_for "after kill -9 its pending WAIT_EVENT ends and the module is free" \
	refcnt_is "$base_refs"
start_daemon
kill -TERM "$(cat "$PIDF")"
wait "$(cat "$PIDF")"
expect_eq "SIGTERM: the daemon exits 0" 0 "$?"
expect_eq "... and leaves the module free" "$base_refs" "$(refcnt)"
expect_match "... after saying so" "stopped" "$(tail -1 "$LOG")"
