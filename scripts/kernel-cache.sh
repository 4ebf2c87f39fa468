#!/bin/bash
# The kernels tplfs builds against and boots in its test guests, kept in a
# cache under the build tree (build/kernels/), never installed on the host.
#
#   kernel-cache.sh fetch 6.12|6.1   resolve Debian's metapackage, download the
#                                    image, headers and kbuild packages, unpack
#   kernel-cache.sh kver 6.12|6.1    print the cached kernel release
#   kernel-cache.sh kdir 6.12|6.1    print the cached headers directory
#   kernel-cache.sh root 6.12|6.1    print the unpacked tree (boot/, lib/modules/)
#   kernel-cache.sh host-deps 6.12|6.1
#                                    print the host packages the unpacked headers
#                                    and kbuild need ("PACKAGE NEEDED-BY"), from
#                                    the packages' own Depends: fields
#
# kver, kdir and root also take "debug": the lockdep/KASAN kernel that
# scripts/debug-kernel.sh builds from Debian's 6.12 source (make check-debug);
# its kdir is that build tree.
#
# Why not apt-get install the headers: Debian's 6.12 headers package depends on
# the matching image package, which would put a kernel into the host's /boot.
# Unpacking the .debs ourselves keeps the host untouched and needs no root
# beyond apt-get download.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${TPLFS_KERNEL_CACHE:-$top/build/kernels}

die() { echo "kernel-cache: $*" >&2; exit 1; }

meta_image() {
	case "$1" in
	6.12) echo linux-image-6.12-amd64 ;;
	6.1) echo linux-image-amd64 ;;
	*) die "unknown kernel '$1' (expected 6.12 or 6.1)" ;;
	esac
}

meta_headers() {
	case "$1" in
	6.12) echo linux-headers-6.12-amd64 ;;
	6.1) echo linux-headers-amd64 ;;
	*) die "unknown kernel '$1' (expected 6.12 or 6.1)" ;;
	esac
}

# first dependency of package $1 whose name matches the regex $2
dep_of() {
	apt-cache depends "$1" 2>/dev/null |
		sed -n 's/^ *|\{0,1\}Depends: //p' | grep -E -m1 "$2" || true
}

