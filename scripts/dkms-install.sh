#!/bin/bash
# `make install` (without DESTDIR): register the module's sources, put in
# SRCDIR/tplfs-VERSION, with DKMS and build and install it for the running
# kernel; DKMS rebuilds it for every kernel installed later. DKMS=no skips
# this step (the sources are still installed).
#
#   scripts/dkms-install.sh VERSION SRCDIR
set -u
v=${1:?version}
srcdir=${2:-/usr/src}
if ! command -v dkms >/dev/null; then
	echo "install: dkms is not installed: apt install dkms, then: dkms install tplfs/$v" >&2
	echo "install: (or make install DKMS=no to install without the module)" >&2
	exit 1
fi
# A previous registration of this version (a reinstall) goes first.
dkms status -m tplfs -v "$v" 2>/dev/null | grep -q . &&
	dkms remove -m tplfs -v "$v" --all >/dev/null 2>&1
if ! dkms add -m tplfs -v "$v" --sourcetree "$srcdir" ||
	! dkms install -m tplfs -v "$v" --sourcetree "$srcdir"; then
	echo "install: dkms could not build tplfs/$v for $(uname -r)." >&2
	echo "install: its headers are needed: apt install linux-headers-$(uname -r)" >&2
	echo "install: then: dkms install tplfs/$v (make install DKMS=no skips the module)" >&2
	exit 1
fi
echo "install: tplfs/$v built and installed by dkms for $(uname -r); modprobe tplfs loads it"
