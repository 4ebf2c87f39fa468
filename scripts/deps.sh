#!/bin/bash
# Install everything tplfs builds and tests with, from Debian packages only.
# Idempotent: packages already installed are not touched, and kernels already
# in the cache are not fetched again.
#
#   scripts/deps.sh            libraries, tools, and both target kernels
#   scripts/deps.sh --packages libraries and tools only
#   scripts/deps.sh --debug-kernel
#                              libraries and tools, and what building the
#                              debug kernel of make check-debug needs
#                              (debug_packages; not the Debian kernels)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)

packages=(
	# toolchain and kernel-module build
	build-essential gcc-12 make bc bison flex libelf-dev kmod cpio
	# libraries of the design
	liburing-dev libdevmapper-dev libcap-dev libfsverity-dev
	libarchive-dev libjson-c-dev libcmocka-dev pkg-config
	# the VM test guests
	qemu-system-x86 busybox-static
	# tools used in tests, on the host and (over 9p) in the guests
	attr acl xfsprogs e2fsprogs zstd xz-utils fsverity python3
	util-linux procps libcap2-bin eatmydata
	# lint
	sparse cppcheck
	# fuzzing the daemon's parser (libFuzzer); checking the systemd units
	clang libclang-rt-14-dev systemd
	# template trees for the tests and the demo; the update test's local
	# repository (dpkg-scanpackages)
	debootstrap dpkg-dev
	# ct create makes each container's ssh host keys (ssh-keygen)
	openssh-client
	# the benchmarks' charts (bench/report.py), and a contender (in the guest)
	gnuplot-nox fuse-overlayfs fuse3
	# a loaded machine for scripts/check-loaded.sh (make check twice under load)
	stress-ng
	# make install builds the module through DKMS (tested against both kernels)
	dkms
	# container runtimes run on tplfs roots in the guests (issue 22):
	# systemd-nspawn, and an OCI runtime from Debian
	systemd-container crun
	# ct p2v copies a server with rsync (tplctl runs it); its guests'
	# test reaches the "server" through a real sshd started from the
	# host's binaries (issue 20)
	rsync openssh-server
)

# Only make check-debug needs these: scripts/debug-kernel.sh builds a whole
# kernel from Debian's linux-source-6.12. The package's own Depends and
# Recommends (build-essential, bc, rsync, kmod, cpio, bison, flex,
# libelf-dev, libssl-dev; xz-utils for its linux-source-6.12.tar.xz), plus
# dwarves (pahole, for BTF should the config turn it on) and python3
# (scripts/). What this config's build uses of them: bc
# (kernel/time/timeconst.h), bison and flex (kconfig), libelf-dev
# (objtool, for ORC), libssl-dev (certs/extract-cert: defconfig has
# SYSTEM_TRUSTED_KEYRING), kmod (depmod in modules_install), xz-utils.
debug_packages=(
	build-essential gcc-12 make bc bison flex libssl-dev libelf-dev dwarves
	rsync cpio python3 xz-utils kmod
)

sudo_cmd=()
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || {
		echo "deps: not root and no sudo: cannot install packages" >&2
		exit 1
	}
	sudo_cmd=(sudo)
fi

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

# install PACKAGE... (those not installed yet); $why says what needs them
install_missing() {
	local why=$1 p
	shift
	local -a missing=()
	for p in "$@"; do
		installed "$p" || missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		echo "deps: $why: all present"
		return
	fi
	echo "deps: $why: installing ${missing[*]}"
	"${sudo_cmd[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" \
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

list=()
for p in "${packages[@]}"; do
	case "$p" in \#*) ;; *) list+=("$p") ;; esac
done
install_missing "packages of scripts/deps.sh" "${list[@]}"

[ "${1:-}" = "--packages" ] && exit 0
if [ "${1:-}" = "--debug-kernel" ]; then
	install_missing "the debug kernel's build (make check-debug)" "${debug_packages[@]}"
	exit 0
fi

# The kernels are unpacked, not installed (kernel-cache.sh says why), so
# apt never sees their dependencies: what the headers and kbuild packages
# need on the host (pahole for 6.12's BTF, gcc-12, ...) is read from their
# own Depends: fields and installed here.
for k in 6.12 6.1; do
	"$top/scripts/kernel-cache.sh" fetch "$k"
	need=()
	while read -r pkg by; do
		installed "$pkg" || echo "deps: $pkg is needed by $by (its Depends:)"
		need+=("$pkg")
	done < <("$top/scripts/kernel-cache.sh" host-deps "$k")
	[ ${#need[@]} -eq 0 ] || install_missing "what kernel $k's build tree depends on" "${need[@]}"
done
