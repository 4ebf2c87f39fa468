#!/bin/bash
# bench/update.sh: "sharing after an update", inside one test guest
# (bench/run boots it after bench/guest.sh). A real Debian update (the
# packages of scripts/debian-update-debs.sh, installed by apt-get upgrade
# from a local repository: tests/vm/tools/apt-local.sh) reaches NCT containers of the
# Debian 12 template, four ways:
#
#   tplfs rebase                the update made once in a maintenance
#                               container, published, every container
#                               rebased onto it (its changes kept)
#   tplfs, update in each       apt-get upgrade in every container
#   overlayfs recreated         the update made once into a new lower;
#                               every container recreated on it with an
#                               empty upper (its changes lost)
#   overlayfs, update in each   apt-get upgrade in every container
#
# For each: the time per container, the disk each container holds
# afterwards, and the page cache NCT containers fill reading every file of
# the updated packages (drop_caches first). Prints a Markdown table between
# UPDATE-MD-BEGIN and UPDATE-MD-END; bench/run keeps it as
# bench/results/update-<kernel>.md. Nothing here tests speed: it fails only
# if a step cannot run.
set -u
. "$TPLFS_TOP/tests/vm/lib.sh"

TPL=${TPLFS_BENCH_TEMPLATE:?the Debian 12 tarball}
UPD=${TPLFS_BENCH_UPDATE:?the update packages (scripts/debian-update-debs.sh)}
NCT=${TPLFS_BENCH_UPDATE_NCT:-8}
B=$TPLFS_SCRATCH/update
SOCK=$B/tplfsd.sock
T="$TPLFS_BIN/tplctl --socket $SOCK"
export LC_ALL=C

