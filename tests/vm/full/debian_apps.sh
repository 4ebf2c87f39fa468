#!/bin/bash
# Application templates of real Debian packages added to and removed from
# running containers (issue 19's acceptance). os@1 is Debian 12 minbase.
# Two app templates are made the way an operator makes them: nginx-light,
# and curl, each installed (apt, from packages fetched on the host by
# scripts/debian-update-debs.sh) in a container of os@1 and published as a
# layer of it (template publish --layer-of). Then, in 20 mounted
# containers, c1 of which made its own /etc/nginx/nginx.conf and c2
# installed a package of its own: nginx@1 and curl@1 are added to each;
# the programs run (nginx -t, curl --version), dpkg --verify and apt-get
# check are clean, the conflict is reported (and kept with --keep-mine),
# c2's package is still installed, the app's files read by all 20 are
# cached once. Then curl@1 is removed from 10: curl is gone, dpkg says it
# is not installed, nginx still runs, and each private area is back to
# what it was before curl was added, path by path.
#
#   TPLFS_TEMPLATE  the Debian 12 tarball (scripts/template-tarball.sh debian)
#   TPLFS_UPDATE    the packages (scripts/debian-update-debs.sh): app-curl/,
#                   app-nginx/, own/
#   TPLFS_NCT       containers (default 20)
. "$TPLFS_TOP/tests/vm/lib.sh"
. "$TPLFS_TOP/tests/vm/full/debian-lib.sh"

for d in app-curl app-nginx own; do
	compgen -G "$UPD/$d/*.deb" >/dev/null ||
		{ fail "no packages in $UPD/$d (scripts/debian-update-debs.sh)"; exit 1; }
done
[ "$N" -ge 12 ] || { fail "TPLFS_NCT=$N: the roles need 12 containers"; exit 1; }
REMOVED=$(seq $((N - 9)) "$N")	# curl@1 removed from these 10

t_tplfsd "$R" "$PWD/store" "$SOCK" "$LOG"
trap 'rc=$?; t_stop_tplfsd; (exit $rc); t_finish' EXIT

$T template import os@1 --from "$TPL" >/dev/null || { fail "template import"; exit 1; }
phase "template imported"

# make_app NAME DIR PACKAGE [PUBLISH-OPTION...]: NAME@1 from a container
# of os@1 where PACKAGE was installed from DIR (no service started:
# policy-rc.d)
make_app() {
	local b=build-$1 m=$R/root/build-$1 name=$1 dir=$2 pkg=$3
	shift 3
	$T ct create "$b" --template os@1 >/dev/null && $T ct mount "$b" >/dev/null ||
		{ fail "ct create $b"; return 1; }
	printf '#!/bin/sh\nexit 101\n' >"$m/usr/sbin/policy-rc.d"
	chmod 0755 "$m/usr/sbin/policy-rc.d"
	apt_local "$b" "$UPD/$dir" install "$pkg" || { fail "apt-get install $pkg in $b"; return 1; }
	rm "$m/usr/sbin/policy-rc.d"
	$T ct umount "$b" >/dev/null || { fail "ct umount $b"; return 1; }
	expect_match "$name@1 published as a layer of os@1 $*" "^$name@1: " \
		"$($T template publish "$name@1" --from-ct "$b" --layer-of os@1 "$@" 2>&1)"
	$T ct destroy "$b" >/dev/null || fail "ct destroy $b"
}
make_app nginx app-nginx nginx-light || exit 1
make_app curl app-curl curl || exit 1
mcurl=$PWD/store/templates/curl/1/manifest
expect_match "curl@1 is a layer" '^layer-of os@1$' "$(sed -n 3p "$mcurl")"
expect_match "with curl in it" '^/usr/bin/curl f ' "$(grep '^/usr/bin/curl ' "$mcurl")"
expect_eq "and not apt's and dpkg's logs" "" "$(grep -E '^/var/log/(apt/|dpkg)' "$mcurl")"
echo "  curl@1: $(($(wc -l <"$mcurl") - 4)) entries; nginx@1: $(($(wc -l <"$PWD/store/templates/nginx/1/manifest") - 4))"
phase "app templates made"

for i in $(seq 1 "$N"); do
	$T ct create "c$i" --template os@1 >/dev/null && $T ct mount "c$i" >/dev/null ||
		{ fail "ct create c$i"; exit 1; }
