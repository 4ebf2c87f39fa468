#!/bin/bash
# Build the tplfs module (or the harness's self-test module) for one target
# kernel, out of tree, in build/kmod/<kver>/ so that both kernels' objects live
# side by side. Warnings are errors (-Werror in kmod/Kbuild) at W=1.
#
#   build-kmod.sh [--selftest] 6.12|6.1|debug [extra kbuild arguments, e.g. C=2]
#
# "debug" is the lockdep/KASAN kernel of make check-debug
# (scripts/debug-kernel.sh); its release (6.12.N-tplfs-debug) gives it a
# directory of its own beside Debian's 6.12.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
what=kmod
if [ "${1:-}" = --selftest ]; then
	what=selftest
	shift
fi
k=${1:?usage: build-kmod.sh [--selftest] 6.12|6.1|debug [kbuild args]}
shift

kver=$("$top/scripts/kernel-cache.sh" kver "$k")
kdir=$("$top/scripts/kernel-cache.sh" kdir "$k")
out=$top/build/$what/$kver

# A tree of symbolic links to the sources: objects stay out of the source tree.
link_tree() {
	local src=$1 dst=$2 f
	mkdir -p "$dst"
	find "$dst" -maxdepth 1 -type l -delete
	for f in "$src"/*.[ch] "$src"/Kbuild; do
		[ -e "$f" ] && ln -s "$f" "$dst/"
	done
	return 0
}

if [ "$what" = kmod ]; then
	mkdir -p "$out"
	ln -sfn "$top/Kbuild" "$out/Kbuild"
	ln -sfn "$top/include" "$out/include"
	link_tree "$top/kmod" "$out/kmod"
else
	link_tree "$top/tests/vm/selftest" "$out"
fi

make -s -C "$kdir" M="$out" W=1 "$@" modules
