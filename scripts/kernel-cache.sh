#!/bin/bash
# The kernels tplfs builds against and boots in its test guests, kept in a
# cache under the build tree (build/kernels/), never installed on the host.
#
#   kernel-cache.sh fetch 6.12|6.1   resolve Debian's metapackage, download the
#                                    image, headers and kbuild packages, unpack
#   kernel-cache.sh kver 6.12|6.1    print the cached kernel release
#   kernel-cache.sh kdir 6.12|6.1    print the cached headers directory
#   kernel-cache.sh root 6.12|6.1    print the unpacked tree (boot/, lib/modules/)
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
	[ -s "$f" ] || die "kernel $1 is not in $cache: run 'make deps'"
	cat "$f"
}

fetch() {
	local k=$1 kv dir tmp common kbuild
	kv=$(resolve "$k")
	dir=$cache/$kv
	if [ -e "$dir/.complete" ]; then
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
	for deb in "$tmp"/*.deb; do
		dpkg-deb -x "$deb" "$dir/root"
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

cmd=${1:-}
k=${2:-}
[ -n "$k" ] || die "usage: kernel-cache.sh fetch|kver|kdir|root 6.12|6.1"
case "$cmd" in
fetch) mkdir -p "$cache" && fetch "$k" ;;
kver) kver "$k" ;;
kdir)
	kv=$(kver "$k")
	fix_include "$kv"
	echo "$cache/$kv/root/usr/src/linux-headers-$kv"
	;;
root) echo "$cache/$(kver "$k")/root" ;;
*) die "unknown command '$cmd'" ;;
esac
