#!/usr/bin/env python3
"""usage.py DIR: what a container's quota charges for the tree DIR, counted
independently of tplfs: every inode once (hard links once, the root
included) and st_blocks * 512 bytes of each. Prints "BYTES INODES"."""
import os
import sys


def main():
    root = sys.argv[1]
    dev = os.lstat(root).st_dev
    seen = set()
    total = 0

    def count(path):
        nonlocal total
        st = os.lstat(path)
        if st.st_dev != dev or (st.st_ino in seen):
            return None
        seen.add(st.st_ino)
        total += st.st_blocks * 512
        return st

    count(root)
    for top, dirs, files in os.walk(root):
        for name in dirs + files:
            try:
                st = count(os.path.join(top, name))
            except FileNotFoundError:
                continue
            if st is None and name in dirs:
                dirs.remove(name)   # another filesystem: not descended
    print(total, len(seen))


main()
