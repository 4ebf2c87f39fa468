#!/bin/bash
# Physical-to-container migration (issue 20's acceptance). A "physical
# server" on two filesystems of its own (loop-mounted ext4: / and /home),
# made from the template plus changes: files with ACLs and user xattrs, a
# binary with a file capability, hard links, a large sparse file, a fifo, a
# device node, a file carrying a forged trusted.tplfs.origin, volatile
# paths. It is reached over ssh on the loopback (sshd started here from
# the host's binaries) through a relay that counts the bytes and cuts the
# link at a third, then holds it at two thirds while rsync is killed -9;
# the same command resumes and, with --final, makes the container. Then,
# separately, the same server as a local directory. Each container, mounted,
# equals the server (contents, modes, owners, ACLs, xattrs, capabilities,
# hard links, holes) but for what is left out; the template's files are
# stubs; the one quota holds over / and /home; dpkg --verify says what it
# says on the server (a Debian template).
#
#   TPLFS_TEMPLATE  the template tarball (default: the busybox one; check-full
#                   gives the Debian 12 one)
#   TPLFS_P2V_SPARSE_MB  the sparse file's size (default 256; 1024 in
#                   check-full)
. "$TPLFS_TOP/tests/vm/lib.sh"

t_daemon_places
TPL=${TPLFS_TEMPLATE:-$TPL}
SPARSE_MB=${TPLFS_P2V_SPARSE_MB:-256}
TREECMP="python3 $TPLFS_TOP/tests/vm/tools/treecmp.py"
. "$TPLFS_TOP/tests/vm/p2v-lib.sh"
RELAY=$P2V_RELAY
SKIP=("${P2V_SKIP[@]}")
trap 'rc=$?; p2v_cleanup "$PWD"; t_stop_tplfsd; (exit $rc); t_finish' EXIT
p2v_server_make "$PWD" "$TPL" "$SPARSE_MB" || exit 1
p2v_sshd "$PWD" || exit 1

t_tplfsd "$R" "$PWD/store" "$SOCK" "$LOG"
$T template import os@1 --from "$TPL" >/dev/null || { fail "template import"; exit 1; }

# --- over ssh: cut at a third, killed at two thirds, resumed -----------------
out=$(RSYNC_RSH="$RELAY --count $PWD/whole -- $SSH" $T ct p2v measure --from "$FROM" --mount /home 2>&1)
expect_match "one whole transfer over ssh (the measure)" '^measure: staged' "$(tail -1 <<<"$out")"
whole=$(awk '{s += $1} END {print s}' "$PWD/whole")
$T ct p2v measure --abort >/dev/null || fail "ct p2v --abort"
third=$((whole / 3))

out=$(RSYNC_RSH="$RELAY --count $PWD/sent --cut-after $third -- $SSH" \
	$T ct p2v c1 --from "$FROM" --mount /home 2>&1)
expect_match "the link cut at a third: the transfer says so" \
	'did not complete .*run the same command again' "$out"

RSYNC_RSH="$RELAY --count $PWD/sent --hold-after $third --held $PWD/held -- $SSH" \
	$T ct p2v c1 --from "$FROM" --mount /home >"$PWD/second.out" 2>&1 &
tpid=$!
t_until "the second transfer to pass another third" test -e "$PWD/held" || exit 1
for p in $(pgrep -x rsync); do
	grep -q -- --server "/proc/$p/cmdline" 2>/dev/null || kill -9 "$p" 2>/dev/null
done
wait "$tpid"
expect_match "rsync killed -9 at two thirds: the transfer says so" \
	'killed by signal 9' "$(cat "$PWD/second.out")"

out=$(RSYNC_RSH="$RELAY --count $PWD/sent -- $SSH" \
	$T ct p2v c1 --from "$FROM" --mount /home --final --template os@1 2>&1)
expect_match "the same command with --final resumes and makes the container" \
	'^c1: a container now, from root@127.0.0.1:' "$out"
echo "$out" | sed 's/^/  | /'
sent=$(awk '{s += $1} END {print s}' "$PWD/sent")
echo "  bytes over ssh: one whole transfer $whole; cut, killed and resumed: $(paste -sd+ "$PWD/sent") = $sent"
expect_eq "three runs ($(wc -l <"$PWD/sent") passes) sent about one transfer's bytes, not three (<= 1.2x)" yes \
	"$(awk -v s="$sent" -v w="$whole" 'BEGIN {print (s <= w * 1.2) ? "yes" : "no"}')"
expect_match "the configuration to check is reported" '/etc/fstab: UUID=2222 on /home \(ext4\): joined' "$out"

