#!/bin/bash
# Build (once; cached under build/cache/) a template tarball for the tests
# and the demo, and print its path:
#
#   scripts/template-tarball.sh busybox   a small tree around busybox-static
#                                          with every kind of file
#   scripts/template-tarball.sh debian    Debian 12 minbase (debootstrap from
#                                          Debian's archive); if the archive
#                                          cannot be reached, says so on stderr
#                                          and prints the busybox tarball
#   scripts/template-tarball.sh debian-systemd
#                                          Debian 12 minbase with systemd as
#                                          init and dbus (what systemd-nspawn
#                                          -b boots); no fallback: fails if
#                                          the archive cannot be reached
#
# The tarballs are pax with xattrs, ACLs, numeric owners and holes, as
# `tplctl template import` reads them. Needs root (owners, device nodes).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=$top/build/cache
mkdir -p "$cache"

pack() { # pack DIR OUT
	tar --format=posix --xattrs --xattrs-include='*' --acls --numeric-owner \
		-S --zstd -c -f "$2.tmp" -C "$1" .
	mv "$2.tmp" "$2"
}

busybox_tree() { # busybox_tree DIR
	local r=$1
	rm -rf "$r"
	mkdir -p "$r"/{bin,sbin,etc,dev,root,tmp,var/log,usr/bin,home/user}
	cp /bin/busybox "$r/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n' >"$r/etc/passwd"
	printf 'root:x:0:\nuser:x:1000:\n' >"$r/etc/group"
	echo template >"$r/etc/hostname"
	printf '127.0.0.1 localhost\n' >"$r/etc/hosts"
	printf 'NAME="tplfs test template"\nID=busybox\n' >"$r/etc/os-release"
	printf '#!/bin/sh\necho "hello from $(hostname)"\n' >"$r/usr/bin/hello"
	chmod 0755 "$r/usr/bin/hello"
	cp /bin/busybox "$r/usr/bin/ping"
	chmod 4755 "$r/usr/bin/ping"
	setcap cap_net_raw+ep "$r/usr/bin/ping"
	ln "$r/usr/bin/hello" "$r/usr/bin/hello-again"
	echo "a user's file" >"$r/home/user/notes"
	chown -R 1000:1000 "$r/home/user"
	setfattr -n user.origin -v template "$r/etc/os-release"
	setfacl -m u:1000:r "$r/etc/hosts"
	truncate -s 8M "$r/var/log/sparse.img"
	mknod -m 0666 "$r/dev/null" c 1 3
	mknod -m 0666 "$r/dev/zero" c 1 5
	mkfifo -m 0600 "$r/var/log/fifo"
	chmod 1777 "$r/tmp"
	chmod 0700 "$r/root"
	printf 'name with\nnewline' >"$r/etc/$(printf 'odd\nname \xff')"
}

# debootstrap_tree DIR [DEBOOTSTRAP-OPTION...]: Debian 12 minbase into DIR,
# without the downloaded packages; removes DIR and fails if debootstrap does
debootstrap_tree() {
	local tree=$1
	shift
	rm -rf "$tree"
	if ! command -v debootstrap >/dev/null ||
		! debootstrap --variant=minbase "$@" bookworm "$tree" \
			http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1; then
		rm -rf "$tree"
		return 1
	fi
	rm -f "$tree"/var/cache/apt/archives/*.deb
}

case "${1:-}" in
busybox)
	out=$cache/busybox-template.tar.zst
	if [ ! -s "$out" ] || [ "$0" -nt "$out" ]; then
		busybox_tree "$cache/busybox-template"
		pack "$cache/busybox-template" "$out"
		rm -rf "$cache/busybox-template"
	fi
	echo "$out"
	;;
debian)
	out=$cache/debian-12-minbase.tar.zst
	if [ ! -s "$out" ]; then
		if ! debootstrap_tree "$cache/debian-12-minbase"; then
			echo "template-tarball: debootstrap of Debian 12 failed (no network to Debian's archive?), see $cache/debootstrap.log; using the busybox template" >&2
			exec "$0" busybox
		fi
		pack "$cache/debian-12-minbase" "$out"
		rm -rf "$cache/debian-12-minbase"
	fi
	echo "$out"
	;;
debian-systemd)
	out=$cache/debian-12-systemd.tar.zst
	if [ ! -s "$out" ]; then
		if ! debootstrap_tree "$cache/debian-12-systemd" \
			--include=systemd-sysv,dbus; then
			echo "template-tarball: debootstrap of Debian 12 with systemd failed (no network to Debian's archive?), see $cache/debootstrap.log" >&2
			exit 1
		fi
		pack "$cache/debian-12-systemd" "$out"
		rm -rf "$cache/debian-12-systemd"
	fi
	echo "$out"
	;;
*)
	echo "usage: $0 busybox|debian|debian-systemd" >&2
	exit 2
	;;
esac
