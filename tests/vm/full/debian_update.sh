#!/bin/bash
# A real Debian update reaching running containers (issue 17's acceptance):
# os@1 is Debian 12 minbase; 20 containers of it are mounted and lived in:
# in some a process holds an updated library mapped, some changed and
# deleted files of their own, some installed a package of their own, one
# ran the update itself. The update is made once, in a maintenance
# container (apt-get upgrade from bookworm-security's packages, fetched on
# the host by scripts/debian-update-debs.sh), published as os@2 and every container
# is rebased onto it while mounted. After: dpkg --verify and apt-get check
# are clean in each, each kept its own changes and packages, the old
# processes still run, the updated files are cached once (the objects')
# whichever container reads them, the private areas are a fresh
# container's size plus what each changed, and os@1 can be removed.
#
#   TPLFS_TEMPLATE  the Debian 12 tarball (scripts/template-tarball.sh debian)
#   TPLFS_UPDATE    the packages (scripts/debian-update-debs.sh): upgrade/
#                   and own/
#   TPLFS_NCT       containers (default 20)
. "$TPLFS_TOP/tests/vm/lib.sh"
. "$TPLFS_TOP/tests/vm/full/debian-lib.sh"

compgen -G "$UPD/upgrade/*.deb" >/dev/null && compgen -G "$UPD/own/*.deb" >/dev/null ||
	{ fail "no update packages in $UPD (scripts/debian-update-debs.sh)"; exit 1; }
[ "$N" -ge 12 ] || { fail "TPLFS_NCT=$N: the roles need 12 containers"; exit 1; }

# The roles: c1-c3 hold the updated library mapped; c4-c6 changed and
# deleted files of their own; c7-c9 installed a package of their own; c10
# ran the update itself; the others are left as made.
HOLDERS="1 2 3"
CHANGERS="4 5 6"
OWNERS="7 8 9"
SELF=10
UNTOUCHED=$(seq 11 "$N")

pids=""
stop_pids() { [ -z "$pids" ] || { kill $pids 2>/dev/null; wait $pids 2>/dev/null; pids=""; }; }
t_tplfsd "$R" "$PWD/store" "$SOCK" "$LOG"
trap 'rc=$?; stop_pids; t_stop_tplfsd; (exit $rc); t_finish' EXIT

version_of() { in_ct "$1" dpkg-query -W -f '${Version}' "$2" 2>/dev/null; }
ver_in_deb() { dpkg-deb -f "$(ls "$UPD"/upgrade/"$1"_*.deb)" Version; }
fs_kib() { du -sk "$R/private/$1/fs" | cut -f1; }
read_updated() { # read_updated CT: read the updated files in the container
	sed "s|^|$R/root/$1|" <<<"$files" | xargs -d '\n' cat >/dev/null
}

expect_match "template import os@1 (Debian 12)" "^os@1: [0-9]+ entries" \
	"$($T template import os@1 --from "$TPL" 2>&1)"
made=0
for i in $(seq 1 "$N"); do
	$T ct create "c$i" --template os >/dev/null 2>>"$PWD/errors" &&
		$T ct mount "c$i" >/dev/null 2>>"$PWD/errors" && made=$((made + 1))
done
expect_eq "$N containers of os@1 made and mounted" "$N" "$made"
$T ct create fresh1 --template os@1 >/dev/null 2>&1
fresh1_kib=$(fs_kib fresh1)

phase "containers made"
# The library the update changes that every program maps: zlib's.
LIB=$(in_ct c1 readlink -f /lib/x86_64-linux-gnu/libz.so.1)
old_zlib=$(version_of c1 zlib1g)
new_zlib=$(ver_in_deb zlib1g)
[ -n "$LIB" ] && [ "$old_zlib" != "$new_zlib" ] ||
	{ fail "the update does not change zlib ($old_zlib -> $new_zlib, $LIB)"; exit 1; }
echo "  the update: $(cd "$UPD"/upgrade && ls *.deb | sed 's/_.*//' | tr '\n' ' ')"

# c1-c3: perl (updated too) with the old zlib mapped, running
for i in $HOLDERS; do
	chroot "$R/root/c$i" env -i PATH=/usr/bin:/bin LD_PRELOAD="$LIB" perl -e 'sleep 1000000' &
	pids="$pids $!"
	t_until "c$i's perl maps zlib" grep -q "libz.so" "/proc/$!/maps"
done
# c4-c6: a user added, a file of its own, two deleted
for i in $CHANGERS; do
	in_ct "c$i" useradd -m "user$i" || fail "useradd in c$i"
	echo "c$i's own" >"$R/root/c$i/etc/own.conf"
	rm "$R/root/c$i/etc/fstab" "$R/root/c$i/var/log/bootstrap.log"
done
# c7-c9: a package of their own
own_pkg=$(dpkg-deb -f "$(ls "$UPD"/own/*.deb | head -1)" Package)
for i in $OWNERS; do
	apt_local "c$i" "$UPD/own" install "$own_pkg" || fail "apt-get install $own_pkg in c$i"
