#!/bin/bash
# Fetch (once; cached under build/cache/) the Debian packages of a real
# update of the Debian 12 template that scripts/template-tarball.sh builds,
# for the update test of make check-full (tests/vm/t/debian_update.sh):
#
#   build/cache/debian-12-update/upgrade/*.deb
#       what `apt-get upgrade` of the template takes from bookworm-updates
#       and bookworm-security (the template is debootstrapped from bookworm
#       alone, so its security updates are the update)
#   build/cache/debian-12-update/own/*.deb
#       a package a container installs for itself (less, with whatever of
#       its dependencies the template lacks)
#   build/cache/debian-12-update/app-curl/*.deb, app-nginx/*.deb
#       what installing curl, and nginx-light, into the template takes,
#       each on its own: the packages of two application templates
#       (tests/vm/full/debian_apps.sh, issue 19)
#
# Each directory has its Packages index (dpkg-scanpackages), so that apt
# in a container installs from it (tests/vm/tools/apt-local.sh): apt,
# not dpkg -i, orders the update by its Pre-Depends.
#
# apt runs with its own lists and sources under build/cache/apt-update/,
# against the template's dpkg status: the host's apt state is neither read
# nor changed. Prints the directory. Fails, saying why, if the archive
# cannot be reached or offers no upgrade.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=$top/build/cache
out=$cache/debian-12-update
own_pkg=less

tpl=$("$top/scripts/template-tarball.sh" debian)
case "$tpl" in
*busybox*)
	echo "debian-update-debs: no Debian template (see $cache/debootstrap.log)" >&2
	exit 1
	;;
esac
if [ -s "$out/stamp" ] && [ "$out/stamp" -nt "$tpl" ] && [ "$out/stamp" -nt "$0" ]; then
	echo "$out"
	exit 0
fi

# made in $new and renamed into place: a test reading $out meanwhile
# (check-full, bench/run) never sees it half made
work=$cache/apt-update
new=$out.new
rm -rf "$work" "$new"
mkdir -p "$work"/{lists/partial,archives/partial,state,etc/preferences.d,etc/apt.conf.d,etc/trusted.gpg.d} \
	"$new"/{upgrade,own,app-curl,app-nginx}
tar --zstd -xf "$tpl" -C "$work/state" ./var/lib/dpkg/status
cat >"$work/etc/sources.list" <<'EOF'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
apt_opts=(
	-o "Dir::Etc=$work/etc"
	-o "Dir::Etc::SourceList=$work/etc/sources.list"
	-o "Dir::Etc::SourceParts=-"
	-o "Dir::Etc::TrustedParts=/usr/share/keyrings"
	-o "Dir::State::Lists=$work/lists"
	-o "Dir::State::status=$work/state/var/lib/dpkg/status"
	-o "Dir::Cache=$work/cache"
	-o "Dir::Cache::archives=$work/archives"
	-o "Debug::NoLocking=1"
	-o "APT::Get::Download-Only=1"
	-o "APT::Install-Recommends=0"
	-o "Acquire::Languages=none"
	-q -y
)
mkdir -p "$work/cache"
if ! apt-get "${apt_opts[@]}" update >"$work/update.log" 2>&1; then
	echo "debian-update-debs: apt-get update failed (no network to Debian's archive?), see $work/update.log" >&2
	exit 1
fi
apt-get "${apt_opts[@]}" upgrade >"$work/upgrade.log" 2>&1 || {
	echo "debian-update-debs: apt-get upgrade --download-only failed, see $work/upgrade.log" >&2
	exit 1
}
mv "$work"/archives/*.deb "$new/upgrade/" 2>/dev/null || true
if ! compgen -G "$new/upgrade/*.deb" >/dev/null; then
	echo "debian-update-debs: the archive offers no upgrade of the template (see $work/upgrade.log)" >&2
	exit 1
fi
apt-get "${apt_opts[@]}" install "$own_pkg" >"$work/own.log" 2>&1 || {
	echo "debian-update-debs: apt-get install $own_pkg --download-only failed, see $work/own.log" >&2
	exit 1
}
mv "$work"/archives/*.deb "$new/own/"
for app in curl nginx; do
	pkg=$app
	[ "$app" = nginx ] && pkg=nginx-light
	apt-get "${apt_opts[@]}" install "$pkg" >"$work/$app.log" 2>&1 || {
		echo "debian-update-debs: apt-get install $pkg --download-only failed, see $work/$app.log" >&2
		exit 1
	}
	mv "$work"/archives/*.deb "$new/app-$app/"
done
# each directory a repository apt can read (tests/vm/tools/apt-local.sh)
for d in upgrade own app-curl app-nginx; do
	(cd "$new/$d" && dpkg-scanpackages -m . >Packages 2>/dev/null) || {
		echo "debian-update-debs: dpkg-scanpackages failed in $new/$d" >&2
		exit 1
	}
done
rm -rf "$work"
touch "$new/stamp"
rm -rf "$out.old"
[ ! -d "$out" ] || mv "$out" "$out.old"
mv "$new" "$out"
rm -rf "$out.old"
echo "$out"
