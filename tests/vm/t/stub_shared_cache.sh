#!/bin/bash
# Two containers read the same 64 MiB template file: the page cache holds it
# once, as the object's.
. "$TPLFS_TOP/tests/vm/lib.sh"
t_setup_dirs

head -c 64M /dev/urandom >"$PWD/blob"
mkdir -p "$PWD/priv_a" "$PWD/priv_b" "$PWD/mnt_a" "$PWD/mnt_b"
t_stub "$PWD/blob" "$PWD/priv_a/blob"
t_stub "$PWD/blob" "$PWD/priv_b/blob"
obj=$T_STORE/$("$TPLFS_BIN/tplfs-mkstub" --origin "$T_STORE" "$PWD/blob" | sed -n 2p)
rm "$PWD/blob"
t_mount ct-a "$PWD/mnt_a" "$PWD/priv_a"
t_mount ct-b "$PWD/mnt_b" "$PWD/priv_b"

resident() { fincore --bytes --noheadings --output RES "$1" | tr -d ' '; }
cached_kib() { awk '/^Cached:/ {print $2}' /proc/meminfo; }

sync
echo 3 >/proc/sys/vm/drop_caches
expect_eq "nothing of the object is cached at first" 0 "$(resident "$obj")"

before=$(cached_kib)
sha_a=$(sha256sum <"$PWD/mnt_a/blob")
expect_eq "container a's read caches the object" $((64 << 20)) "$(resident "$obj")"
mid=$(cached_kib)
sha_b=$(sha256sum <"$PWD/mnt_b/blob")
after=$(cached_kib)
expect_eq "both containers read the same data" "$sha_a" "$sha_b"
expect_eq "the object is cached once" $((64 << 20)) "$(resident "$obj")"
echo "  page cache: +$(((mid - before) / 1024)) MiB after a, +$(((after - mid) / 1024)) MiB after b"
if [ $((mid - before)) -ge $((60 * 1024)) ]; then
	ok "container a's read added about 64 MiB to the page cache"
else
	fail "container a's read added $(((mid - before) / 1024)) MiB, expected about 64"
fi
if [ $((after - mid)) -lt $((16 * 1024)) ]; then
	ok "container b's read added no second copy"
else
	fail "container b's read added $(((after - mid) / 1024)) MiB: a second copy"
fi
expect_eq "the stubs hold no page cache" "0 0" \
	"$(resident "$PWD/priv_a/blob") $(resident "$PWD/priv_b/blob")"
