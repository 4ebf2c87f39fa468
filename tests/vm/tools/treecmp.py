#!/usr/bin/env python3
"""treecmp.py [--meta] [--no-data] A B: compare two trees entry by entry:
type and mode, owner, nlink, size and data of regular files, symlink
targets, and the hard-link groups; with --meta also modification times (ns),
device numbers and extended attributes (names and values; trusted.* are the
mounter's and left out). --no-data compares sizes but not contents.
--holes: whether each regular file has holes (fewer blocks than its size).
--skip=GLOB (repeatable): entries whose path matches are left out.
--identity leaves out what ct create makes anew for each container (its
machine-id, its ssh host keys: doc/store.md). Prints
"trees equal (N entries)" and exits 0, or prints the first difference and
exits 1. Names are bytes: any byte in a name compares exactly."""
import fnmatch
import hashlib
import os
import re
import sys

# what each container gets of its own (userspace/lib/identity.c)
IDENTITY = re.compile(rb"^(etc/machine-id|var/lib/dbus/machine-id|"
                      rb"etc/ssh/ssh_host_[a-z0-9]+_key(\.pub)?)$")


def xattrs(p):
    try:
        names = os.listxattr(p, follow_symlinks=False)
    except OSError:
        return []
    return sorted((n, os.getxattr(p, n, follow_symlinks=False))
                  for n in names if not n.startswith("trusted."))


def digest(p):
    h = hashlib.sha1()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tree(root, meta, data, identity, holes=False, skip=()):
    entries, groups = {}, {}
    root = os.fsencode(root)
    for d, subdirs, names in os.walk(root):
        for n in subdirs + names:
            p = os.path.join(d, n)
            rel = os.path.relpath(p, root)
            if identity and IDENTITY.match(rel):
                continue
            if any(fnmatch.fnmatchcase(rel, g) for g in skip):
                continue
            s = os.lstat(p)
            e = [oct(s.st_mode), s.st_uid, s.st_gid, s.st_nlink]
            if meta:
                # (symlinks' times: not every tool sets them)
                if not os.path.islink(p):
                    e.append(s.st_mtime_ns)
                e.append(s.st_rdev)
                e.append(xattrs(p))
            if os.path.islink(p):
                e.append(os.readlink(p))
            elif os.path.isfile(p):
                e.append(s.st_size)
                if holes:
                    e.append(s.st_blocks * 512 < s.st_size)
                if data:
                    e.append(digest(p))
                groups.setdefault((s.st_dev, s.st_ino), []).append(rel)
            entries[rel] = e
    links = sorted(sorted(g) for g in groups.values() if len(g) > 1)
    return entries, links


def main(argv):
    meta = "--meta" in argv
    data = "--no-data" not in argv
    identity = "--identity" in argv
    holes = "--holes" in argv
    skip = [os.fsencode(x[len("--skip="):]) for x in argv
            if x.startswith("--skip=")]
    a, b = [x for x in argv if not x.startswith("--")]
    (ea, la), (eb, lb) = (tree(a, meta, data, identity, holes, skip),
                          tree(b, meta, data, identity, holes, skip))
    for k in sorted(set(ea) | set(eb)):
        if ea.get(k) != eb.get(k):
            print("%r: %r in %s, %r in %s" % (k, ea.get(k), a, eb.get(k), b))
            return 1
    if la != lb:
        print("hard-link groups differ: %r in %s, %r in %s" % (la, a, lb, b))
        return 1
    print("trees equal (%d entries)" % len(ea))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
