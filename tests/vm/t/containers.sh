#!/bin/bash
# The operator's day through tplfsd and tplctl, with the module: import a
# real template tarball, create and mount many containers, and check that
# each mounted root is the template (content, modes, owners, times, links,
# devices, xattrs, ACLs, capabilities), that programs run in a chroot, that
# a write stays in its container, and what a container costs on disk.
#
#   TPLFS_TEMPLATE   the tarball (default: the busybox template that
#                    make check builds; check-full passes Debian 12)
#   TPLFS_NCT        containers (default 50)
#   TPLFS_NDATA      containers whose file contents are compared too
#                    (default all; the others: metadata and sizes)
#   TPLFS_DPKG       if 1, run dpkg -l and dpkg --verify in a container
. "$TPLFS_TOP/tests/vm/lib.sh"

TPL=${TPLFS_TEMPLATE:-$TPLFS_TOP/build/cache/busybox-template.tar.zst}
N=${TPLFS_NCT:-50}
NDATA=${TPLFS_NDATA:-$N}
R=$PWD/tplfs
S=$PWD/store
SOCK=$PWD/tplfsd.sock
LOG=$PWD/tplfsd.log
T="$TPLFS_BIN/tplctl --socket $SOCK"
TREECMP="python3 $TPLFS_TOP/tests/vm/tools/treecmp.py"

[ -s "$TPL" ] || { fail "no template tarball $TPL (scripts/template-tarball.sh)"; exit 1; }
echo "  template: $TPL"

t_tplfsd "$R" "$S" "$SOCK" "$LOG"
trap 'rc=$?; t_stop_tplfsd; (exit $rc); t_finish' EXIT

# The reference: the same tarball, extracted by GNU tar.
mkdir "$PWD/src"
tar --xattrs --xattrs-include='*' --acls --numeric-owner -xpf "$TPL" -C "$PWD/src"

t0=$(date +%s%N)
expect_match "template import" "^os@1: [0-9]+ entries" "$($T template import os@1 --from "$TPL" 2>&1)"
echo "  import: $((($(date +%s%N) - t0) / 1000000)) ms"
expect_match "template list shows it" "^os@1 +sealed" "$($T template list)"

created=0
t0=$(date +%s%N)
for i in $(seq 1 "$N"); do
	$T ct create "c$i" --template os@1 >/dev/null 2>>"$PWD/errors" && created=$((created + 1))
done
ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "$N containers created" "$N" "$created"
echo "  ct create: $((ms / N)) ms each (TCG guest)"
expect_eq "ct list lists them" "$N" "$($T --json ct list | python3 -c \
	'import json,sys; print(len(json.load(sys.stdin)["result"]["containers"]))')"

mounted=0
for i in $(seq 1 "$N"); do
	$T ct mount "c$i" >/dev/null 2>>"$PWD/errors" && mounted=$((mounted + 1))
done
expect_eq "all $N mounted" "$N" "$mounted"

same=0
for i in $(seq 1 "$N"); do
	opts="--meta --identity"	# machine-id, ssh host keys: its own
	[ "$i" -le "$NDATA" ] || opts="$opts --no-data"
	if out=$($TREECMP $opts "$PWD/src" "$R/root/c$i"); then
		same=$((same + 1))
	else
		echo "  c$i: $out"
	fi
done
expect_eq "every container's root is the template (content in $NDATA of them)" "$N" "$same"

# Programs run in a container; what one writes, the others never see.
expect_match "a program runs in a chroot" "^[a-z]" \
	"$(chroot "$R/root/c1" /bin/sh -c 'ls / | head -1' 2>&1)"
echo "changed in c2" >"$R/root/c2/etc/hostname"
echo "appended in c2" >>"$R/root/c2/etc/os-release"
expect_eq "c2 sees its change" "changed in c2" "$(cat "$R/root/c2/etc/hostname")"
expect_eq "c1 does not" "$(cat "$PWD/src/etc/hostname")" "$(cat "$R/root/c1/etc/hostname")"
expect_ok "nor does c3 see the copied-up file change" cmp "$PWD/src/etc/os-release" "$R/root/c3/etc/os-release"
expect_eq "one copy-up in c2 (the private /etc/hostname needed none)" 1 \
	"$($T --json ct stats c2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["copy_ups"])')"
if [ "${TPLFS_DPKG:-0}" = 1 ]; then
	expect_match "dpkg -l lists the packages" "^ii +dpkg " \
		"$(chroot "$R/root/c1" dpkg -l 2>&1)"
	expect_eq "dpkg --verify finds nothing changed" "" \
		"$(chroot "$R/root/c3" dpkg --verify 2>&1)"
fi

field() {	# field NAME JSON: a member of a reply's result
	python3 -c 'import json,sys; print(json.load(sys.stdin)["result"][sys.argv[1]])' "$1" <<<"$2"
}
status=$($T --json ct status --scan c4)
disk=$(field disk_bytes "$status")
# without --scan: what the quota counts, here the kernel's figure
quota=$($T --json ct status c4)
expect_eq "ct status of a mounted container: the kernel's figures" kernel "$(field usage_from "$quota")"
expect_eq "which for an untouched container are the walk's" \
	"$(field disk_bytes "$status") $(field inodes "$status")" \
	"$(field disk_bytes "$quota") $(field inodes "$quota")"
# ct list with usage columns: the kernel's figures for a mounted one too
expect_eq "ct list -o id,inodes,from: the kernel's for a mounted container" \
	"c4 $(field inodes "$quota") kernel" \
	"$($T ct list -o id,inodes,from | awk '$1 == "c4" { print $1, $2, $3 }')"
du_kb=$(du -sk "$R/private/c4/fs" | cut -f1)
src_kb=$(du -sk "$PWD/src" | cut -f1)
echo "  a fresh container uses $((disk / 1024)) KiB on disk (du: $du_kb KiB); the template is $src_kb KiB"
expect_eq "ct status --scan reports what du measures" "$du_kb" "$((disk / 1024))"
[ "$du_kb" -lt "$src_kb" ] && ok "a container costs less than its template" ||
	fail "a container costs $du_kb KiB, the template $src_kb KiB"

expect_match "template rm is refused while containers use it" "used by $N container" \
	"$($T template rm os@1 2>&1)"
umounted=0
destroyed=0
for i in $(seq 1 "$N"); do
	$T ct umount "c$i" >/dev/null 2>>"$PWD/errors" && umounted=$((umounted + 1))
	$T ct destroy "c$i" >/dev/null 2>>"$PWD/errors" && destroyed=$((destroyed + 1))
done
expect_eq "all unmounted and destroyed" "$N $N" "$umounted $destroyed"
expect_ok "then template rm" $T template rm os@1
expect_match "and store gc frees every object" "objects removed" "$($T store gc)"
expect_eq "the store holds no object" "" "$(find "$S/objects" -type f)"
expect_eq "no operation failed" "" "$(cat "$PWD/errors" 2>/dev/null)"
t_stop_tplfsd