done
mkdir -p "$R/root/c1/etc/nginx"
printf 'events {}\nhttp {}\n' >"$R/root/c1/etc/nginx/nginx.conf"
apt_local c2 "$UPD/own" install less || fail "apt-get install less in c2"
phase "containers made"

out=$($T ct app add c1 nginx@1 2>&1)
expect_match "c1's own nginx.conf refuses nginx@1" \
	'changes 1 path\(s\) the container changed: /etc/nginx/nginx.conf' "$out"
expect_eq "and adds nothing" no "$([ -e "$R/root/c1/usr/sbin/nginx" ] && echo yes || echo no)"
expect_match "--keep-mine adds it, reporting the conflict" \
	'conflict /etc/nginx/nginx.conf' "$($T ct app add c1 nginx@1 --keep-mine)"
bad=""
for i in $(seq 2 "$N"); do
	$T ct app add "c$i" nginx@1 >/dev/null 2>>"$PWD/app.err" || bad="$bad c$i"
done
expect_eq "nginx@1 is added to the others" "" "$bad"
# (the first nginx -t makes its error.log: before the snapshots below)
bad=""
for i in $(seq 1 "$N"); do
	in_ct "c$i" nginx -t 2>&1 | grep -q 'syntax is ok' || bad="$bad c$i"
done
expect_eq "nginx -t runs in every container" "" "$bad"
phase "nginx@1 added"

# each private area before curl@1: every path's type, mode, owner, xattrs
# (a stub's origin among them), and but for a directory its size, content
# and mtime (a directory's size is the filesystem's: ext4's grows with
# the entries it once held and never shrinks)
snap() {
	(cd "$R/private/$1/fs" &&
		find . -printf '%p %y %m %U %G\n' | sort &&
		find . ! -type d -printf '%p %s %T@\n' | sort &&
		getfattr -R -P -d -m - -e hex --absolute-names . 2>/dev/null &&
		find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}
for i in $REMOVED; do snap "c$i" >"$PWD/snap.c$i"; done

bad=""
for i in $(seq 1 "$N"); do
	$T ct app add "c$i" curl@1 >/dev/null 2>>"$PWD/app.err" || bad="$bad c$i"
done
expect_eq "curl@1 is added to all" "" "$bad"
[ -z "$bad" ] || sed 's/^/  /' "$PWD/app.err" | tail -5
phase "curl@1 added"

apt_check() { # apt_check CT: apt-get check (no cache files: 36 MB otherwise)
	in_ct "$1" apt-get -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= check 2>&1
}
verify_bad="" check_bad="" run_bad=""
for i in $(seq 1 "$N"); do
	v=$(in_ct "c$i" dpkg --verify 2>&1)
	# c1's nginx.conf is its own: dpkg says so, and nothing else
	[ "$i" = 1 ] && v=$(grep -v ' c /etc/nginx/nginx.conf$' <<<"$v")
	[ -z "$v" ] || { verify_bad="$verify_bad c$i"; echo "  c$i: dpkg --verify: $(head -3 <<<"$v")"; }
	# (apt takes its locks, which writes them: where the private area is
	# compared after curl@1's removal, after that)
	case " $(echo $REMOVED) " in
	*" $i "*) ;;
	*) v=$(apt_check "c$i") || { check_bad="$check_bad c$i"; echo "  c$i: apt-get check: $(tail -3 <<<"$v")"; } ;;
	esac
	in_ct "c$i" curl --version 2>&1 | grep -q '^curl 7' &&
		in_ct "c$i" nginx -t 2>&1 | grep -q 'syntax is ok' || run_bad="$run_bad c$i"
done
expect_eq "curl --version and nginx -t run in every container" "" "$run_bad"
expect_eq "dpkg --verify is clean in every container" "" "$verify_bad"
expect_eq "apt-get check is clean in the others (these 10 after the removal)" "" "$check_bad"
expect_match "c2's own package is still installed" '^install ok installed$' \
	"$(in_ct c2 dpkg-query -W -f '${Status}' less 2>&1)"
expect_match "and curl's" '^install ok installed$' \
	"$(in_ct c2 dpkg-query -W -f '${Status}' curl 2>&1)"
expect_match "c1 keeps its nginx.conf" '^events' "$(cat "$R/root/c1/etc/nginx/nginx.conf")"
phase "checked in every container"

