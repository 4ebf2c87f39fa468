#!/usr/bin/env python3
"""Direct I/O probes for tests/vm/t/direct_io.sh; each prints one line.

  dio.py read PATH              sha256 of PATH read with O_DIRECT
  dio.py write PATH OFF LEN B   O_DIRECT write of LEN bytes B (hex) at OFF
                                (O_CREAT; aligned buffer); prints "ok"
  dio.py misaligned PATH        what a misaligned O_DIRECT write to PATH
                                gives: "ok" or the errno name
  dio.py resident PATH [OFF LEN]
                                how many of PATH's pages (of the range) are
                                in the page cache
  dio.py setfl PATH REAL        fcntl(F_SETFL) turning O_DIRECT on and off on
                                one descriptor of PATH, writing 4 blocks at 0
                                in each state: "direct" if REAL (the file
                                that holds PATH's data) has none of them in
                                its page cache after, else "buffered"
  dio.py switch PATH            a stub held open with O_DIRECT for reading,
                                then written through another descriptor:
                                what the held one reads at offset 0

Buffers come from mmap, so they are page-aligned as O_DIRECT wants.
"""
import ctypes
import errno
import fcntl
import hashlib
import mmap
import os
import sys

BLOCK = 4096


def aligned(size, fill=b"\0"):
    buf = mmap.mmap(-1, size)
    buf.write(fill * size)
    return buf


def result(fn):
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def read_direct(fd, off, size):
    buf = aligned(size)
    n = os.preadv(fd, [buf], off)
    return bytes(buf[:n])


def cmd_read(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    h = hashlib.sha256()
    off = 0
    while True:
        data = read_direct(fd, off, 16 * BLOCK)
        if not data:
            break
        h.update(data)
        off += len(data)
    os.close(fd)
    print(h.hexdigest())


def cmd_write(path, off, length, byte):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o644)
    buf = aligned(length, bytes([int(byte, 16)]))
    n = os.pwritev(fd, [buf], off)
    os.close(fd)
    assert n == length, ("short direct write", n, length)
    print("ok")


def misaligned_write(fd):
    # one byte from an odd address at an odd offset
    buf = aligned(2 * BLOCK, b"m")
    os.pwritev(fd, [memoryview(buf)[1:2]], 1)


def cmd_misaligned(path):
    fd = os.open(path, os.O_WRONLY | os.O_DIRECT)
    print(result(lambda: misaligned_write(fd)))
    os.close(fd)


def resident(path, off=0, length=None):
    """Pages of PATH's bytes OFF..OFF+LENGTH in the page cache (mincore)."""
    size = os.stat(path).st_size
    if length is None:
        length = size - off
    if not size or not length:
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                          ctypes.c_int, ctypes.c_int, ctypes.c_long]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t,
                             ctypes.c_char_p]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    fd = os.open(path, os.O_RDONLY)
    addr = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
    os.close(fd)
    assert addr != ctypes.c_void_p(-1).value, "mmap failed"
    pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
    vec = ctypes.create_string_buffer(pages)
    rc = libc.mincore(ctypes.c_void_p(addr), size, vec)
    libc.munmap(ctypes.c_void_p(addr), size)
    assert rc == 0, ("mincore", ctypes.get_errno())
    first, last = off // mmap.PAGESIZE, (off + length - 1) // mmap.PAGESIZE
    return sum(b & 1 for b in vec.raw[first:last + 1])


def cmd_resident(path, off="0", length=None):
    print(resident(path, int(off), None if length is None else int(length)))


def cmd_setfl(path, real):
    fd = os.open(path, os.O_WRONLY)
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    seen = []
    for direct in (False, True, False):
        fcntl.fcntl(fd, fcntl.F_SETFL,
                    flags | os.O_DIRECT if direct else flags & ~os.O_DIRECT)
        os.pwritev(fd, [aligned(4 * BLOCK, b"s")], 0)
        seen.append("buffered" if resident(real, 0, 4 * BLOCK)
                    else "direct")
    os.close(fd)
    print(" ".join(seen))


def cmd_switch(path):
    reader = os.open(path, os.O_RDONLY | os.O_DIRECT)
    before = read_direct(reader, 0, BLOCK)
    writer = os.open(path, os.O_WRONLY | os.O_DIRECT)
    os.pwritev(writer, [aligned(BLOCK, b"w")], 0)
    os.close(writer)
    after = read_direct(reader, 0, BLOCK)
    os.close(reader)
    print("changed" if before != after and after == b"w" * BLOCK
          else "unchanged")


def main():
    cmds = {"read": cmd_read, "write": cmd_write,
            "misaligned": cmd_misaligned, "resident": cmd_resident,
            "setfl": cmd_setfl,
            "switch": cmd_switch}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    args = sys.argv[2:]
    if sys.argv[1] == "write":
        args = [args[0], int(args[1]), int(args[2]), args[3]]
    cmds[sys.argv[1]](*args)


if __name__ == "__main__":
    main()
