#!/bin/bash
# Application templates on mounted containers (issue 19): app@1, a layer
# of os@1 (a program, a config file, a package in dpkg's status, a file
# removed), added to running containers: the program runs in each (over
# a cached negative dentry), the file it removes goes while a descriptor
# held open still reads it, one page-cache copy serves them all; the
# container that made its own config is refused, then kept with
# --keep-mine; ct app rm takes it all back; kill -9 of the daemon in the
# middle of an add is finished by the next start, the tree then the
# added one; a rebase of a running container carries its app.
. "$TPLFS_TOP/tests/vm/lib.sh"

t_daemon_places

t_tplfsd "$R" "$PWD/store" "$SOCK" "$LOG"
pids=""
stop_pids() { [ -z "$pids" ] || { kill $pids 2>/dev/null; wait $pids 2>/dev/null; pids=""; }; }
trap 'rc=$?; exec 9<&-; stop_pids; t_stop_tplfsd; (exit $rc); t_finish' EXIT
src=$PWD/src
mkdir -p "$src/var/lib/dpkg"
tar --xattrs --xattrs-include='*' --numeric-owner -xpf "$TPL" -C "$src"
printf 'Package: busybox\nStatus: install ok installed\nVersion: 1\n\n' >"$src/var/lib/dpkg/status"
printf 'goes with the app\n' >"$src/etc/old-only"
$T template import os@1 --from "$src" >/dev/null || { fail "template import os@1"; exit 1; }
app=$PWD/app
cp -a "$src" "$app"
mkdir -p "$app/usr/bin"
printf '#!/bin/sh\necho hello from app\n' >"$app/usr/bin/app-hello"
chmod 0755 "$app/usr/bin/app-hello"
head -c 1M /dev/urandom >"$app/usr/bin/app-data"
printf 'listen 80\n' >"$app/etc/app.conf"
printf 'Package: app\nStatus: install ok installed\nVersion: 1\n\n' >>"$app/var/lib/dpkg/status"
rm "$app/etc/old-only"
expect_match "an application template is imported as a layer" '^app@1: ' \
	"$($T template import app@1 --from "$app" --layer-of os@1)"

for c in a1 a2 a3; do
	$T ct create $c --template os@1 >/dev/null && $T ct mount $c >/dev/null ||
		{ fail "ct create and mount $c"; exit 1; }
done
M=$R/root/a1
P=$R/private/a1/fs
# a running program, a negative dentry for the new one, the file that
# goes held open
chroot "$M" /bin/busybox sleep 100000 &
pids="$pids $!"
expect_eq "app-hello is not there yet" no "$([ -e "$M/usr/bin/app-hello" ] && echo yes || echo no)"
exec 9<"$M/etc/old-only"
printf 'listen 8080\n' >"$R/root/a2/etc/app.conf"

out=$($T ct app add a1 app@1)
expect_match "ct app add of a mounted container" \
	'^a1: changed for app@1: [0-9]+ updated, [0-9]+ created, 1 removed, 0 kept, 0 conflicts, 0 merged, 0 busy' \
	"$(tail -1 <<<"$out")"
expect_eq "the program runs in it" "hello from app" "$(chroot "$M" /usr/bin/app-hello 2>&1)"
expect_eq "as a stub" stub "$(t_is_stub "$P/usr/bin/app-hello")"
expect_match "dpkg's status has the app's package" '^Package: app$' "$(cat "$M/var/lib/dpkg/status")"
expect_eq "the file it removes is gone" no "$([ -e "$M/etc/old-only" ] && echo yes || echo no)"
expect_eq "a descriptor held open still reads it" "goes with the app" "$(cat <&9)"
exec 9<&-
expect_eq "ct app list" "a1: os@1
  app@1" "$($T ct app list a1)"

out=$($T ct app add a2 app@1 2>&1)
expect_match "the container's own app.conf refuses the add" \
	'changes 1 path\(s\) the container changed: /etc/app.conf' "$out"