# --- the container equals the server -----------------------------------------
holes_lost() { # holes_lost SERVER AREA: files with holes there, not here
	/usr/bin/python3 - "$1" "$2" <<'EOF'
import os, sys
srv, area = sys.argv[1], sys.argv[2]
for top, dirs, files in os.walk(srv):
    for n in files:
        p = os.path.join(top, n)
        rel = os.path.relpath(p, srv)
        q = os.path.join(area, rel)
        s = os.lstat(p)
        if not os.path.isfile(p) or os.path.islink(p) or s.st_blocks * 512 >= s.st_size:
            continue
        if not os.path.lexists(q) or rel.split("/")[0] in ("tmp", "run", "proc", "sys", "dev"):
            continue
        try:
            os.getxattr(q, "trusted.tplfs.origin", follow_symlinks=False)
            continue                    # a stub: the object's
        except OSError:
            pass
        t = os.lstat(q)
        if t.st_blocks * 512 >= t.st_size:
            print(rel)
EOF
}

check_container() { # check_container CT
	local ct=$1 M=$R/root/$1 P=$R/private/$1/fs
	$T ct mount "$ct" >/dev/null || { fail "ct mount $ct"; return 1; }
	expect_match "$ct, mounted, equals the server but for what is left out (contents, modes, owners, ACLs, xattrs, times, devices, hard links)" \
		'^trees equal' "$($TREECMP --meta "${SKIP[@]}" "$SRV" "$M" 2>&1 | tail -1)"
	# a stub shows the blocks of a whole file (doc/kernel-module.md): the
	# holes are the private files'
	expect_eq "$ct: every private file with holes on the server has them" "" \
		"$(holes_lost "$SRV" "$P")"
	expect_eq "$ct: volatile paths left out" "0 0 0" \
		"$(ls -A "$M/tmp" | wc -l) $(ls -A "$M/run" | wc -l) $(ls "$M/swapfile" 2>/dev/null | wc -l)"
	expect_eq "$ct: the forged origin is not there" "" \
		"$(getfattr -n trusted.tplfs.origin --only-values "$P/srv/data/forged" 2>/dev/null)"
	expect_eq "$ct: it reads as the server's private file" "a private file of the server" \
		"$(cat "$M/srv/data/forged")"
	expect_eq "$ct: getcap in the container shows the server's" \
		"$(cd "$SRV" && getcap usr/local/bin/capped)" "$(cd "$M" && getcap usr/local/bin/capped)"
	expect_eq "$ct: getfacl in the container shows the server's" \
		"$(cd "$SRV" && getfacl -n srv/data/acl home/alice/notes 2>&1)" \
		"$(cd "$M" && getfacl -n srv/data/acl home/alice/notes 2>&1)"
	expect_eq "$ct: the sparse file keeps its holes ($SPARSE_MB MiB, in the private area)" yes \
		"$([ "$(stat -c %b "$P/srv/data/sparse")" -lt 4096 ] && echo yes)"
	expect_eq "$ct: a template file the server did not change is a stub" stub \
		"$(t_is_stub "$P/$(cd "$SRV" && ls bin/busybox usr/bin/dpkg 2>/dev/null | head -1)")"
	expect_eq "$ct: what the server changed is its own" private "$(t_is_stub "$P/etc/motd")"
	if [ -x "$SRV/usr/bin/dpkg" ]; then
		expect_eq "$ct: dpkg --verify says what it says on the server" \
			"$(chroot "$SRV" dpkg --verify 2>&1)" "$(chroot "$M" dpkg --verify 2>&1)"
	fi
}
check_container c1

# the figures: what the server used, what the container's private area holds
srv_bytes=$(($(du -sx --block-size=1 "$SRV" | cut -f1) + $(du -sx --block-size=1 "$SRV/home" | cut -f1)))
priv_bytes=$(du -sx --block-size=1 "$R/private/c1/fs" | cut -f1)
echo "  the server used $srv_bytes bytes on / and /home; c1's private area holds $priv_bytes"
expect_eq "the private area holds less than the server (the template's files are stubs)" yes \
	"$([ "$priv_bytes" -lt "$srv_bytes" ] && echo yes)"

# the one quota, over / and /home together
used() { $T --json ct quota c1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["bytes"]["used"])'; }
$T ct quota c1 --set "$(($(used) / 1048576 + 16))M" >/dev/null || fail "ct quota --set"
expect_ok "10 MiB in /home fits" fallocate -l 10M "$R/root/c1/home/alice/big"
out=$(fallocate -l 10M "$R/root/c1/srv/big" 2>&1)
expect_match "10 MiB more in / does not: one quota for the whole" 'quota exceeded' "$out"
rm -f "$R/root/c1/home/alice/big" "$R/root/c1/srv/big"
$T ct umount c1 >/dev/null || fail "ct umount c1"

# --- the same server as a local directory --------------------------------------
out=$($T ct p2v c2 --from "$SRV" --mount /home --final --template os@1 2>&1)
expect_match "from a local directory, in one go" '^c2: a container now' "$out"
check_container c2
$T ct umount c2 >/dev/null || fail "ct umount c2"
exit "$t_failures"