now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
step() { echo "bench: $*"; }
die() { echo "bench: FAIL: $*"; exit 1; }
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
cached_kib() { awk '/^Cached:/ {print $2}' /proc/meminfo; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# update ROOT: the update, with apt from a local repository, in the tree
update() {
	mkdir -p "$1/tmp/repo" &&
		cp "$UPD"/upgrade/*.deb "$UPD/upgrade/Packages" \
			"$TPLFS_TOP/tests/vm/tools/apt-local.sh" "$1/tmp/repo/" || return 1
	chroot "$1" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
		LC_ALL=C sh /tmp/repo/apt-local.sh upgrade >>"$B/apt.log" 2>&1
	local rc=$?
	rm -rf "$1/tmp/repo"
	return $rc
}
# read_updated ROOT: read every file of the updated packages in ROOT
read_updated() {
	sed "s|^|$1|" "$B/files" | xargs -d '\n' cat >/dev/null
}
# cache_of ROOT...: the page cache (KiB) the roots fill reading the update
cache_of() {
	local r before
	drop_caches
	before=$(cached_kib)
	for r in "$@"; do read_updated "$r"; done
	echo $(($(cached_kib) - before))
}
disk_of() { du -sxk "$@" | awk '{ s += $1 } END { print s }'; }
ovl_mount() { # ovl_mount DIR LOWER
	mkdir -p "$1"/{u,w,m}
	mount -t overlay overlay -o "lowerdir=$2,upperdir=$1/u,workdir=$1/w" "$1/m"
}

compgen -G "$UPD/upgrade/*.deb" >/dev/null || die "no packages in $UPD/upgrade"
rm -rf "$B"
mkdir -p "$B"/{lower1,lower2,ovl,ovlr}
step "update: $(cd "$UPD"/upgrade && ls *.deb | sed 's/_.*//' | tr '\n' ' ')"
tar --xattrs --xattrs-include='*' --acls --numeric-owner -xpf "$TPL" -C "$B/lower1" ||
	die "cannot extract $TPL"
# the files of the updated packages, as the update leaves them
cp -a "$B/lower1/." "$B/lower2/"
update "$B/lower2" || die "the update in a copy of the tree ($B/apt.log)"
for p in $(cd "$UPD"/upgrade && ls *.deb | sed 's/_.*//'); do
	chroot "$B/lower2" dpkg -L "$p"
done | sort -u | while read -r f; do
	[ -f "$B/lower2$f" ] && [ ! -L "$B/lower2$f" ] && echo "$f"
done >"$B/files"
step "$(wc -l <"$B/files") files, $(sed "s|^|$B/lower2|" "$B/files" | xargs -d '\n' stat -c %s | awk '{ s += $1 } END { printf "%.1f", s / 1048576 }') MiB in the updated packages"

"$TPLFS_BIN/tplfsd" --foreground --config /dev/null --root "$B/tplfs" \
	--store "$B/store" --socket "$SOCK" >"$B/tplfsd.log" 2>&1 &
dpid=$!
cleanup() {
	local rc=$?
	kill $dpid 2>/dev/null
	wait 2>/dev/null
	t_umount_under "$B"
	(exit $rc)
	t_finish
}
trap cleanup EXIT
t_wait_ready "$B/tplfsd.log" "$dpid" || die "tplfsd did not start"
$T template import os@1 --from "$B/lower1" >/dev/null 2>&1 || die "template import"

declare -A TIME DISK CACHE
# --- tplfs rebase ---------------------------------------------------------
step "tplfs: $NCT containers, the update once, then rebased"
for i in $(seq "$NCT"); do
	$T ct create "r$i" --template os@1 >/dev/null 2>&1 && $T ct mount "r$i" >/dev/null ||
		die "ct create r$i"
done
$T template maintain os@1 >/dev/null && $T ct mount os-maint >/dev/null || die "maintain"
update "$B/tplfs/root/os-maint" || die "the update in the maintenance container"
$T ct umount os-maint >/dev/null && $T template publish os@2 --from-ct os-maint >/dev/null ||
	die "publish"
for i in $(seq "$NCT"); do
	t0=$(now)
	$T ct rebase "r$i" --to os@2 >/dev/null || die "ct rebase r$i"
	secs "$t0" "$(now)"
	echo
done | median >"$B/t"
TIME[tplfs rebase]=$(cat "$B/t")
DISK[tplfs rebase]=$(($(disk_of "$B"/tplfs/private/r*/fs) / NCT))
CACHE[tplfs rebase]=$(cache_of "$B"/tplfs/root/r*)

# --- tplfs, update in each ----------------------------------------------------
step "tplfs: $NCT containers, the update in each"
for i in $(seq "$NCT"); do
	$T ct create "u$i" --template os@1 >/dev/null 2>&1 && $T ct mount "u$i" >/dev/null ||
		die "ct create u$i"
	t0=$(now)
	update "$B/tplfs/root/u$i" || die "the update in u$i"
	sync
	secs "$t0" "$(now)"
	echo
done | median >"$B/t"
TIME[tplfs, update in each]=$(cat "$B/t")
DISK[tplfs, update in each]=$(($(disk_of "$B"/tplfs/private/u*/fs) / NCT))
CACHE[tplfs, update in each]=$(cache_of "$B"/tplfs/root/u*)
for i in $(seq "$NCT"); do $T ct umount "u$i" >/dev/null; done

# --- overlayfs recreated on the updated lower -----------------------------------
step "overlayfs: $NCT containers recreated on the updated lower"
for i in $(seq "$NCT"); do
	ovl_mount "$B/ovlr/c$i" "$B/lower1" || die "overlayfs c$i"
	t0=$(now)
	umount "$B/ovlr/c$i/m" && rm -rf "$B/ovlr/c$i" && ovl_mount "$B/ovlr/c$i" "$B/lower2" ||
		die "overlayfs recreate c$i"
	sync
	secs "$t0" "$(now)"
	echo
done | median >"$B/t"
TIME[overlayfs recreated]=$(cat "$B/t")
DISK[overlayfs recreated]=$(($(disk_of "$B"/ovlr/c*/u "$B"/ovlr/c*/w) / NCT))
CACHE[overlayfs recreated]=$(cache_of "$B"/ovlr/c*/m)

# --- overlayfs, update in each ------------------------------------------------
step "overlayfs: $NCT containers, the update in each"
for i in $(seq "$NCT"); do
	ovl_mount "$B/ovl/c$i" "$B/lower1" || die "overlayfs c$i"
	t0=$(now)
	update "$B/ovl/c$i/m" || die "the update in overlayfs c$i"
	sync
	secs "$t0" "$(now)"
	echo
done | median >"$B/t"
TIME[overlayfs, update in each]=$(cat "$B/t")
DISK[overlayfs, update in each]=$(($(disk_of "$B"/ovl/c*/u "$B"/ovl/c*/w) / NCT))
CACHE[overlayfs, update in each]=$(cache_of "$B"/ovl/c*/m)

# --- the table ----------------------------------------------------------------------
echo UPDATE-MD-BEGIN
echo "Sharing after an update (\`bench/run\`, $(uname -r), $TPLFS_FS, TCG guest):"
echo "$(ls "$UPD"/upgrade/*.deb | wc -l) Debian 12 security updates ($(wc -l <"$B/files") files) reach $NCT containers of Debian 12 minbase."
echo "Page cache: what $NCT containers fill reading every file of the updated packages, cold."
echo
echo "| contender | containers keep their changes | seconds per container (median) | disk per container (KiB) | page cache, $NCT containers (KiB) | page cache ratio to tplfs rebase |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"
for c in "tplfs rebase" "tplfs, update in each" "overlayfs recreated" "overlayfs, update in each"; do
	case $c in "overlayfs recreated") keep=no ;; *) keep=yes ;; esac
	echo "| $c | $keep | ${TIME[$c]} | ${DISK[$c]} | ${CACHE[$c]} | $(awk -v a="${CACHE[$c]}" -v b="${CACHE[tplfs rebase]}" 'BEGIN { printf "%.2f×", (b > 0 ? a / b : 0) }') |"
done
echo UPDATE-MD-END
