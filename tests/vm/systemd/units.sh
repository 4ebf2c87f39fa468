#!/bin/bash
# The shipped systemd units, booted for real (issue 22, doc/runtimes.md):
# run twice by tests/vm/run --systemd on one --disk, the first boot sets up,
# the second checks what the boot did.
#
# Boot 1: make install (units, modules-load.d, the nspawn example);
# tplfsd.socket alone enabled: the first tplctl call starts tplfsd.service,
# Type=notify, which reaches ready and runs with exactly the capabilities
# doc/tplfsd.md lists; a container enabled as tplfs-ct@c1 and booted as
# systemd-nspawn@c1 with the shipped drop-in (its command replaced by a
# busybox loop: the busybox template has no init); then the guest powers
# off through systemd.
# Boot 2: systemd-modules-load loaded tplfs; tplfs-ct@c1 mounted c1 at boot
# and systemd-nspawn@c1 started after it; at the last shutdown the
# container's unit stopped before tplfs-ct@c1 unmounted it, cleanly; its
# quota usage was checkpointed: no rescan, and the same figure.
. "$TPLFS_TOP/tests/vm/lib.sh"
[ "${TPLFS_SYSTEMD:-0}" = 1 ] || { fail "run me with tests/vm/run --systemd"; exit 1; }
S=/scratch/state
TPL=$TPLFS_TOP/build/cache/busybox-template.tar.zst
# in capsh --decode order (by number)
CAPS=cap_chown,cap_dac_override,cap_dac_read_search,cap_fowner,cap_fsetid,cap_sys_admin,cap_mknod,cap_setfcap
T=/usr/local/bin/tplctl
active() { [ "$(systemctl is-active "$1")" = active ]; }
mono() { systemctl show -p "$2" --value "$1"; }
quota_used() { $T --json ct quota c1 | python3 -c 'import json,sys; r=json.load(sys.stdin)["result"]; print(r["bytes"]["used"], r["usage_from"], r["exact"])'; }

if [ ! -e "$S/boot1" ]; then
	echo "  -- boot 1: install, socket activation, capabilities, units enabled"
	mkdir -p "$S"
	expect_ok "make install (DKMS=no: the module is the harness's)" \
		make -s -C "$TPLFS_TOP" install DKMS=no
	mkdir -p /etc/tplfs
	printf 'root = %s\nstore = %s\n' "$S/tplfs" "$S/store" >/etc/tplfs/tplfs.conf
	systemctl daemon-reload
	expect_ok "systemctl enable --now tplfsd.socket" systemctl enable --now tplfsd.socket
	expect_eq "tplfsd.service waits for its first client" inactive \
		"$(systemctl is-active tplfsd.service)"
	expect_match "the first tplctl call is answered" "^tplfsd [0-9]" "$($T daemon status)"
	expect_eq "...by tplfsd.service, started by the socket" "active running" \
		"$(mono tplfsd.service ActiveState) $(mono tplfsd.service SubState)"
	# its StatusText comes from sd_notify only
	expect_match "...a Type=notify service that said it was ready" \
		"^notify (serving|[0-9]+ client)" \
		"$(mono tplfsd.service Type) $(mono tplfsd.service StatusText)"
	pid=$(mono tplfsd.service MainPID)
	for set in CapEff CapPrm CapBnd; do
		hex=$(awk -v s="$set:" '$1 == s {print $2}' "/proc/$pid/status")
		expect_eq "tplfsd's $set: the capabilities doc/tplfsd.md lists" "$CAPS" \
			"$(capsh --decode="$hex" | sed 's/.*=//')"
	done
	expect_eq "...none inheritable or ambient, and no new privileges" "0 0 1" \
		"$(awk '$1 == "CapInh:" {i=$2+0} $1 == "CapAmb:" {a=$2+0} $1 == "NoNewPrivs:" {n=$2} END {print i, a, n}' "/proc/$pid/status")"

	$T template import os@1 --from "$TPL" >/dev/null || fail "template import"
	$T ct create c1 --template os@1 --quota 16M >/dev/null || fail "ct create c1"
	d=/etc/systemd/system/systemd-nspawn@c1.service.d
	mkdir -p "$d"
	cp /usr/local/share/doc/tplfs/examples/systemd-nspawn-tplfs.conf "$d/tplfs.conf"
	# the busybox template has no init: a loop instead of --boot
	cat >"$d/zz-test.conf" <<-EOT
	[Service]
	ExecStart=
	ExecStart=systemd-nspawn --quiet --keep-unit --register=no --machine=%i --directory=$S/tplfs/root/%i /bin/sh -c 'echo up >/var/log/ct-up; while :; do sleep 1; done'
	EOT
	systemctl daemon-reload
	expect_ok "enable tplfs-ct@c1, systemd-nspawn@c1 and machines.target" \
		systemctl enable tplfs-ct@c1.service systemd-nspawn@c1.service machines.target
	expect_ok "systemctl start systemd-nspawn@c1" systemctl start systemd-nspawn@c1.service
	expect_eq "...which started tplfs-ct@c1 first (Requires, After)" active \
		"$(systemctl is-active tplfs-ct@c1.service)"
	t_until "the container runs" test -e "$S/tplfs/root/c1/var/log/ct-up"
	dd if=/dev/urandom of="$S/tplfs/root/c1/root/data" bs=64K count=16 conv=fsync status=none ||
		fail "write in c1"
	quota_used | cut -d' ' -f1 >"$S/used"
	touch "$S/boot1"
	echo "  -- powering off through systemd (tests/vm/run --systemd boots again)"
	exit
