#!/bin/bash
# What volatile gives up: a copy-up on a normal mount fdatasyncs the copy
# before the commit; on a volatile mount it does not (the tplfs_copy_up
# tracepoint says synced=0), so after a crash a committed copy may lack its
# data. (tests/vm/crash/run shows the outcomes of crashes.)
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

head -c 8M /dev/urandom >"$PWD/src"
mkdir -p "$PWD/priv_v" "$PWD/mnt_v"
t_stub "$PWD/src" "$T_PRIV/f"
t_stub "$PWD/src" "$PWD/priv_v/f"
t_mount durable
mount -t tplfs -o "private=$PWD/priv_v,store=$T_STORE,ct=vol,volatile" tplfs "$PWD/mnt_v" ||
	{ fail "volatile mount"; exit 1; }

expect_match "a copy-up on a normal mount syncs the data before the commit" \
	'bytes=8388608 .* synced=1 err=0' "$(t_copy_up_event "$T_MNT/f")"
expect_match "a copy-up on a volatile mount does not" \
	'bytes=8388608 .* synced=0 err=0' "$(t_copy_up_event "$PWD/mnt_v/f")"
expect_eq "both copies are complete while the machine runs" \
	"$(sha256sum <"$PWD/src") $(sha256sum <"$PWD/src")" \
	"$(sha256sum <"$T_MNT/f") $(sha256sum <"$PWD/mnt_v/f")"
