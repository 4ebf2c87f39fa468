#!/bin/bash
# Container runtimes on tplfs roots, and containers of shifted ids in user
# namespaces (issue 22; doc/runtimes.md, doc/userns.md), on the busybox
# template:
# - crun runs /bin/sh -c in an OCI bundle whose root.path is a tplfs root:
#   its write copies a stub up, the template is untouched, a write past the
#   container's quota fails with EDQUOT; in a user namespace over a
#   container of shifted ids (ct create --userns) it is root inside and
#   what it makes belongs to the shifted root on the host;
# - systemd-nspawn --pipe runs commands in one, with copy-on-write and
#   quota; -U on a container of shifted ids picks that container's range;
# - root of a user namespace (userns.py) in a container of shifted ids:
#   writes its own files (copy-up keeps the shifted owner, a new file is
#   the shifted root's), its users are held to their permissions, its
#   quota holds; and it can never read another container's private files,
#   write the files of a container of the host's ids, forge or remove an
#   origin, see trusted.tplfs.*, or write to the store;
# - an idmapped mount of a tplfs root (FS_ALLOW_IDMAP): owners and ACL ids
#   shown mapped, chown and setfacl through it stored as the filesystem's
#   ids, a namespace's root writing root's files through it, a caller
#   whose id it does not map refused; nspawn
#   --private-users-ownership=map over a container of the host's ids.
. "$TPLFS_TOP/tests/vm/lib.sh"

t_daemon_places
USERNS="python3 $TPLFS_TOP/tests/vm/tools/userns.py"
BUNDLE="python3 $TPLFS_TOP/tests/vm/tools/oci_bundle.py"
B1=524288
B2=589824
N=65536
M=$((1024 * 1024))

t_tplfsd "$R" "$PWD/store" "$SOCK" "$LOG"
trap 'rc=$?; t_stop_tplfsd; (exit $rc); t_finish' EXIT
$T template import os@1 --from "$TPL" >/dev/null || { fail "template import"; exit 1; }
for c in "plain --quota 8M" "u1 --userns $B1:$N --quota 8M" "u2 --userns $B2:$N"; do
	set -- $c
	$T ct create "$@" --template os@1 >/dev/null && $T ct mount "$1" >/dev/null ||
		{ fail "ct create and mount $1"; exit 1; }
done
P=$R/private
hello=$(cat "$R/root/plain/usr/bin/hello")

t_cgroup2

# --- crun ---
$BUNDLE "$PWD/b-plain" "$R/root/plain" -- /bin/sh -c \
	'echo from-crun >>/usr/bin/hello && tail -1 /usr/bin/hello && hostname' >/dev/null
out=$(t_cgrun "crun-$BASHPID" crun run --bundle "$PWD/b-plain" oci-plain 2>&1)
expect_eq "crun runs /bin/sh -c in a bundle on a tplfs root" "from-crun
oci" "$out"
expect_eq "...its write copied the stub up" private "$(t_is_stub "$P/plain/fs/usr/bin/hello")"
expect_eq "...and another container still shows the template's" "$hello" \
	"$(cat "$R/root/u2/usr/bin/hello")"
$BUNDLE "$PWD/b-plain" "$R/root/plain" -- /bin/sh -c \
	'dd if=/dev/zero of=/big bs=1M count=16 2>&1; echo "dd exit $?"' >/dev/null
out=$(t_cgrun "crun-$BASHPID" crun run --bundle "$PWD/b-plain" oci-quota 2>&1)
expect_match "a write past the quota in crun fails with EDQUOT" \
	"Disk quota exceeded" "$out"
expect_match "...and dd says so by its status" "dd exit 1" "$out"
rm -f "$R/root/plain/big"

$BUNDLE "$PWD/b-u1" "$R/root/u1" $B1 $N -- /bin/sh -c \
	'id -u; cat /proc/self/uid_map; echo new >/made-by-oci; echo more >>/usr/bin/hello' >/dev/null
out=$(t_cgrun "crun-$BASHPID" crun run --bundle "$PWD/b-u1" oci-u1 2>&1)
expect_match "crun in a user namespace over a container of shifted ids: root inside" \
	"^0
 *0 +$B1 +$N" "$out"
expect_eq "...what it made is the shifted root's on the host" "$B1:$B1" \
	"$(stat -c %u:%g "$P/u1/fs/made-by-oci")"
