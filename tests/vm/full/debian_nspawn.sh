#!/bin/bash
# systemd-nspawn boots containers of a Debian 12 template with systemd
# (scripts/template-tarball.sh debian-systemd) from their tplfs roots
# (issue 22, doc/runtimes.md): 5 containers of one store booted and
# stopped in turn, one of them with -U over a container of shifted ids
# (ct create --userns); each reaches `systemctl is-system-running`
# answering running or degraded (the failed units listed), runs a command
# over --pipe, writes with copy-on-write, and is held to its quota (EDQUOT
# in the booted system).
. "$TPLFS_TOP/tests/vm/lib.sh"
TPLFS_TEMPLATE=${TPLFS_TEMPLATE:-$TPLFS_TOP/build/cache/debian-12-systemd.tar.zst}
. "$TPLFS_TOP/tests/vm/full/debian-lib.sh"
B=1610612736	# 0x60000000: in the range nspawn -U takes from the root directory (0x80000..0x6fff0000)
COUNT=65536
NBOOT=${TPLFS_NBOOT:-5}

t_tplfsd "$R" "$PWD/store" "$SOCK" "$LOG"
npid=
stop_boot() { [ -z "$npid" ] || { kill -9 "$npid" 2>/dev/null; wait "$npid" 2>/dev/null; npid=; }; }
trap 'rc=$?; stop_boot; t_stop_tplfsd; (exit $rc); t_finish' EXIT
t_cgroup2

$T template import deb@1 --from "$TPL" >/dev/null || { fail "template import"; exit 1; }
# --keep-unit --register=no: no bus (the guest's init is not systemd)
nspawn() { # nspawn CGROUP ARGS...
	local cg=$1
	shift
	t_cgrun "$cg" systemd-nspawn --quiet --keep-unit --register=no \
		--resolv-conf=off --timezone=off --link-journal=no "$@"
}

# the PID 1 of the one container booted (a systemd whose pid in its own
# namespace is 1)
leader() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2>/dev/null)" = systemd ] || continue
		awk '/^NSpid:/ { exit !(NF == 3 && $3 == 1) }' "$p/status" 2>/dev/null &&
			{ echo "${p#/proc/}"; return 0; }
	done
	return 1
}
in_boot() { nsenter -t "$L" -a -r -w env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C "$@"; }
state() { in_boot systemctl is-system-running 2>/dev/null; }
settled() { case "$(state)" in running|degraded) return 0 ;; esac; return 1; }

for i in $(seq 1 "$NBOOT"); do
	c=deb$i
	opts=(--quota 300M)
	nsopts=()
	if [ "$i" = 2 ]; then
		opts+=(--userns "$B:$COUNT")
		nsopts=(-U)
	fi
	$T ct create "$c" --template deb@1 "${opts[@]}" >/dev/null &&
		$T ct mount "$c" >/dev/null || { fail "ct create and mount $c"; continue; }
	root=$R/root/$c
	out=$(nspawn "pipe-$c" --pipe "${nsopts[@]}" -D "$root" /bin/sh -c \
		'echo "$(id -u) $(. /etc/os-release; echo $ID $VERSION_ID)"; echo mine >>/etc/issue' 2>&1)
	expect_eq "$c: nspawn --pipe ${nsopts[*]} runs a command" "0 debian 12" "$out"
	expect_eq "$c: ...its write copied /etc/issue up" private \
		"$(t_is_stub "$R/private/$c/fs/etc/issue")"
	phase "$c: booting with nspawn -b ${nsopts[*]}"
	nspawn "boot-$c" -b "${nsopts[@]}" --console=passive -D "$root" -M "$c" >"$PWD/$c.boot" 2>&1 &
	npid=$!
	t_until "$c: the container's systemd started" leader || { stop_boot; continue; }
	L=$(leader)
	t_until "$c: systemctl is-system-running settles" settled
	s=$(state)
	case "$s" in
	running) ok "$c: booted: running" ;;
	degraded) ok "$c: booted: degraded; failed units: $(in_boot systemctl --failed --no-legend --plain | awk '{print $1}' | tr '\n' ' ')" ;;
	*) fail "$c: booted: $s" ;;
	esac
	if [ "$i" = 2 ]; then
		expect_match "$c: -U over shifted ids: its root is the host's $B" \
			"^ *0 +$B +$COUNT" "$(cat "/proc/$L/uid_map")"
		in_boot touch /root/made-in-boot
		expect_eq "$c: ...and what its root makes is the shifted root's" \
			"$B" "$(stat -c %u "$R/private/$c/fs/root/made-in-boot")"
	fi
	err=$(in_boot dd if=/dev/zero of=/var/tmp/big bs=1M count=400 2>&1)
	expect_match "$c: its quota holds in the booted system" "Disk quota exceeded" "$err"
	in_boot rm -f /var/tmp/big
	kill -s RTMIN+4 "$L"	# systemd's poweroff
	t_until "$c: nspawn ends when its system powers off" \
		sh -c "! kill -0 $npid 2>/dev/null"
	wait "$npid"
	expect_eq "$c: ...cleanly" 0 "$?"
	npid=
	$T ct umount "$c" >/dev/null || fail "ct umount $c"
done
