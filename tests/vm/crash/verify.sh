#!/bin/bash
# Crash test, the boot after: the file is either the template (a stub,
# whatever data a broken copy-up left in it) or the complete private copy
# (with or without the appended byte, which nobody synced). A new write
# then works. Finally the stub is put back for the next round.
. "$TPLFS_TOP/tests/vm/lib.sh"
c=$TPLFS_SCRATCH/crash
mount -t tplfs -o "private=$c/private,store=$c/store,ct=crash" tplfs "$c/mnt" ||
	{ fail "mount after the crash"; exit 1; }
sha=$(sha256sum <"$c/mnt/big" | cut -d' ' -f1)
if getfattr --absolute-names -n trusted.tplfs.origin "$c/private/big" >/dev/null 2>&1; then
	state="stub holding $(stat -c %s "$c/private/big") bytes"
else
	state="private file of $(stat -c %s "$c/private/big") bytes"
fi
case "$sha" in
"$(cat "$c/sha.template")") what="the template" ;;
"$(cat "$c/sha.appended")") what="the template and the appended byte" ;;
*) what="neither the template nor the private copy" ;;
esac
echo "  outcome: $state, reads as $what"
if [ "${TPLFS_CRASH_VOLATILE:-0}" = 1 ] && [ "$what" = "neither the template nor the private copy" ]; then
	echo "  volatile: this is what volatile gives up"
	ok "volatile crash outcome recorded"
else
	expect_match "after the crash the file is the template or the complete copy" \
		'^the template' "$what"
fi
printf W >>"$c/mnt/big"
expect_eq "a write after the crash lands after what was there" "W" "$(tail -c 1 "$c/mnt/big")"
expect_eq "and the file is private now" "" \
	"$(getfattr --absolute-names -n trusted.tplfs.origin "$c/private/big" 2>/dev/null)"
umount "$c/mnt"
rm "$c/private/big"
T_STORE=$c/store
t_stub "$c/template" "$c/private/big"
sync