expect_eq "and nothing is added" no "$([ -e "$R/root/a2/usr/bin/app-hello" ] && echo yes || echo no)"
expect_match "--keep-mine keeps it" '1 conflicts' "$($T ct app add a2 app@1 --keep-mine | tail -1)"
expect_eq "its app.conf" "listen 8080" "$(cat "$R/root/a2/etc/app.conf")"
expect_eq "the program runs there too" "hello from app" "$(chroot "$R/root/a2" /usr/bin/app-hello 2>&1)"

# one page-cache copy for both: read in a1 (cold), then in a2
sync
echo 3 >/proc/sys/vm/drop_caches
before=$(awk '/^Cached:/ {print $2}' /proc/meminfo)
cat "$M/usr/bin/app-data" >/dev/null
one=$(awk '/^Cached:/ {print $2}' /proc/meminfo)
cat "$R/root/a2/usr/bin/app-data" >/dev/null
two=$(awk '/^Cached:/ {print $2}' /proc/meminfo)
echo "  page cache: +$((one - before)) KiB for a1, +$((two - one)) KiB for a2"
expect_eq "the second container's read adds no copy (< 512 KiB of 1 MiB)" yes \
	"$([ $((two - one)) -lt 512 ] && [ $((one - before)) -ge 900 ] && echo yes || echo no)"

out=$($T ct app rm a1 app)
expect_match "ct app rm" '^a1: changed for app@1: .* 0 conflicts' "$(tail -1 <<<"$out")"
expect_eq "the program is gone" no "$([ -e "$M/usr/bin/app-hello" ] && echo yes || echo no)"
expect_eq "the removed file is back" "goes with the app" "$(cat "$M/etc/old-only" 2>&1)"
expect_eq "dpkg's status is the template's" "$(cat "$src/var/lib/dpkg/status")" \
	"$(cat "$M/var/lib/dpkg/status")"
expect_eq "a stub of it again" stub "$(t_is_stub "$P/var/lib/dpkg/status")"
expect_match "ct.conf names no app" '^$' "$(grep '^apps' "$R/private/a1/ct.conf")"

# a rebase of a running container carries its app (app@1 still applies
# to os@2, which changes only profile)
src2=$PWD/src2
cp -a "$src" "$src2"
printf 'export V=2\n' >"$src2/etc/profile"
$T template import os@2 --from "$src2" >/dev/null || fail "template import os@2"
expect_match "ct rebase of a container with an app" '^a2: rebased from os@1 to os@2: .* 0 merged, 0 busy' \
	"$($T ct rebase a2 --to os@2 | tail -1)"
expect_eq "the new profile" "export V=2" "$(cat "$R/root/a2/etc/profile")"
expect_eq "the app still runs" "hello from app" "$(chroot "$R/root/a2" /usr/bin/app-hello 2>&1)"
expect_eq "its own app.conf still" "listen 8080" "$(cat "$R/root/a2/etc/app.conf")"
expect_match "ct.conf: os@2 with app@1" '^template = os@2
apps = app@1$' "$(grep -E '^(template|apps) ' "$R/private/a2/ct.conf")"

# kill -9 in the middle of an add to a mounted container
kill "$T_DPID"
wait "$T_DPID"
line=$(($(wc -l <"$LOG") + 1))
TPLFSD_TEST_PAUSE=ct.rebase:updated-one "$TPLFS_BIN/tplfsd" --foreground \
	--config /dev/null --root "$R" --store "$PWD/store" --socket "$SOCK" >>"$LOG" 2>&1 &
T_DPID=$!
t_wait_ready "$LOG" "$T_DPID" "$line" || exit 1
$T ct app add a3 app@1 >/dev/null 2>&1 &
adder=$!
t_until "the add pauses after its first path" grep -q 'test pause at ct.rebase:updated-one' "$LOG"
kill -9 "$T_DPID"
wait "$T_DPID" 2>/dev/null
wait "$adder" 2>/dev/null
line=$(($(wc -l <"$LOG") + 1))
t_tplfsd "$R" "$PWD/store" "$SOCK" "$LOG"
expect_match "the next start finishes it" 'recovery: ct a3 app app@1 added: finished' \
	"$(tail -n +"$line" "$LOG")"
