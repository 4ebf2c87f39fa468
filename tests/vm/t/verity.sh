#!/bin/bash
# fs-verity: objects written to a store whose filesystem has it (ext4 with
# the verity feature) carry it, with the parameters of their digest, by
# tplfs-mkstub (a staged object) and by tplfsd's tarball import (adopted
# objects). The mount option verity=on refuses an object whose measured
# digest is not its stub's, require also one without fs-verity, and off
# (the default) looks at nothing. 6.1 does not export fsverity_get_digest()
# to modules: there verity=on|require is refused at mount, saying why.
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

# A store on ext4 with the verity feature (the scratch disk has none).
truncate -s 96M "$PWD/verity.img"
mkfs.ext4 -q -F -O verity -b 4096 "$PWD/verity.img" || { fail "mkfs.ext4 -O verity"; exit 1; }
T_STORE=$PWD/vstore
mkdir -p "$T_STORE"
mount -o loop "$PWD/verity.img" "$T_STORE" || { fail "mount the verity store"; exit 1; }
mkdir -p "$T_STORE/objects"

# object_of SRC: the object of SRC's content, as a stub of it names it
object_of() { echo "$T_STORE/$($MKSTUB --origin "$T_STORE" "$1" | sed -n 2p)"; }

# --- written objects carry fs-verity, measured as their name ---
printf 'the genuine content\n' >"$PWD/good"
printf 'a forged content!!!\n' >"$PWD/forged"
printf 'second genuine file\n' >"$PWD/good2"
t_stub "$PWD/good" "$T_PRIV/good"
t_stub "$PWD/good2" "$T_PRIV/good2"
obj=$(object_of "$PWD/good")
expect_eq "the object has fs-verity, measured as its name" \
	"sha256:$(basename "$(dirname "$obj")")$(basename "$obj")" \
	"$(fsverity measure "$obj" 2>&1 | cut -d' ' -f1)"

# forge FILE OBJECT [verity]: put FILE's content in place of OBJECT, with
# fs-verity of its own when asked (a replacement made by someone who can
# write to the store)
forge() {
	cp "$1" "$2.new"
	[ "${3:-}" = verity ] && fsverity enable "$2.new"
	mv -f "$2.new" "$2"
}
saved=$PWD/saved-object
cp "$obj" "$saved"
restore() { cp "$saved" "$obj.new" && fsverity enable "$obj.new" && mv -f "$obj.new" "$obj"; }

mnt_err() { $SYS mount tplfs "$T_MNT" tplfs "$1"; }
opts="private=$T_PRIV,store=$T_STORE"

case "$(uname -r)" in
6.1.*)
	expect_eq "verity=on is refused on 6.1" EINVAL "$(mnt_err "$opts,verity=on")"
	expect_match "saying why" 'verity=on: this kernel does not export fsverity_get_digest' \
		"$(t_last_log)"
	expect_eq "so is verity=require" EINVAL "$(mnt_err "$opts,verity=require")"
	expect_ok "verity=off mounts" mount -t tplfs -o "$opts,verity=off,ct=v0" tplfs "$T_MNT"
	expect_eq "and reads" "the genuine content" "$(cat "$T_MNT/good")"
	umount "$T_MNT"
	;;
