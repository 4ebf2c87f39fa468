#!/usr/bin/env python3
"""FS_IOC_FIEMAP on a file, printed so that two answers compare as text.

  fiemap.py PATH [FLAGS]

FLAGS: a number, or names joined by '+': sync, xattr, cache (the kernel's
FIEMAP_FLAG_*). Prints "ok FM_FLAGS N" and then one line per extent
"LOGICAL PHYSICAL LENGTH FLAGS", or "ERRNO FM_FLAGS" if the ioctl fails:
with EBADR the kernel leaves in FM_FLAGS the flags it does not support.
"""
import errno
import fcntl
import os
import struct
import sys

FS_IOC_FIEMAP = 0xC020660B
NAMES = {"sync": 0x1, "xattr": 0x2, "cache": 0x4}
HEAD = "=QQIIII"          # struct fiemap: start, length, flags, mapped, count, pad
EXTENT = "=QQQQQIIII"     # struct fiemap_extent
COUNT = 64


def parse_flags(text):
    if text[0].isdigit():
        return int(text, 0)
    value = 0
    for name in text.split("+"):
        value |= NAMES[name]
    return value


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    flags = parse_flags(sys.argv[2]) if len(sys.argv) == 3 else 0
    buf = bytearray(struct.pack(HEAD, 0, 0xFFFFFFFFFFFFFFFF, flags, 0,
                                COUNT, 0))
    buf += bytes(struct.calcsize(EXTENT) * COUNT)
    fd = os.open(sys.argv[1], os.O_RDONLY)
    try:
        fcntl.ioctl(fd, FS_IOC_FIEMAP, buf)
    except OSError as e:
        fm_flags = struct.unpack_from(HEAD, buf)[2]
        print(errno.errorcode.get(e.errno, str(e.errno)), hex(fm_flags))
        return
    finally:
        os.close(fd)
    _, _, fm_flags, mapped, _, _ = struct.unpack_from(HEAD, buf)
    print("ok", hex(fm_flags), mapped)
    off = struct.calcsize(HEAD)
    for i in range(mapped):
        logical, physical, length, _, _, eflags, _, _, _ = struct.unpack_from(
            EXTENT, buf, off + i * struct.calcsize(EXTENT))
        print(logical, physical, length, hex(eflags))


if __name__ == "__main__":
    main()
