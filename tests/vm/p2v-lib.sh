# shellcheck shell=bash
# The "physical server" of the p2v tests (tests/vm/t/p2v.sh, the reboot
# stage of tests/vm/crash/run), sourced after lib.sh. Its root and /home
# are loop-mounted ext4 images in DIR; sshd serves it on 127.0.0.1:2222
# from the host's binaries.
#   p2v_server_make DIR TEMPLATE SPARSE_MB: the images made and mounted,
#       the template extracted, the server's own changes made; SRV is
#       DIR/server
#   p2v_server_mount DIR: the images mounted again (after a reboot)
#   p2v_sshd DIR: sshd started (keys in DIR/ssh, kept across boots); SSH is
#       the client command, FROM the source for ct p2v
#   p2v_cleanup DIR: sshd stopped, the server unmounted

P2V_RELAY="/usr/bin/python3 $TPLFS_TOP/tests/vm/tools/cut_relay.py"

# p2v_crash_places: the places of the reboot test's two boots: D (on the
# kept scratch disk), R (tplfsd's root), SOCK, T (tplctl on it), RELAY
p2v_crash_places() {
	D=$TPLFS_SCRATCH/p2v
	R=$D/tplfs
	SOCK=/run/tplfsd-p2v.sock
	T="$TPLFS_BIN/tplctl --socket $SOCK"
	RELAY=$P2V_RELAY
}

P2V_SKIP=(--skip='proc/*' --skip='sys/*' --skip='dev/*' --skip='run/*'
	--skip='tmp/*' --skip='var/run/*' --skip='var/lock/*' --skip=swapfile
	--skip='dev' --skip='run' --skip='var/run' --skip='var/lock')

p2v_server_mount() {
	SRV=$1/server
	mkdir -p "$SRV"
	mount -o loop "$1/root.img" "$SRV" && mkdir -p "$SRV/home" &&
		mount -o loop "$1/home.img" "$SRV/home"
}

p2v_cleanup() {
	[ -s "$1/ssh/sshd.pid" ] && kill "$(cat "$1/ssh/sshd.pid")" 2>/dev/null
	umount "$1/server/home" "$1/server" 2>/dev/null
}

p2v_server_make() {
	local dir=$1 tpl=$2 sparse_mb=$3
	SRV=$dir/server
	truncate -s 3G "$dir/root.img" && truncate -s 128M "$dir/home.img" &&
		mkfs.ext4 -q -F "$dir/root.img" && mkfs.ext4 -q -F "$dir/home.img" ||
		{ fail "the server's filesystems"; return 1; }
	mkdir -p "$SRV"
	mount -o loop "$dir/root.img" "$SRV" || { fail "the server's root filesystem"; return 1; }
	rmdir "$SRV/lost+found"
	tar -x -I zstd --xattrs --xattrs-include='*' --acls --numeric-owner -f "$tpl" -C "$SRV" ||
		{ fail "the template extracted as the server's tree"; return 1; }
	mkdir -p "$SRV/home"
	mount -o loop "$dir/home.img" "$SRV/home" && rmdir "$SRV/home/lost+found" ||
		{ fail "the server's /home filesystem"; return 1; }
	mkdir -p "$SRV/srv/data" "$SRV/home/alice" "$SRV/usr/local/bin" "$SRV/etc" \
		"$SRV/tmp" "$SRV/run" "$SRV/proc" "$SRV/sys" "$SRV/dev"
	echo "the server's own motd" >"$SRV/etc/motd"
	printf 'UUID=1111 / ext4 errors=remount-ro 0 1\nUUID=2222 /home ext4 defaults 0 2\n/swapfile none swap sw 0 0\n' \
		>"$SRV/etc/fstab"
	cp "$SRV/bin/busybox" "$SRV/usr/local/bin/capped" 2>/dev/null ||
		cp "$SRV/usr/bin/ls" "$SRV/usr/local/bin/capped"
	setcap cap_net_bind_service+ep "$SRV/usr/local/bin/capped"
	echo "shared with two names" >"$SRV/srv/data/h1"
	ln "$SRV/srv/data/h1" "$SRV/srv/data/h2"
	echo "read by 1234 too" >"$SRV/srv/data/acl"
	setfacl -m u:1234:rw,g:4321:r "$SRV/srv/data/acl"
	setfattr -n user.origin -v "the server" "$SRV/srv/data/acl"
	truncate -s "${sparse_mb}M" "$SRV/srv/data/sparse"
	echo "in the middle" | dd of="$SRV/srv/data/sparse" bs=1M seek=$((sparse_mb / 2)) conv=notrunc 2>/dev/null
	mkfifo "$SRV/srv/data/fifo"
	mknod "$SRV/srv/data/disk" b 7 9
	echo "a private file of the server" >"$SRV/srv/data/forged"
	setfattr -n trusted.tplfs.origin -v 0x0102030405060708 "$SRV/srv/data/forged"
	echo "alice's" >"$SRV/home/alice/notes"
	chown -R 1000:1000 "$SRV/home/alice"
	setfacl -m u:1001:r "$SRV/home/alice/notes"
	head -c 3000000 /dev/urandom >"$SRV/home/alice/random"
	echo gone >"$SRV/tmp/junk"; echo gone >"$SRV/run/junk"; echo gone >"$SRV/swapfile"
	echo "  the server: $(cd "$SRV" && find . -xdev | wc -l) entries on /, $(du -sh --apparent-size "$SRV" | cut -f1) (apparent), $(du -sxh "$SRV" | cut -f1) on disk, /home $(du -sh "$SRV/home" | cut -f1)"
}

p2v_sshd() {
	local dir=$1
	mkdir -p "$dir/ssh" /run/sshd
	ip link set lo up
	[ -s "$dir/ssh/host" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/ssh/host"
	[ -s "$dir/ssh/id" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/ssh/id"
	cat >"$dir/ssh/sshd_config" <<EOF
Port 2222
ListenAddress 127.0.0.1
HostKey $dir/ssh/host
AuthorizedKeysFile $dir/ssh/id.pub
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PidFile $dir/ssh/sshd.pid
EOF
	/usr/sbin/sshd -f "$dir/ssh/sshd_config" -E "$dir/ssh/sshd.log" || { fail "sshd"; return 1; }
	SSH="ssh -p 2222 -i $dir/ssh/id -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR"
	t_until "sshd answers" $SSH -n root@127.0.0.1 true || return 1
	FROM=root@127.0.0.1:$dir/server
}
