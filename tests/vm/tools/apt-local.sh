#!/bin/sh
# apt-local.sh ARGS...: run in a Debian root (chroot), from the directory
# /tmp/repo that holds .deb files and their Packages index
# (scripts/debian-update-debs.sh makes both): `apt-get update` of that
# repository alone, then `apt-get ARGS` (upgrade, install NAME...). apt's
# lists and caches stay under /tmp/repo: what remains in the root is what
# the packages and their scripts change, and apt's and dpkg's logs.
set -e
r=/tmp/repo
mkdir -p "$r/lists/partial" "$r/cache/archives/partial"
echo "deb [trusted=yes] file:$r ./" >"$r/sources.list"
apt() {
	apt-get -q -y -o Dir::Etc::SourceList="$r/sources.list" \
		-o Dir::Etc::SourceParts=- -o Dir::State::Lists="$r/lists" \
		-o Dir::Cache="$r/cache" -o Dpkg::Use-Pty=0 \
		-o APT::Sandbox::User=root "$@"
}
apt update
apt "$@"