expect_eq "the program runs in it" "hello from app" "$(chroot "$R/root/a3" /usr/bin/app-hello 2>&1)"
expect_eq "the removed file is gone" no "$([ -e "$R/root/a3/etc/old-only" ] && echo yes || echo no)"
expect_match "ct.conf names the app" '^apps = app@1$' "$(cat "$R/private/a3/ct.conf")"

# an app template that runs its postinst in each container it is added to
# (--run-postinst): in the container (its own /etc/ct-name), as its root, a
# user of its own added; through systemd-nspawn -U, run by tplctl
t_cgroup2
svc=$PWD/svc
cp -a "$src" "$svc"
mkdir -p "$svc/var/lib/dpkg/info"
printf '#!/bin/sh\necho svc\n' >"$svc/usr/bin/svc"
chmod 0755 "$svc/usr/bin/svc"
printf 'Package: svc\nStatus: install ok installed\nVersion: 1\n\n' >>"$svc/var/lib/dpkg/status"
cat >"$svc/var/lib/dpkg/info/svc.postinst" <<'EOT'
#!/bin/sh
set -e
[ "$1" = configure ]
mkdir -p /var/lib/svc
echo "$(cat /etc/ct-name) $(id -u)" >/var/lib/svc/configured
grep -q '^svc:' /etc/passwd || echo 'svc:x:990:990::/var/lib/svc:/bin/false' >>/etc/passwd
EOT
chmod 0755 "$svc/var/lib/dpkg/info/svc.postinst"
expect_match "an app template naming its postinst" '^svc@1: ' \
	"$($T template import svc@1 --from "$svc" --layer-of os@1 --run-postinst)"
$T ct create p1 --template os@1 >/dev/null && $T ct mount p1 >/dev/null || fail "p1"
$T ct create p2 --template os@1 >/dev/null || fail "p2"
$T ct create p3 --template os@1 --userns 524288:65536 >/dev/null &&
	$T ct mount p3 >/dev/null || fail "p3"
for c in p1 p3; do echo "$c" >"$R/root/$c/etc/ct-name"; done
out=$(t_cgrun "pi-$BASHPID" $T ct app add p1 svc@1 2>&1)
expect_match "ct app add runs it in a mounted container" "p1: the postinst of svc run in it" "$out"
expect_eq "...in the container, as its root" "p1 0" \
	"$(cat "$R/root/p1/var/lib/svc/configured")"
expect_eq "...which is the filesystem's root (an idmapped -U)" "0:0" \
	"$(stat -c %u:%g "$R/private/p1/fs/var/lib/svc/configured")"
expect_match "...its user added to the container's passwd alone" '^svc:x:990:' \
	"$(grep '^svc:' "$R/root/p1/etc/passwd")"
expect_eq "...not to the template's" "" "$(grep '^svc:' "$src/etc/passwd")"
out=$(t_cgrun "pi-$BASHPID" $T ct app add p2 svc@1 2>&1)
expect_match "an unmounted container is told to run it later" \
	"p2: the postinst of svc not run: it is not mounted" "$out"
$T ct mount p2 >/dev/null || fail "ct mount p2"
echo p2 >"$R/root/p2/etc/ct-name"
out=$(t_cgrun "pi-$BASHPID" $T ct app postinst p2 svc 2>&1)
expect_match "...ct app postinst runs it" "p2: the postinst of svc run in it" "$out"
expect_eq "...in p2" "p2 0" \
	"$(cat "$R/root/p2/var/lib/svc/configured")"
out=$(t_cgrun "pi-$BASHPID" $T ct app add p3 svc@1 2>&1)
expect_match "a container of shifted ids runs it too" "p3: the postinst of svc run in it" "$out"
expect_eq "...as its root, the shifted root on the host" "524288:524288" \
	"$(stat -c %u:%g "$R/private/p3/fs/var/lib/svc/configured")"

stop_pids
expect_eq "no WARN or BUG" "" "$(dmesg | grep -E 'WARNING:|BUG:' | head -3)"
for c in a1 a2 a3 p1 p2 p3; do $T ct umount $c >/dev/null || fail "ct umount $c"; done
