#!/bin/bash
# On xfs, with the store and the private area on one filesystem, copy-up is
# a reflink of the object: no data blocks are used, the extents are shared.
# Run by make check with --fs xfs.
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs
[ "$(stat -f -c %T "$TPLFS_SCRATCH")" = xfs ] || { fail "needs an xfs scratch disk (--fs xfs)"; exit 1; }

# The template file comes from tmpfs, so the object has blocks of its own.
head -c 64M /dev/urandom >/tmp/template
t_stub /tmp/template "$T_PRIV/big"
t_mount reflink
sync
used() { df -B1 --output=used "$TPLFS_SCRATCH" | tail -1; }
USAGE="python3 $TPLFS_TOP/tests/vm/tools/usage.py"
charged() { "$TPLFS_BIN/tplfs-chan" quota-get reflink sync | sed -n 's/^bytes_used=//p'; }
"$TPLFS_BIN/tplfs-chan" quota-set reflink used="$($USAGE "$T_PRIV" | tr ' ' :)" >/dev/null
quota_before=$(charged)
before=$(used)
event=$(t_copy_up_event "$T_MNT/big")
# A reflink writes no data, only metadata that xfs's log commits in order
# before the commit (the origin xattr's removal): nothing to fdatasync, as
# overlayfs does not after a clone. tests/vm/crash/run --fs xfs crashes it.
expect_match "the reflink copy-up is not fdatasynced" \
	"bytes=$((64 << 20)) .* data=1 synced=0 err=0" "$event"
sync
after=$(used)
echo "  copy-up of 64 MiB used $(((after - before) / 1024)) KiB"
expect_eq "the copy is complete" "$(sha256sum </tmp/template)" "$(sha256sum <"$T_MNT/big")"
expect_eq "and private" "" "$(getfattr --absolute-names -n trusted.tplfs.origin "$T_PRIV/big" 2>/dev/null)"
if [ $((after - before)) -lt $((4 << 20)) ]; then
	ok "copy-up by reflink used no data blocks"
else
	fail "copy-up used $(((after - before) >> 20)) MiB: not a reflink"
fi
expect_match "the private file's extents are shared" 'shared' "$(filefrag -v "$T_PRIV/big")"
# The quota charges what xfs reports the file holds (doc/quota.md): the
# shared extents too, as xfs's own project quota does.
expect_eq "the quota charges the copy its st_blocks" $(($(stat -c %b "$T_PRIV/big") * 512)) \
	$(($(charged) - quota_before))
expect_eq "and usage equals a fresh count" "$($USAGE "$T_PRIV")" \
	"$(charged) $("$TPLFS_BIN/tplfs-chan" quota-get reflink | sed -n 's/^inodes_used=//p')"
expect_match "mountstats counts the 64 MiB" " copy_up_bytes=$((64 << 20)) " \
	"$(grep " mounted on $T_MNT with fstype tplfs" /proc/self/mountstats)"

# Writing a block of the copy unshares only that block.
printf 'Q' | dd of="$T_MNT/big" bs=1 seek=4096 conv=notrunc status=none
sync
expect_eq "a write to the copy does not touch the object" "$(sha256sum </tmp/template)" \
	"$(sha256sum <"$T_STORE/$("$TPLFS_BIN/tplfs-mkstub" --origin "$T_STORE" /tmp/template | sed -n 2p)")"
rm -f /tmp/template
