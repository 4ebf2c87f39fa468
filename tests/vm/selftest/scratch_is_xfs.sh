#!/bin/bash
# Harness self-test: with --fs xfs, the scratch disk is xfs and tplfs mounts on it.
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs
expect_eq "scratch filesystem" xfs "$(stat -f -c %T "$TPLFS_SCRATCH")"
expect_eq "TPLFS_FS says so" xfs "$TPLFS_FS"
echo data >"$T_PRIV/f"
expect_ok "tplfs mounts an xfs private area" \
	mount -t tplfs -o "private=$T_PRIV,store=$T_STORE" tplfs "$T_MNT"
expect_eq "and reads through it" data "$(cat "$T_MNT/f")"