expect_eq "...what it copied up keeps the shifted owner" "$B1:$B1 private" \
	"$(stat -c %u:%g "$P/u1/fs/usr/bin/hello") $(t_is_stub "$P/u1/fs/usr/bin/hello")"

# --- systemd-nspawn ---
# --keep-unit --register=no: no bus (the guest's init is not systemd)
nspawn() {
	t_cgrun "nspawn-$BASHPID" systemd-nspawn --quiet --keep-unit --register=no \
		--resolv-conf=off --timezone=off --link-journal=no --pipe "$@"
}
out=$(nspawn -D "$R/root/plain" /bin/sh -c \
	'. /etc/os-release; echo "$NAME"; echo from-nspawn >>/etc/hosts; tail -1 /etc/hosts' 2>&1)
expect_eq "systemd-nspawn --pipe runs commands in a tplfs root" "tplfs test template
from-nspawn" "$out"
out=$(nspawn -D "$R/root/plain" /bin/sh -c \
	'dd if=/dev/zero of=/big bs=1M count=16 2>&1; echo "dd exit $?"' 2>&1)
expect_match "a write past the quota in nspawn fails with EDQUOT" \
	"Disk quota exceeded" "$out"
rm -f "$R/root/plain/big"
before=$(cd "$P/u1/fs" && find . -xdev -printf '%U:%G %m %p\n' | sort)
out=$(nspawn -U -D "$R/root/u1" /bin/sh -c 'id -u; cat /proc/self/uid_map' 2>&1)
expect_match "nspawn -U on a container of shifted ids picks its range" \
	"^0
 *0 +$B1 +$N" "$out"
after=$(cd "$P/u1/fs" && find . -xdev -printf '%U:%G %m %p\n' | sort)
expect_eq "...and chowns nothing of it" "" \
	"$(comm -23 <(echo "$before") <(echo "$after"))"

# --- root of a user namespace, in the container of shifted ids u1 ---
in_u1() { $USERNS $B1 $N "$@"; }
in_u2() { $USERNS $B2 $N "$@"; }
expect_ok "root of u2's namespace keeps a secret in u2" \
	in_u2 sh -c "umask 077 && echo secret >'$R/root/u2/root/secret'"
expect_eq "...owned by u2's root on the host" "$B2 600" \
	"$(stat -c '%u %a' "$P/u2/fs/root/secret")"
err=$(in_u1 cat "$R/root/u2/root/secret" 2>&1)
expect_match "u1's root cannot read u2's private file" "Permission denied" "$err"
err=$(in_u1 cat "$P/u2/fs/root/secret" 2>&1)
expect_match "...nor through u2's private area" "Permission denied" "$err"
err=$(in_u1 sh -c "echo x >>'$R/root/plain/etc/hostname'" 2>&1)
expect_match "u1's root cannot write a file of a container of the host's ids" \
	"Permission denied" "$err"
obj=$(find "$PWD/store/objects" -type f | head -1)
err=$(in_u1 sh -c "echo x >>'$obj'" 2>&1)
expect_match "...nor an object of the store" "Permission denied" "$err"
err=$(in_u1 touch "$PWD/store/objects/forged" 2>&1)
expect_match "...nor add one" "Permission denied" "$err"
origin=$(getfattr --absolute-names -e hex -n trusted.tplfs.origin \
	"$P/u1/fs/etc/os-release" 2>/dev/null | sed -n 's/^trusted.tplfs.origin=//p')
[ -n "$origin" ] || fail "no origin to forge with"
err=$(in_u1 setfattr -n trusted.tplfs.origin -v "$origin" "$R/root/u1/etc/passwd" 2>&1)
expect_match "u1's root cannot forge an origin" "Operation not permitted" "$err"
in_u1 setfattr -x trusted.tplfs.origin "$R/root/u1/etc/os-release" 2>/dev/null
expect_eq "...nor remove one" stub "$(t_is_stub "$P/u1/fs/etc/os-release")"
expect_eq "...nor see one" "" \
	"$(in_u1 getfattr -d -m - "$R/root/u1/etc/os-release" 2>/dev/null | grep trusted)"
expect_ok "u1's root appends to a template file of its own" \
	in_u1 sh -c "echo mine >>'$R/root/u1/etc/os-release'"
expect_eq "...copied up, the shifted root's still" "$B1:$B1 private" \
	"$(stat -c %u:%g "$P/u1/fs/etc/os-release") $(t_is_stub "$P/u1/fs/etc/os-release")"