fi

echo "  -- boot 2: what the boot and the last shutdown did"
expect_eq "systemd-modules-load loaded tplfs at boot (modules-load.d)" 1 \
	"${TPLFS_LOADED_AT_BOOT:-0}"
if ! t_until "tplfs-ct@c1 and systemd-nspawn@c1 are active" \
	sh -c "[ \"\$(systemctl is-active tplfs-ct@c1 systemd-nspawn@c1 | sort -u)\" = active ]"; then
	systemctl cat systemd-nspawn@c1.service | sed 's/^/    /'
	journalctl -b -o short-monotonic -u systemd-nspawn@c1.service -u tplfs-ct@c1.service |
		sed 's/^/    /'
fi
expect_eq "tplfs-ct@c1 mounted c1 at boot" tplfs \
	"$(findmnt -n -o FSTYPE "$S/tplfs/root/c1")"
a=$(mono tplfs-ct@c1.service ActiveEnterTimestampMonotonic)
b=$(mono systemd-nspawn@c1.service InactiveExitTimestampMonotonic)
expect_ok "systemd-nspawn@c1 started after c1 was mounted ($a <= $b)" test "$a" -le "$b"
order=$(journalctl -b -1 -o cat -u systemd-nspawn@c1.service -u tplfs-ct@c1.service |
	awk '/^Stopped .*Container c1/ {printf "container-stopped "}
	     /^Stopping .*tplfs container c1/ {printf "umount-begins "}
	     /^Stopped .*tplfs container c1/ {printf "umount-done "}')
expect_eq "at the last shutdown the container stopped, then tplfs-ct@c1 unmounted it" \
	"container-stopped umount-begins umount-done " "$order"
expect_eq "...cleanly" "" \
	"$(journalctl -b -1 -o cat -u tplfs-ct@c1.service | grep -iE 'fail|busy')"
t_until "tplfsd is up" $T daemon status
expect_eq "c1's usage was checkpointed: no rescan at this boot" "" \
	"$(journalctl -b -o cat -u tplfsd.service | grep 'usage rescanned')"
expect_eq "...the same figure, exact, from the kernel" "$(cat "$S/used") kernel True" \
	"$(quota_used)"
