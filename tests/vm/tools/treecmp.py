#!/usr/bin/env python3
"""treecmp.py A B: compare two trees entry by entry: type and mode, owner,
nlink, size and data of regular files, symlink targets, and the hard-link
groups. Prints "trees equal (N entries)" and exits 0, or prints the first
difference and exits 1."""
import hashlib
import os
import sys


def tree(root):
    entries, groups = {}, {}
    for d, subdirs, names in os.walk(root):
        for n in subdirs + names:
            p = os.path.join(d, n)
            rel = os.path.relpath(p, root)
            s = os.lstat(p)
            e = [oct(s.st_mode), s.st_uid, s.st_gid, s.st_nlink]
            if os.path.islink(p):
                e.append(os.readlink(p))
            elif os.path.isfile(p):
                e.append(s.st_size)
                with open(p, "rb") as fh:
                    e.append(hashlib.sha1(fh.read()).hexdigest())
                groups.setdefault(s.st_ino, []).append(rel)
            entries[rel] = e
    links = sorted(sorted(g) for g in groups.values() if len(g) > 1)
    return entries, links


def main(a, b):
    (ea, la), (eb, lb) = tree(a), tree(b)
    for k in sorted(set(ea) | set(eb)):
        if ea.get(k) != eb.get(k):
            print("%s: %r in %s, %r in %s" % (k, ea.get(k), a, eb.get(k), b))
            return 1
    if la != lb:
        print("hard-link groups differ: %r in %s, %r in %s" % (la, a, lb, b))
        return 1
    print("trees equal (%d entries)" % len(ea))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