# the app's files read in every container: one copy in the page cache
LIBCURL=$(in_ct c3 readlink -f /usr/lib/x86_64-linux-gnu/libcurl.so.4)
files="/usr/bin/curl $LIBCURL /usr/sbin/nginx"
sync
echo 3 >/proc/sys/vm/drop_caches
size_kib=0
for f in $files; do size_kib=$((size_kib + $(stat -c %s "$R/root/c3$f") / 1024)); done
before=$(cached_kib)
for i in $(seq 1 "$N"); do
	for f in $files; do cat "$R/root/c$i$f" >/dev/null; done
done
grown=$(($(cached_kib) - before))
echo "  page cache: +$grown KiB for $N containers reading $size_kib KiB of the apps' files"
expect_eq "one copy, not $N (under twice the files' size)" yes \
	"$([ "$grown" -lt $((2 * size_kib + 1024)) ] && echo yes || echo no)"
obj=$(object_of "$R/private/c5/fs/usr/bin/curl")
expect_eq "curl is a stub of curl@1's object, cached whole" \
	$((($(stat -c %s "$obj") + 4095) / 4096 * 4096)) "$(resident "$obj")"

bad="" snap_bad="" dpkg_bad=""
for i in $REMOVED; do
	$T ct app rm "c$i" curl >/dev/null 2>>"$PWD/app.err" || bad="$bad c$i"
	[ ! -e "$R/root/c$i/usr/bin/curl" ] || bad="$bad c$i"
	in_ct "c$i" dpkg-query -W -f '${Status}' curl 2>&1 | grep -q 'ok installed' &&
		dpkg_bad="$dpkg_bad c$i"
	in_ct "c$i" nginx -t 2>&1 | grep -q 'syntax is ok' || bad="$bad c$i"
	v=$(in_ct "c$i" dpkg --verify 2>&1)
	[ -z "$v" ] || { dpkg_bad="$dpkg_bad c$i"; echo "  c$i: dpkg --verify: $(head -3 <<<"$v")"; }
	snap "c$i" >"$PWD/snap.after"
	cmp -s "$PWD/snap.c$i" "$PWD/snap.after" || {
		snap_bad="$snap_bad c$i"
		diff "$PWD/snap.c$i" "$PWD/snap.after" | head -5 | sed 's/^/  /'
	}
	v=$(apt_check "c$i") || { dpkg_bad="$dpkg_bad c$i"; echo "  c$i: apt-get check: $(tail -3 <<<"$v")"; }
done
expect_eq "curl@1 removed from ${REMOVED//$'\n'/ }: curl gone, nginx runs" "" "$bad"
expect_eq "dpkg says curl is not installed there, --verify and apt-get check clean" "" "$dpkg_bad"
expect_eq "each private area is what it was before curl@1, path by path" "" "$snap_bad"
expect_match "ct app list" "^c$N: os@1
  nginx@1$" "$($T ct app list "c$N")"
phase "curl@1 removed from 10"

# nginx published --run-postinst: its packages' real postinst run in a
# fresh container at ct app add, through systemd-nspawn -U (issue 19)
t_cgroup2
make_app nginxp app-nginx nginx-light --run-postinst || exit 1
pkgs=$(sed -n 's/^postinst //p' "$PWD/store/templates/nginxp/1/manifest" | tr '\n' ' ')
expect_match "its manifest names nginx's packages with a postinst" "nginx-common" "$pkgs"
echo "  nginxp@1 runs the postinst of: $pkgs"
$T ct create p1 --template os@1 >/dev/null && $T ct mount p1 >/dev/null || fail "ct create p1"
out=$(t_cgrun "pi-$BASHPID" $T ct app add p1 nginxp@1 2>&1)
expect_match "ct app add runs them in the container" "p1: the postinst of .* run in it" "$out"
[[ $out == *"run in it"* ]] || echo "$out" | tail -15 | sed 's/^/  /'
expect_match "nginx -t there" 'syntax is ok' "$(in_ct p1 nginx -t 2>&1)"
expect_eq "dpkg --verify clean there" "" "$(in_ct p1 dpkg --verify 2>&1)"
expect_eq "apt-get check clean there" "" "$(apt_check p1 >/dev/null || echo broken)"
$T ct umount p1 >/dev/null || fail "ct umount p1"
phase "nginxp@1 added with its postinst"

expect_eq "no WARN or BUG" "" "$(dmesg | grep -E 'WARNING:|BUG:' | head -3)"
for i in $(seq 1 "$N"); do $T ct umount "c$i" >/dev/null || fail "ct umount c$i"; done