*)
	expect_ok "verity=on mounts" mount -t tplfs -o "$opts,verity=on,ct=v1" tplfs "$T_MNT"
	expect_match "and shows it" " $T_MNT tplfs .*,verity=on" "$(grep " $T_MNT " /proc/mounts)"
	expect_eq "a genuine object reads" "the genuine content" "$(cat "$T_MNT/good")"
	if mount -o remount,verity=off "$T_MNT" 2>/dev/null; then
		fail "remount may not change verity="
	else
		ok "remount may not change verity="
	fi
	expect_match "and says so" 'verity= cannot change on remount' "$(t_last_log)"

	forge "$PWD/forged" "$obj" verity
	expect_match "an object replaced under its name, with fs-verity of its own, is refused" \
		'Input/output error' "$(cat "$T_MNT/good" 2>&1)"
	expect_match "and logged" 'object.s fs-verity digest is not the stub.s' "$(t_last_log)"
	expect_match "a write (copy-up) is refused too" 'Input/output error' \
		"$( (echo more >>"$T_MNT/good") 2>&1)"
	expect_eq "and leaves the stub a stub" stub "$(t_is_stub "$T_PRIV/good")"
	expect_eq "another stub still reads" "second genuine file" "$(cat "$T_MNT/good2")"

	forge "$PWD/forged" "$obj"
	expect_eq "verity=on lets an object without fs-verity through" \
		"a forged content!!!" "$(cat "$T_MNT/good" 2>&1)"
	umount "$T_MNT"

	expect_ok "verity=require mounts" mount -t tplfs -o "$opts,verity=require,ct=v2" tplfs "$T_MNT"
	expect_match "require refuses an object without fs-verity" 'Input/output error' \
		"$(cat "$T_MNT/good" 2>&1)"
	expect_match "and logs it" 'object has no fs-verity' "$(t_last_log)"
	restore
	expect_eq "the genuine object, put back, reads under require" "the genuine content" \
		"$(cat "$T_MNT/good" 2>&1)"
	expect_ok "and copies up" sh -c "echo more >>'$T_MNT/good'"
	expect_eq "into the private file" "private" "$(t_is_stub "$T_PRIV/good")"
	umount "$T_MNT"

	forge "$PWD/forged" "$(object_of "$PWD/good2")" verity
	expect_ok "verity=off (the default) mounts" mount -t tplfs -o "$opts,ct=v3" tplfs "$T_MNT"
	expect_eq "and looks at nothing: the forgery reads" "a forged content!!!" \
		"$(cat "$T_MNT/good2" 2>&1)"
	umount "$T_MNT"

	# A store whose filesystem has no fs-verity (tmpfs)
	mkdir -p "$PWD/tstore"
	mount -t tmpfs tmpfs "$PWD/tstore"
	mkdir "$PWD/tstore/objects"
	expect_eq "require on a store without fs-verity is refused" EINVAL \
		"$(mnt_err "private=$T_PRIV,store=$PWD/tstore,verity=require")"
	expect_match "naming the store's filesystem" \
		"verity=require: the store's filesystem \(tmpfs\) has no fs-verity" "$(t_last_log)"
	expect_ok "on mounts there" mount -t tplfs -o "private=$T_PRIV,store=$PWD/tstore,verity=on,ct=v4" \
		tplfs "$T_MNT"
	umount "$T_MNT"
	umount "$PWD/tstore"
	;;
esac

# --- a filesystem that cannot: objects without fs-verity, and no error ---
# (ext4 with 1 KiB blocks, as mke2fs makes one under 512 MiB: fs-verity's
# 4 KiB Merkle blocks do not fit, EINVAL)
# 6.1's ext4 does not mount such a filesystem at all.
truncate -s 32M "$PWD/small.img"
mkfs.ext4 -q -F -O verity -b 1024 "$PWD/small.img" && mkdir -p "$PWD/small" ||
	{ fail "mkfs of the 1 KiB-block store"; exit 1; }
case "$(uname -r)" in
6.1.*)
	expect_match "6.1 does not mount ext4 with verity and 1 KiB blocks" 'wrong fs type|bad superblock' \
		"$(mount -o loop "$PWD/small.img" "$PWD/small" 2>&1)"
	;;
*)
	mount -o loop "$PWD/small.img" "$PWD/small" || { fail "the 1 KiB-block store"; exit 1; }
	mkdir -p "$PWD/small/objects"
	expect_ok "an object is written to a store whose blocks are too small for fs-verity" \
		$MKSTUB "$PWD/small" "$PWD/good" "$PWD/small-stub"
	expect_match "without fs-verity" 'ERROR|not a verity file|No data' \
		"$(fsverity measure "$PWD/small/$($MKSTUB --origin "$PWD/small" "$PWD/good" | sed -n 2p)" 2>&1)"
	umount "$PWD/small"
	;;
esac

# --- tplfsd's tarball import gives every object fs-verity ---
TPL=$TPLFS_TOP/build/cache/busybox-template.tar.zst
[ -s "$TPL" ] || { fail "no template tarball $TPL (scripts/template-tarball.sh)"; exit 1; }
SOCK=$PWD/tplfsd.sock
LOG=$PWD/tplfsd.log
t_tplfsd "$PWD/root" "$T_STORE/s2" "$SOCK" "$LOG"
trap 'rc=$?; t_stop_tplfsd; (exit $rc); t_finish' EXIT
expect_match "template import of a tarball" "^os@1: [0-9]+ entries" \
	"$("$TPLFS_BIN/tplctl" --socket "$SOCK" template import os@1 --from "$TPL" 2>&1)"
n=0
bad=0
while read -r o; do
	n=$((n + 1))
	name=$(basename "$(dirname "$o")")$(basename "$o")
	[ "$(fsverity measure "$o" 2>&1 | cut -d' ' -f1)" = "sha256:$name" ] || bad=$((bad + 1))
done < <(find "$T_STORE/s2/objects" -type f ! -name '.*')
expect_match "it stored objects" '^[1-9]' "$n"
expect_eq "every one has fs-verity, measured as its name" 0 "$bad"
t_stop_tplfsd
trap t_finish EXIT
umount "$T_STORE"