resolve() {
	local k=$1 img hdr
	img=$(dep_of "$(meta_image "$k")" '^linux-image-')
	if [ -z "$img" ]; then
		apt-get update -qq >/dev/null 2>&1 || true
		img=$(dep_of "$(meta_image "$k")" '^linux-image-')
	fi
	hdr=$(dep_of "$(meta_headers "$k")" '^linux-headers-')
	[ -n "$img" ] && [ -n "$hdr" ] ||
		die "cannot resolve $(meta_image "$k") / $(meta_headers "$k") in Debian's archive"
	local kimg=${img#linux-image-} khdr=${hdr#linux-headers-}
	kimg=${kimg%-unsigned}
	[ "$kimg" = "$khdr" ] ||
		die "image ($kimg) and headers ($khdr) of $k disagree; try apt-get update"
	echo "$kimg"
}

# The flavour Makefile includes the common one by absolute path: point it into
# the cache (again, should the tree have moved).
fix_include() {
	local kv=$1 mk
	mk=$cache/$kv/root/usr/src/linux-headers-$kv/Makefile
	grep -q "^include $cache/$kv/root/usr/src/" "$mk" ||
		sed -i "s|^include .*/usr/src/|include $cache/$kv/root/usr/src/|" "$mk"
}

kver() {
	local f=$cache/$1.kver
	[ "$1" != debug ] || [ -s "$f" ] ||
		die "no debug kernel in $cache: run 'scripts/debug-kernel.sh build' (make check-debug)"
	[ -s "$f" ] || die "kernel $1 is not in $cache: run 'make deps'"
	cat "$f"
}

# the directory of the debug kernel (scripts/debug-kernel.sh): obj/, root/
debug_dir() {
	kver debug >/dev/null
	cat "$cache/debug.dir"
}

fetch() {
	local k=$1 kv dir tmp common kbuild
	kv=$(resolve "$k")
	dir=$cache/$kv
	# a cache from before control/ was kept is fetched again
	if [ -e "$dir/.complete" ] && [ -d "$dir/control" ]; then
		echo "$kv" >"$cache/$k.kver"
		echo "kernel-cache: $k = $kv (cached)"
		return
	fi
	echo "kernel-cache: $k = $kv: downloading image and headers"
	common=$(dep_of "linux-headers-$kv" '^linux-headers-.*-common$')
	kbuild=$(dep_of "linux-headers-$kv" '^linux-kbuild-')
	[ -n "$common" ] && [ -n "$kbuild" ] ||
		die "cannot resolve the common headers / kbuild of linux-headers-$kv"
	rm -rf "$dir" && mkdir -p "$dir/root"
	tmp=$(mktemp -d "$cache/.dl.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "linux-image-$kv" \
		"linux-headers-$kv" "$common" "$kbuild") ||
		die "apt-get download failed for $kv"
	mkdir -p "$dir/control"
	for deb in "$tmp"/*.deb; do
		dpkg-deb -x "$deb" "$dir/root"
		# each package's control fields, for host-deps
		dpkg-deb -f "$deb" Package Depends Pre-Depends \
			>"$dir/control/$(dpkg-deb -f "$deb" Package)"
	done
	fix_include "$kv"
	depmod -b "$dir/root" "$kv"
	[ -e "$dir/root/boot/vmlinuz-$kv" ] || die "no vmlinuz in linux-image-$kv"
	touch "$dir/.complete"
	echo "$kv" >"$cache/$k.kver"
	rm -rf "$tmp"
	trap - EXIT
	echo "kernel-cache: $k = $kv ready in $dir"
}

# The host packages that the unpacked build tree needs, from the Depends and
# Pre-Depends of the headers, common headers and kbuild packages (not the
# image's: that one boots in a guest, its dependencies are for a host that
# installs it). An alternative that is itself one of the unpacked packages is
# met by the cache. Prints "PACKAGE NEEDED-BY" a line, the first alternative
# of each group not met.
host_deps() {
	local kv=$1 ctl=$cache/$1/control f pkg field group alt name met first
	local -a groups alts
	[ -d "$ctl" ] || die "kernel $kv has no control fields: run 'make deps'"
	for f in "$ctl"/*; do
		pkg=$(basename "$f")
		case "$pkg" in linux-image-*) continue ;; esac
		field=$(sed -n 's/^\(Pre-\)\{0,1\}Depends: //p' "$f" | paste -sd, -)
		IFS=, read -ra groups <<<"$field"
		for group in "${groups[@]}"; do
			met= first=
			IFS='|' read -ra alts <<<"$group"
			for alt in "${alts[@]}"; do
				# drop the version, the architecture and the spaces
				name=$(sed -e 's/(.*)//' -e 's/:.*//' -e 's/[[:space:]]//g' <<<"$alt")
				[ -n "$name" ] || continue
				[ -n "$first" ] || first=$name
				[ -e "$ctl/$name" ] && met=1
			done
			[ -n "$met" ] || [ -z "$first" ] || echo "$first $pkg"
		done
	done | sort -u
}

cmd=${1:-}
k=${2:-}
[ -n "$k" ] || die "usage: kernel-cache.sh fetch|kver|kdir|root|host-deps 6.12|6.1|debug"
case "$cmd:$k" in
kver:debug | kdir:debug | root:debug | *:6.12 | *:6.1) ;;
*:debug) die "$cmd: not for the debug kernel (scripts/debug-kernel.sh builds it)" ;;
esac
case "$cmd" in
fetch) mkdir -p "$cache" && fetch "$k" ;;
kver) kver "$k" ;;
kdir)
	if [ "$k" = debug ]; then
		d=$(debug_dir)
		echo "$d/obj"
		exit 0
	fi
	kv=$(kver "$k")
	fix_include "$kv"
	echo "$cache/$kv/root/usr/src/linux-headers-$kv"
	;;
root)
	if [ "$k" = debug ]; then
		d=$(debug_dir)
		echo "$d/root"
	else
		echo "$cache/$(kver "$k")/root"
	fi
	;;
host-deps) host_deps "$(kver "$k")" ;;
*) die "unknown command '$cmd'" ;;
esac
