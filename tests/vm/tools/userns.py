#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""userns.py BASE COUNT COMMAND...: run COMMAND as root of a new user
namespace whose ids 0..COUNT-1 are the host's BASE..BASE+COUNT-1 (the
mapping a container of `ct create --userns BASE:COUNT` is run with). Its
mount namespace is a new one too, so that it may chroot. Run as the
host's root, which writes the maps (no newuidmap needed). Exits with
COMMAND's status."""
import ctypes
import os
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000


def main():
    base, count = int(sys.argv[1]), int(sys.argv[2])
    cmd = sys.argv[3:]
    libc = ctypes.CDLL(None, use_errno=True)
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        os.close(go_w)
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
            e = ctypes.get_errno()
            sys.exit("userns.py: unshare: %s" % os.strerror(e))
        os.write(ready_w, b"u")
        if os.read(go_r, 1) != b"g":
            sys.exit("userns.py: the maps were not written")
        os.setresgid(0, 0, 0)
        os.setresuid(0, 0, 0)
        os.setgroups([])
        os.execvp(cmd[0], cmd)
    os.close(ready_w)
    os.close(go_r)
    if os.read(ready_r, 1) != b"u":
        os.waitpid(pid, 0)
        sys.exit(1)
    for f in ("uid_map", "gid_map"):
        with open("/proc/%d/%s" % (pid, f), "w") as m:
            m.write("0 %d %d\n" % (base, count))
    os.write(go_w, b"g")
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