done
# c10: the update, run in the container itself
apt_local "c$SELF" "$UPD/upgrade" upgrade || fail "apt-get upgrade in c$SELF"
expect_eq "c$SELF has the new zlib" "$new_zlib" "$(version_of "c$SELF" zlib1g)"
self_before=$(fs_kib "c$SELF")
declare -A lived_kib
for i in $CHANGERS $OWNERS; do lived_kib[$i]=$(fs_kib "c$i"); done

phase "containers lived in"
# The maintenance container: the update, once
out=$($T template maintain os@1)
expect_match "template maintain os@1" "container os-maint" "$out"
expect_match "a create from the bare name is refused meanwhile" "maintenance" \
	"$($T ct create c0 --template os 2>&1)"
$T ct mount os-maint >/dev/null || fail "ct mount os-maint"
apt_local os-maint "$UPD/upgrade" upgrade || fail "apt-get upgrade in os-maint"
expect_eq "dpkg --verify in the maintenance container" "" "$(in_ct os-maint dpkg --verify 2>&1)"
expect_eq "dpkg --audit in the maintenance container" "" "$(in_ct os-maint dpkg --audit 2>&1)"
$T ct umount os-maint >/dev/null || fail "ct umount os-maint"

phase "updated in the maintenance container"
t0=$(date +%s%N)
out=$($T template publish os@2 --from-ct os-maint --rebase all 2>&1)
ms=$((($(date +%s%N) - t0) / 1000000))
echo "$out" | tail -3 | sed 's/^/  /'
expect_match "publish os@2 and rebase every container of os@1" \
	"$((N + 2)) containers rebased onto os@2, 0 failed" "$out"
echo "  publish and $((N + 2)) rebases: $ms ms (TCG guest)"
echo "  c$SELF's rebase: $(awk '{ print $1 }' "$R/private/c$SELF/rebase.report" | sort | uniq -c | tr -s ' \n' ' ')"
grep -v '^updated' "$R/private/c$SELF/rebase.report" | head -5 | sed 's/^/    /'
self_after=$(fs_kib "c$SELF")
$T ct create fresh2 --template os >/dev/null 2>&1
expect_eq "the bare name is os@2 now" os@2 "$($T ct list -o id,template | awk '$1 == "fresh2" { print $2 }')"
fresh2_kib=$(fs_kib fresh2)
# the container that ran the update itself: its private copies of os@2's
# files are stubs again (apt rewrote unchanged files too: tzdata's)
[ "$self_after" -le $((fresh2_kib + 256)) ] &&
	ok "c$SELF, which ran the update itself, is shared again by the rebase ($self_after KiB)" ||
	fail "c$SELF uses $self_after KiB after the rebase (before: $self_before), a fresh container $fresh2_kib"

phase "published and rebased"
# Every container: on os@2, its packages consistent
verify_bad=""
check_bad=""
ver_bad=""
for i in $(seq 1 "$N"); do
	v=$(in_ct "c$i" dpkg --verify 2>&1)
	[ -z "$v" ] || { verify_bad="$verify_bad c$i"; echo "  c$i: dpkg --verify: $(head -3 <<<"$v")"; }
	# (no cache files: apt-get check writes two of 36 MB otherwise)
	v=$(in_ct "c$i" apt-get -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= check 2>&1) ||
		{ check_bad="$check_bad c$i"; echo "  c$i: apt-get check: $(tail -3 <<<"$v")"; }
	[ "$(version_of "c$i" zlib1g) $(version_of "c$i" apt)" = "$new_zlib $(ver_in_deb apt)" ] ||
		ver_bad="$ver_bad c$i"
done
expect_eq "dpkg --verify is clean in every container" "" "$verify_bad"
expect_eq "apt-get check is clean in every container" "" "$check_bad"
expect_eq "every container has the updated packages" "" "$ver_bad"

phase "dpkg --verify and apt-get check done"
# Each kept its own
for i in $CHANGERS; do
	expect_match "c$i kept its user" "^user$i:" "$(grep "^user$i:" "$R/root/c$i/etc/passwd")"
	expect_eq "c$i kept its file" "c$i's own" "$(cat "$R/root/c$i/etc/own.conf")"
	expect_eq "c$i's deleted files stay deleted" "no no" \
		"$([ -e "$R/root/c$i/etc/fstab" ] && echo yes || echo no) $([ -e "$R/root/c$i/var/log/bootstrap.log" ] && echo yes || echo no)"
done
for i in $OWNERS; do
	expect_match "c$i kept its own package" '^install ok installed$' \
		"$(in_ct "c$i" dpkg-query -W -f '${Status}' "$own_pkg")"
	expect_ok "which runs" in_ct "c$i" "$own_pkg" --version