expect_ok "its user 1000 writes its own file" in_u1 setpriv --reuid 1000 \
	--regid 1000 --clear-groups sh -c "echo note >>'$R/root/u1/home/user/notes'"
err=$(in_u1 setpriv --reuid 1000 --regid 1000 --clear-groups \
	sh -c "echo x >>'$R/root/u1/etc/passwd'" 2>&1)
expect_match "...and is refused root's" "Permission denied" "$err"
err=$(in_u1 dd if=/dev/zero of="$R/root/u1/big" bs=1M count=16 2>&1)
expect_match "u1's quota holds for its namespace's root" "Disk quota exceeded" "$err"
rm -f "$R/root/u1/big"

# --- an idmapped mount of the root of a container of the host's ids ---
B3=655360
idm=$PWD/idm
mkdir -p "$idm"
expect_ok "a tplfs root can be idmapped (mount_setattr MOUNT_ATTR_IDMAP)" \
	python3 "$TPLFS_TOP/tests/vm/tools/idmap_mount.py" "$R/root/plain" "$idm" $B3 $N
expect_eq "...it shows the filesystem's owners mapped" "$B3 $((B3 + 1000)):$((B3 + 1000))" \
	"$(stat -c %u "$idm/etc/passwd") $(stat -c %u:%g "$idm/home/user/notes")"
expect_match "...and the ids of ACLs" "^user:$((B3 + 1000)):r--" \
	"$(getfacl -n "$idm/etc/hosts" 2>/dev/null)"
expect_ok "chown through it" chown $((B3 + 1000)):$((B3 + 1000)) "$idm/etc/hostname"
expect_eq "...gives the filesystem's ids in the private area" "1000:1000" \
	"$(stat -c %u:%g "$P/plain/fs/etc/hostname")"
expect_ok "setfacl through it" setfacl -m u:$((B3 + 33)):rw "$idm/etc/hostname"
expect_match "...stores the filesystem's id" "^user:33:rw-" \
	"$(getfacl -n "$P/plain/fs/etc/hostname" 2>/dev/null)"
expect_ok "root of a namespace mapped to $B3 writes root's files through it" \
	$USERNS $B3 $N sh -c "echo idm >>'$idm/usr/bin/hello' && echo new >'$idm/made-idm'"
expect_eq "...copied up and made as the filesystem's root" "0:0 private 0:0" \
	"$(stat -c %u:%g "$P/plain/fs/usr/bin/hello") $(t_is_stub "$P/plain/fs/usr/bin/hello") $(stat -c %u:%g "$P/plain/fs/made-idm")"
err=$(setpriv --reuid 1000 --regid 1000 --clear-groups touch "$idm/etc/x" 2>&1)
expect_match "a host user whose id the mount does not map cannot create in it" \
	"Value too large|Permission denied" "$err"
umount "$idm" || fail "umount $idm"
out=$(nspawn --private-users=$B3:$N --private-users-ownership=map -D "$R/root/plain" \
	/bin/sh -c 'id -u; stat -c %u /etc/passwd; echo m >/made-by-nspawn-map' 2>&1)
expect_eq "nspawn --private-users-ownership=map over a container of the host's ids" \
	"0
0" "$out"
expect_eq "...what it made is the filesystem's root's" "0:0" \
	"$(stat -c %u:%g "$P/plain/fs/made-by-nspawn-map")"
expect_eq "...and it chowned nothing" "0:0" "$(stat -c %u:%g "$P/plain/fs/etc/passwd")"
# -U alone (pick, ownership auto) over a container of the host's ids: what
# nspawn chooses, map or chown, is reported (doc/runtimes.md), the tree
# must come out whole either way
out=$(nspawn -U -D "$R/root/plain" /bin/sh -c 'id -u; stat -c %u /etc/passwd' 2>&1)
expect_eq "nspawn -U over a container of the host's ids runs as root of its tree" "0
0" "$out"
case "$(stat -c %u "$P/plain/fs/etc/passwd")" in
0) ok "...nspawn chose an idmapped mount: no owner rewritten" ;;
*) ok "...nspawn chowned the tree: owners rewritten to $(stat -c %u "$P/plain/fs/etc/passwd")" ;;
esac

for c in plain u1 u2; do
	$T ct umount "$c" >/dev/null || fail "ct umount $c"
done
