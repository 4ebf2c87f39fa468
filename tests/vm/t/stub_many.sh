#!/bin/bash
# A few thousand stubs: ls -l and find see every one with its origin's size,
# and nothing opens an object to do so.
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

src=$PWD/src
n=0
for d in $(seq -w 1 30); do
	mkdir -p "$src/d$d" "$T_PRIV/d$d"
	for f in $(seq -w 1 100); do
		printf '%s/%s %0*d\n' "$d" "$f" $((10#$f * 7)) 0 >"$src/d$d/f$f"
		printf '%s\t%s\n' "$src/d$d/f$f" "$T_PRIV/d$d/f$f"
		n=$((n + 1))
	done
done >"$PWD/list"
$MKSTUB "$T_STORE" - <"$PWD/list" || fail "making $n stubs"

t_mount many
# No object is opened by lookup, stat or readdir: make them unreadable.
chmod -R a-r "$T_STORE/objects"
chmod 0 "$T_STORE/objects"

expect_eq "find sees every stub" "$n" "$(find "$T_MNT" -type f | wc -l)"
expect_eq "find -printf: names, sizes and modes" \
	"$(cd "$src" && find . -printf '%p %s %m %y\n' | sort)" \
	"$(cd "$T_MNT" && find . -printf '%p %s %m %y\n' | sort)"
expect_eq "ls -lR sizes" \
	"$(cd "$src" && ls -lR --time-style=+ | awk '{print $5, $7}')" \
	"$(cd "$T_MNT" && ls -lR --time-style=+ | awk '{print $5, $7}')"
expect_eq "du --apparent-size" \
	"$(du -s --apparent-size -B1 "$src" | cut -f1)" \
	"$(du -s --apparent-size -B1 "$T_MNT" | cut -f1)"

chmod 0755 "$T_STORE/objects"
chmod -R a+r "$T_STORE/objects"
expect_eq "and the contents read back" \
	"$(cat "$src"/d0[1-3]/f* | sha256sum)" "$(cat "$T_MNT"/d0[1-3]/f* | sha256sum)"