done
expect_eq "the others do not have it" no \
	"$(in_ct c11 dpkg-query -W -f '${Status}' "$own_pkg" 2>/dev/null | grep -q 'ok installed' && echo yes || echo no)"

# The processes started before: running, the old zlib mapped
n=0
for pid in $pids; do
	kill -0 "$pid" 2>/dev/null && grep -q libz.so "/proc/$pid/maps" && n=$((n + 1))
done
expect_eq "the processes started on os@1 still run, the old zlib mapped" 3 "$n"
expect_match "and a new one runs os@2's perl and zlib" '^ok$' \
	"$(in_ct c1 LD_PRELOAD="$LIB" perl -e 'print "ok\n"' 2>&1)"

phase "own changes checked"
# One page-cache copy: every container reads the updated files
obj=$(object_of "$R/private/c11/fs$LIB") || fail "c11's zlib is not a stub"
APTLIB=$(in_ct c11 readlink -f /usr/lib/x86_64-linux-gnu/libapt-pkg.so.6.0)
obj_apt=$(object_of "$R/private/c11/fs$APTLIB") || fail "c11's libapt-pkg is not a stub"
same=0
for i in $(seq 1 "$N"); do
	[ "$(object_of "$R/private/c$i/fs$LIB")" = "$obj" ] &&
		[ "$(object_of "$R/private/c$i/fs$APTLIB")" = "$obj_apt" ] && same=$((same + 1))
done
expect_eq "every container's zlib and libapt-pkg are stubs of os@2's objects" "$N" "$same"
files=$(in_ct c11 dpkg -L perl-base zlib1g libapt-pkg6.0 | while read -r f; do
	[ -f "$R/root/c11$f" ] && [ ! -L "$R/root/c11$f" ] && echo "$f"; done)
sync
echo 3 >/proc/sys/vm/drop_caches
before=$(cached_kib)
read_updated c11
first=$(cached_kib)
for i in $(seq 1 "$N"); do
	[ "$i" = 11 ] || read_updated "c$i"
done
rest=$(cached_kib)
echo "  page cache: +$(((first - before) / 1024)) MiB for one container's read of the updated packages, +$(((rest - first) / 1024)) MiB for the other $((N - 1))"
expect_eq "zlib's object is cached whole" $((($(stat -c %s "$obj") + 4095) / 4096 * 4096)) "$(resident "$obj")"
expect_eq "the stubs hold no page cache" 0 "$(resident "$R/private/c5/fs$LIB")"
[ $((rest - first)) -lt $(((first - before) / 2 + 2048)) ] &&
	ok "the other containers' reads added no second copy" ||
	fail "the other $((N - 1)) containers' reads added $(((rest - first) / 1024)) MiB"

phase "page cache checked"
# Disk: a fresh container's size plus what each changed
echo "  private areas (KiB): fresh os@1 $fresh1_kib, fresh os@2 $fresh2_kib; c11 $(fs_kib c11), c4 $(fs_kib c4), c7 $(fs_kib c7), c10 $(fs_kib c10) (before: $self_before)"
small=0
for i in $UNTOUCHED $HOLDERS; do
	[ "$(fs_kib "c$i")" -le $((fresh2_kib + 256)) ] && small=$((small + 1)) ||
		echo "  c$i: $(fs_kib "c$i") KiB"
done
expect_eq "the untouched containers are a fresh os@2 container's size" \
	"$(echo $UNTOUCHED $HOLDERS | wc -w)" "$small"
# those that changed files or installed a package: what they held before
# the update (a fresh container plus their changes), not more
for i in $CHANGERS $OWNERS; do
	before=${lived_kib[$i]}
	[ "$(fs_kib "c$i")" -le $((before + 256)) ] &&
		ok "c$i: a fresh container plus its own changes ($(fs_kib "c$i") KiB, $before before the update)" ||
		fail "c$i uses $(fs_kib "c$i") KiB, $before before the update"
done
out=$($T ct relink "c$SELF")
expect_match "ct relink of the container that ran the update" "c$SELF: " "$out"
[ "$(fs_kib "c$SELF")" -le $((fresh2_kib + 256)) ] &&
	ok "c$SELF, which ran the update itself, is shared again" ||
	fail "c$SELF uses $(fs_kib "c$SELF") KiB after relink (before the rebase: $self_before), a fresh container $fresh2_kib"

# os@1: no container uses it
$T ct destroy fresh1 >/dev/null
expect_ok "template rm os@1 while the old processes still run" $T template rm os@1
expect_match "store gc frees os@1's own objects" "objects removed" "$($T store gc)"
n=0
for pid in $pids; do kill -0 "$pid" 2>/dev/null && n=$((n + 1)); done
expect_eq "the old processes run on" 3 "$n"
stop_pids
expect_eq "no operation failed" "" "$(cat "$PWD/errors" 2>/dev/null)"
for i in $(seq 1 "$N"); do $T ct umount "c$i" >/dev/null || fail "ct umount c$i"; done
