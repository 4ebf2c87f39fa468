#!/bin/bash
# tplctl ct relink on a mounted container, through tplfsd and the module's
# SET_ORIGIN: files the container rewrote with the template's own bytes
# become stubs again while it runs; one held open is left (and counted),
# one whose bytes are its own is left; what reads through the mount is
# unchanged, the quota gives the blocks back, a second pass finds nothing.
. "$TPLFS_TOP/tests/vm/lib.sh"

t_daemon_places

t_tplfsd "$R" "$PWD/store" "$SOCK" "$LOG"
trap 'rc=$?; exec 9<&-; t_stop_tplfsd; (exit $rc); t_finish' EXIT
$T template import os@1 --from "$TPL" >/dev/null || { fail "template import"; exit 1; }
$T ct create r1 --template os@1 --quota 1G >/dev/null && $T ct mount r1 >/dev/null ||
	{ fail "ct create and mount"; exit 1; }
M=$R/root/r1
P=$R/private/r1/fs
used() { $T --json ct quota r1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["bytes"]["used"])'; }

# Rewritten through the mount with the bytes they had: private copies.
for f in etc/passwd etc/group bin/busybox; do
	cat "$M/$f" >"$PWD/copy"
	cat "$PWD/copy" >"$M/$f"
	expect_eq "$f is a private copy" private "$(t_is_stub "$P/$f")"
done
echo "its own" >>"$M/etc/profile"
sum=$(sha256sum "$M/etc/passwd" "$M/etc/group" "$M/bin/busybox" "$M/etc/profile")
before=$(used)
exec 9<"$M/etc/group"

expect_match "a dry run lists what would go" "would be relinked" "$($T ct relink r1 --dry-run)"
expect_eq "and changes nothing" private "$(t_is_stub "$P/etc/passwd")"
out=$($T ct relink r1)
expect_match "ct relink of the mounted container" \
	'^r1: 2 files relinked, .* freed \([0-9]+ hashed of [0-9]+; 0 changed meanwhile, 1 open: left\)$' \
	"$(tail -1 <<<"$out")"
expect_eq "passwd and busybox are stubs again" "stub stub" \
	"$(t_is_stub "$P/etc/passwd") $(t_is_stub "$P/bin/busybox")"
expect_eq "the file held open is left" private "$(t_is_stub "$P/etc/group")"
expect_eq "the file with bytes of its own is left" private "$(t_is_stub "$P/etc/profile")"
expect_eq "every file reads as before" "$sum" \
	"$(sha256sum "$M/etc/passwd" "$M/etc/group" "$M/bin/busybox" "$M/etc/profile")"
expect_match "programs still run from the relinked busybox" '^ok$' \
	"$(chroot "$M" /bin/busybox echo ok 2>&1)"
after=$(used)
expect_match "the quota gave the blocks back ($before -> $after)" '^yes$' \
	"$([ "$after" -lt "$before" ] && echo yes)"
exec 9<&-
expect_match "closed, a second pass takes it" '^r1: 1 files relinked' "$($T ct relink r1 | tail -1)"
expect_match "and a third finds nothing" '^r1: 0 files relinked' "$($T ct relink r1 | tail -1)"

# Writers racing relinks: each round, a writer rewrites every file of a
# set either with the template's bytes or with bytes of its own (each
# write its own open), while ct relink runs again and again. No write is
# lost and no stub hides one: each file ends with what was written last,
# and a stub only where that was the template's bytes.
files=$(cd "$M" && find etc usr -type f -links 1 -size +0 -regex '[a-z0-9/._-]*' | head -20)
mkdir -p "$PWD/orig"
for f in $files; do cp "$M/$f" "$PWD/orig/${f//\//_}"; done
(
	for round in 1 2 3 4 5 6; do
		n=0
		for f in $files; do
			n=$((n + 1))
			if [ $(((n + round) % 2)) = 0 ]; then
				cat "$PWD/orig/${f//\//_}" >"$M/$f"
				echo "$f template" >>"$PWD/wrote"
			else
				echo "own $round $f" >"$M/$f"
				echo "$f own $round" >>"$PWD/wrote"
			fi
		done
	done
) &
wpid=$!
passes=0
while kill -0 "$wpid" 2>/dev/null; do
	$T ct relink r1 >/dev/null 2>>"$PWD/relink.err" && passes=$((passes + 1))
done
wait "$wpid"
$T ct relink r1 >/dev/null 2>>"$PWD/relink.err" && passes=$((passes + 1))
echo "  $passes relink passes raced the writer over $(wc -w <<<"$files") files"
bad=0
stubs=0
for f in $files; do
	last=$(grep "^$f " "$PWD/wrote" | tail -1)
	case "$last" in
	*" template")
		cmp -s "$M/$f" "$PWD/orig/${f//\//_}" || { bad=$((bad + 1)); echo "  $f: not the template's bytes"; }
		[ "$(t_is_stub "$P/$f")" = stub ] && stubs=$((stubs + 1)) ;;
	*)
		want="own ${last##* own } $f"
		[ "$(cat "$M/$f")" = "$want" ] && [ "$(t_is_stub "$P/$f")" = private ] ||
			{ bad=$((bad + 1)); echo "  $f: '$(cat "$M/$f")' ($(t_is_stub "$P/$f")), last written '$want'"; } ;;
	esac
done
expect_eq "every file holds its last write, a stub only where that was the template's" 0 "$bad"
expect_eq "no relink failed" "" "$(cat "$PWD/relink.err" 2>/dev/null)"
expect_match "the last pass made the template's ones stubs ($stubs)" '^yes$' \
	"$([ "$stubs" -gt 0 ] && echo yes)"
expect_eq "no WARN or BUG" "" "$(dmesg | grep -E 'WARNING:|BUG:' | head -3)"
$T ct umount r1 >/dev/null || fail "ct umount"
