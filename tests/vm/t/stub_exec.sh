#!/bin/bash
# Programs exec and shared libraries map straight from template objects.
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

mkdir -p "$T_PRIV/bin" "$T_PRIV/lib" "$T_PRIV/lib64"
t_stub /bin/true "$T_PRIV/bin/true"
t_stub /bin/cat "$T_PRIV/bin/cat"
t_stub /bin/sh "$T_PRIV/bin/sh"
t_stub "$(readlink -f /lib/x86_64-linux-gnu/libc.so.6)" "$T_PRIV/lib/libc.so.6"
t_stub "$(readlink -f /lib64/ld-linux-x86-64.so.2)" "$T_PRIV/lib64/ld-linux-x86-64.so.2"
printf '#!%s/bin/sh\necho script ran\n' "$T_MNT" >"$PWD/script"
chmod 0755 "$PWD/script"
t_stub "$PWD/script" "$T_PRIV/bin/script"

t_mount exec

expect_ok "exec of a stub binary" "$T_MNT/bin/true"
expect_eq "a stub program runs" "hello" "$(echo hello | "$T_MNT/bin/cat")"
expect_eq "a stub script runs with a stub interpreter" "script ran" "$("$T_MNT/bin/script")"

loader=$T_MNT/lib64/ld-linux-x86-64.so.2
maps=$("$loader" --library-path "$T_MNT/lib" "$T_MNT/bin/cat" /proc/self/maps)
expect_match "the program maps from its stub" " $T_MNT/bin/cat$" "$maps"
expect_match "libc maps from its stub" " $T_MNT/lib/libc.so.6$" "$maps"
expect_match "the loader maps from its stub" " $T_MNT/lib64/ld-linux-x86-64.so.2$" "$maps"
expect_eq "stub loader, libc and program work together" "all stubs" \
	"$(echo 'all stubs' | "$loader" --library-path "$T_MNT/lib" "$T_MNT/bin/cat")"

# A stub stays read-only underneath a running program.
expect_match "a stub's private inode stays empty" '^0$' "$(stat -c %s "$T_PRIV/bin/cat")"
