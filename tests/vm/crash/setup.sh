#!/bin/bash
# Crash test, first boot: a store with a 48 MiB object and a private area
# whose file is a stub of it, on the kept scratch disk.
. "$TPLFS_TOP/tests/vm/lib.sh"
c=$TPLFS_SCRATCH/crash
rm -rf "$c"
mkdir -p "$c/store" "$c/private" "$c/mnt"
head -c 48M /dev/urandom >"$c/template"
T_STORE=$c/store
t_stub "$c/template" "$c/private/big"
sha256sum <"$c/template" | cut -d' ' -f1 >"$c/sha.template"
{ cat "$c/template"; printf Z; } | sha256sum | cut -d' ' -f1 >"$c/sha.appended"
sync
expect_eq "the stub is in place" 0 "$(stat -c %s "$c/private/big")"
