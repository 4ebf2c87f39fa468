# Helpers of the Debian tests of make check-full (sourced after lib.sh):
# R is tplfsd's root, PWD the scratch directory.

# What they work with: TPL (the Debian tarball, TPLFS_TEMPLATE), UPD (the
# packages of scripts/debian-update-debs.sh, TPLFS_UPDATE), N (containers,
# TPLFS_NCT, default 20), R, SOCK, LOG and T (tplctl on SOCK). The test
# ends if the tarball is missing.
TPL=${TPLFS_TEMPLATE:-$TPLFS_TOP/build/cache/debian-12-minbase.tar.zst}
UPD=${TPLFS_UPDATE:-$TPLFS_TOP/build/cache/debian-12-update}
N=${TPLFS_NCT:-20}
R=$PWD/tplfs
SOCK=$PWD/tplfsd.sock
LOG=$PWD/tplfsd.log
T="$TPLFS_BIN/tplctl --socket $SOCK"
[ -s "$TPL" ] || { fail "no Debian tarball $TPL (scripts/template-tarball.sh debian)"; exit 1; }

in_ct() { # in_ct CT COMMAND...: run COMMAND chrooted in the container
	local ct=$1
	shift
	chroot "$R/root/$ct" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"
}
apt_local() { # apt_local CT DIR ARGS...: apt-get ARGS from DIR's packages
	local m=$R/root/$1 rc
	mkdir -p "$m/tmp/repo"
	cp "$2"/*.deb "$2/Packages" "$TPLFS_TOP/tests/vm/tools/apt-local.sh" "$m/tmp/repo/"
	shift 2
	in_ct "${m##*/}" sh /tmp/repo/apt-local.sh "$@" >>"$PWD/apt.log" 2>&1
	rc=$?
	rm -rf "$m/tmp/repo"
	[ $rc = 0 ] || tail -20 "$PWD/apt.log" | sed 's/^/  apt: /'
	return $rc
}
# the object a stub in a private area names (its origin's digest)
object_of() {
	local hex
	hex=$(getfattr --absolute-names -e hex -n trusted.tplfs.origin "$1" 2>/dev/null |
		sed -n 's/^trusted.tplfs.origin=0x//p')
	[ ${#hex} = 96 ] || return 1
	echo "$PWD/store/objects/${hex:32:2}/${hex:34:62}"
}
phase() { echo "  -- $* (at ${SECONDS} s)"; }
resident() { fincore --bytes --noheadings --output RES "$1" | tr -d ' '; }
cached_kib() { awk '/^Cached:/ {print $2}' /proc/meminfo; }
