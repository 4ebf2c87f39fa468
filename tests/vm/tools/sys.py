#!/usr/bin/env python3
"""System calls that shell tools do not expose precisely, for tests/vm.

Each command prints one result line; errors are printed as the errno name
(for example EINVAL), so that tests can compare them.

  sys.py mount SOURCE TARGET FSTYPE OPTIONS   mount(2); prints OK or ERRNO
  sys.py fsmount FSTYPE KEY[=VALUE]...        fsopen/fsconfig/create; prints
                                              OK, or ERRNO then the messages
                                              of the mount API's log channel
  sys.py attach-later TARGET GATE FSTYPE KEY[=VALUE]...
                                              fsopen/fsconfig/create (the
                                              superblock exists), print
                                              CREATED, wait until the file
                                              GATE exists, then fsmount and
                                              move_mount onto TARGET; OK
  sys.py scandir DIR                          name d_type d_ino, one a line
  sys.py statfs PATH                          f_type in hex
"""
import ctypes
import errno
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)

SYS_fsopen = 430
SYS_fsconfig = 431
FSCONFIG_SET_FLAG = 0
FSCONFIG_SET_STRING = 1
FSCONFIG_CMD_CREATE = 6
SYS_move_mount = 429
SYS_fsmount = 432
MOVE_MOUNT_F_EMPTY_PATH = 0x4
AT_FDCWD = -100


def err_name(e):
    return errno.errorcode.get(e, str(e))


def cmd_mount(source, target, fstype, options):
    r = libc.mount(source.encode(), target.encode(), fstype.encode(), 0,
                   options.encode())
    print("OK" if r == 0 else err_name(ctypes.get_errno()))


def read_log(fd):
    msgs = []
    while True:
        try:
            m = os.read(fd, 4096)
        except OSError:
            break
        if not m:
            break
        msgs.append(m.decode(errors="replace"))
    return msgs


def cmd_fsmount(fstype, *params):
    fd = libc.syscall(SYS_fsopen, fstype.encode(), 0)
    if fd < 0:
        print(err_name(ctypes.get_errno()))
        return
    try:
        for p in params:
            key, eq, value = p.partition("=")
            if eq:
                r = libc.syscall(SYS_fsconfig, fd, FSCONFIG_SET_STRING,
                                 key.encode(), value.encode(), 0)
            else:
                r = libc.syscall(SYS_fsconfig, fd, FSCONFIG_SET_FLAG,
                                 key.encode(), None, 0)
            if r < 0:
                print(err_name(ctypes.get_errno()))
                for m in read_log(fd):
                    print(m)
                return
        r = libc.syscall(SYS_fsconfig, fd, FSCONFIG_CMD_CREATE, None, None,
                         0)
        print("OK" if r == 0 else err_name(ctypes.get_errno()))
        for m in read_log(fd):
            print(m)
    finally:
        os.close(fd)


def cmd_attach_later(target, gate, fstype, *params):
    import time
    fd = libc.syscall(SYS_fsopen, fstype.encode(), 0)
    for p in params:
        key, _, value = p.partition("=")
        if libc.syscall(SYS_fsconfig, fd, FSCONFIG_SET_STRING, key.encode(),
                        value.encode(), 0) < 0:
            print(err_name(ctypes.get_errno()))
            return
    if libc.syscall(SYS_fsconfig, fd, FSCONFIG_CMD_CREATE, None, None, 0):
        print(err_name(ctypes.get_errno()))
        return
    print("CREATED", flush=True)
    while not os.path.exists(gate):     # the test opens it: no deadline
        time.sleep(0.05)
    mfd = libc.syscall(SYS_fsmount, fd, 0, 0)
    if mfd < 0 or libc.syscall(SYS_move_mount, mfd, b"", AT_FDCWD,
                               target.encode(), MOVE_MOUNT_F_EMPTY_PATH):
        print(err_name(ctypes.get_errno()))
        return
    print("OK", flush=True)


def dtype_name(entry):
    if entry.is_symlink():
        return "l"
    if entry.is_dir(follow_symlinks=False):
        return "d"
    if entry.is_file(follow_symlinks=False):
        return "f"
    return "o"


def cmd_scandir(path):
    # os.scandir takes is_dir/is_file/is_symlink and inode() from the
    # dirent (d_type, d_ino) without calling stat.
    for e in sorted(os.scandir(path), key=lambda e: e.name):
        print(e.name, dtype_name(e), e.inode())


def cmd_statfs(path):
    class StatFS(ctypes.Structure):
        _fields_ = [("f_type", ctypes.c_long), ("rest", ctypes.c_byte * 256)]
    buf = StatFS()
    r = libc.statfs(path.encode(), ctypes.byref(buf))
    print(hex(buf.f_type & 0xffffffff) if r == 0
          else err_name(ctypes.get_errno()))


def main(argv):
    cmds = {"mount": cmd_mount, "fsmount": cmd_fsmount,
            "attach-later": cmd_attach_later,
            "scandir": cmd_scandir, "statfs": cmd_statfs}
    if len(argv) < 2 or argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    cmds[argv[1]](*argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
