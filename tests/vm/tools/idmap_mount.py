#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""idmap_mount.py SRC DST BASE COUNT: bind SRC on DST as an idmapped mount
whose ids 0..COUNT-1 of the filesystem show as BASE..BASE+COUNT-1 (what
`mount -o X-mount.idmap=b:0:BASE:COUNT` does in util-linux 2.39; Debian
12 has 2.38): open_tree(OPEN_TREE_CLONE), mount_setattr(MOUNT_ATTR_IDMAP)
with a user namespace made for it, move_mount. Exits 1 with the errno's
message when the kernel refuses (EINVAL: the filesystem cannot be
idmapped)."""
import ctypes
import os
import sys

SYS_OPEN_TREE = 428
SYS_MOVE_MOUNT = 429
SYS_MOUNT_SETATTR = 442
OPEN_TREE_CLONE = 1
OPEN_TREE_CLOEXEC = os.O_CLOEXEC
AT_FDCWD = -100
AT_EMPTY_PATH = 0x1000
MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOUNT_ATTR_IDMAP = 0x00100000
CLONE_NEWUSER = 0x10000000


class MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64),
                ("userns_fd", ctypes.c_uint64)]


def userns_fd(libc, base, count):
    """A user namespace mapping 0..count-1 to base.., held by a child."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        if libc.unshare(CLONE_NEWUSER) != 0:
            os._exit(1)
        os.write(w, b"u")
        os.close(w)
        os.pause()
        os._exit(0)
    os.close(w)
    if os.read(r, 1) != b"u":
        sys.exit("idmap_mount.py: unshare(CLONE_NEWUSER) failed")
    for f in ("uid_map", "gid_map"):
        with open("/proc/%d/%s" % (pid, f), "w") as m:
            m.write("0 %d %d\n" % (base, count))
    fd = os.open("/proc/%d/ns/user" % pid, os.O_RDONLY | os.O_CLOEXEC)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return fd


def check(ret, what, libc):
    if ret < 0:
        e = ctypes.get_errno()
        sys.stderr.write("idmap_mount.py: %s: %s\n" % (what, os.strerror(e)))
        sys.exit(1)
    return ret


def main():
    src, dst, base, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    tree = check(libc.syscall(SYS_OPEN_TREE, AT_FDCWD, src.encode(),
                              OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC),
                 "open_tree " + src, libc)
    attr = MountAttr(attr_set=MOUNT_ATTR_IDMAP,
                     userns_fd=userns_fd(libc, base, count))
    check(libc.syscall(SYS_MOUNT_SETATTR, tree, b"", AT_EMPTY_PATH,
                       ctypes.byref(attr), ctypes.sizeof(attr)),
          "mount_setattr(MOUNT_ATTR_IDMAP)", libc)
    check(libc.syscall(SYS_MOVE_MOUNT, tree, b"", AT_FDCWD, dst.encode(),
                       MOVE_MOUNT_F_EMPTY_PATH), "move_mount " + dst, libc)


if __name__ == "__main__":
    main()
