#!/bin/bash
# The debug kernel of `make check-debug`: Debian's own 6.12 source
# (linux-source-6.12, nothing applied) built with lockdep, KASAN, UBSAN,
# DEBUG_ATOMIC_SLEEP and DEBUG_LIST from x86_64 defconfig plus
# scripts/debug-kernel.config, every driver the guest needs built in.
#
#   debug-kernel.sh build   build it unless cached, and make it the "debug"
#                           kernel of scripts/kernel-cache.sh (kver, kdir,
#                           root), so that tests/vm/run --kernel debug and
#                           scripts/build-kmod.sh debug use it
#
# The cache is build/kernels/debug-<source version>-<key>/, where the key is
# a hash of the config fragment, the compiler's version and $recipe (bumped
# when this script builds differently): a rerun with the same three reuses
# it; a change of any builds a new one.
#   src/   the unpacked source   obj/  the build tree (O=, the kdir)
#   root/  boot/vmlinuz-<kver> and lib/modules/<kver> (modules.builtin...),
#          laid out like kernel-cache.sh's unpacked Debian kernels
# The build runs make -j2 (TPLFS_DEBUG_KERNEL_JOBS): these machines have 2
# cores and other guests run on them.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${TPLFS_KERNEL_CACHE:-$top/build/kernels}
frag=$top/scripts/debug-kernel.config
jobs=${TPLFS_DEBUG_KERNEL_JOBS:-2}
pkg=linux-source-6.12
recipe=1

die() { echo "debug-kernel: $*" >&2; exit 1; }

candidate() {
	apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v '(none)' || true
}

build() {
	local ver key dir kver tmp opt want got bad=0
	ver=$(candidate)
	if [ -z "$ver" ]; then
		apt-get update -qq >/dev/null 2>&1 || true
		ver=$(candidate)
	fi
	[ -n "$ver" ] || die "$pkg is not in the apt archive"
	key=$( { cat "$frag"; gcc --version | head -1; echo "recipe $recipe"; } | sha256sum | cut -c1-12)
	dir=$cache/debug-$ver-$key
	if [ -e "$dir/.complete" ]; then
		echo "debug-kernel: $(cat "$dir/kver") from $pkg $ver (cached in $dir)"
		echo "$dir" >"$cache/debug.dir"
		cat "$dir/kver" >"$cache/debug.kver"
		return
	fi

	echo "debug-kernel: building from $pkg $ver into $dir (make -j$jobs)"
	rm -rf "$dir"
	mkdir -p "$dir/src" "$dir/obj" "$dir/root/boot"
	tmp=$(mktemp -d "$cache/.debug-dl.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$pkg=$ver") ||
		die "apt-get download $pkg=$ver failed"
	dpkg-deb -x "$tmp"/*.deb "$tmp/x"
	tar -xJf "$tmp/x/usr/src/$pkg.tar.xz" -C "$dir/src" --strip-components=1
	rm -rf "$tmp"
	trap - EXIT

	local mk=(make -C "$dir/src" O="$dir/obj" -j"$jobs")
	"${mk[@]}" -s defconfig
	"$dir/src/scripts/kconfig/merge_config.sh" -m -O "$dir/obj" \
		"$dir/obj/.config" "$frag" >/dev/null
	"${mk[@]}" -s olddefconfig
	# every line of the fragment must have survived olddefconfig
	while read -r opt; do
		case "$opt" in
		CONFIG_*=*) want=$opt; opt=${opt%%=*} ;;
		"# CONFIG_"*" is not set") opt=${opt#\# }; opt=${opt%% *}; want= ;;
		*) continue ;;
		esac
		got=$(grep -E "^$opt=" "$dir/obj/.config" || true)
		if [ "$got" != "$want" ]; then
			echo "debug-kernel: $opt: asked '${want:-not set}', got '${got:-not set}'" >&2
			bad=1
		fi
	done <"$frag"
	[ $bad = 0 ] || die "scripts/debug-kernel.config does not hold (see above)"

	"${mk[@]}" bzImage modules
	kver=$("${mk[@]}" -s kernelrelease)
	"${mk[@]}" -s modules_install INSTALL_MOD_PATH="$dir/root" INSTALL_MOD_STRIP=1
	cp "$dir/obj/arch/x86/boot/bzImage" "$dir/root/boot/vmlinuz-$kver"
	cp "$dir/obj/.config" "$dir/root/boot/config-$kver"
	echo "$kver" >"$dir/kver"
	touch "$dir/.complete"
	echo "$dir" >"$cache/debug.dir"
	echo "$kver" >"$cache/debug.kver"
	echo "debug-kernel: $kver ready in $dir"
}

case "${1:-}" in
build) mkdir -p "$cache" && build ;;
*) die "usage: debug-kernel.sh build" ;;
esac
