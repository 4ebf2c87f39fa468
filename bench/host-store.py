#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The store on the host (no module, no guest): a cold `template import` of
a tree of many files against `tar -x` of the same tree, against reading
the cold tree alone (`tar -c` to /dev/null) and copying it (`cp -a`), and
`ct create` from it against `cp -al` and `cp -a`, and an update of the
tree (a twentieth of its files changed, a hundredth new, a hundredth
gone) reaching a container: `ct rebase` onto the updated version against
`ct create` of a new container from it and `cp -al` of the updated tree
(what recreating an overlayfs container on a new lower costs, losing what
it changed) and `rsync` of the updated tree into a copy (a copy that is
updated in place, as `apt-get upgrade` in each container does), all to
one filesystem, in one run.
Every contender ends with a `sync` inside its time: each must be on disk.

  bench/host-store.py [--files N] [--mib M] [--dir DIR] [--out FILE.md]

The tree (N files, M MiB in all, 100 files a directory, sizes spread
between 0 and twice the mean, a tenth of them duplicates) is made once in
DIR (default build/cache/bench-tree-N-M) and kept. Prints one JSON object
a row; with --out, writes the Markdown table. Needs root."""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "host"))
from tplproto import Daemon, call  # noqa: E402


def make_tree(root, files, mib):
    """The tree, made in root + '.part' and renamed, so a half-made one is
    never used."""
    if os.path.isdir(root):
        return
    part = root + ".part"
    shutil.rmtree(part, ignore_errors=True)
    rnd = random.Random(files * 1000003 + mib)
    mean = mib * 1024 * 1024 // files
    made = []
    for i in range(files):
        d = os.path.join(part, "d%03d" % (i // 100))
        if i % 100 == 0:
            os.makedirs(d)
        path = os.path.join(d, "f%05d" % i)
        if made and i % 10 == 9:
            shutil.copyfile(rnd.choice(made), path)   # a duplicate
            continue
        with open(path, "wb") as f:
            f.write(rnd.randbytes(rnd.randint(0, 2 * mean)))
        made.append(path)
    os.rename(part, root)


def make_update(tree, root, seed):
    """The tree updated: hard links of @tree in @root (made once, renamed
    into place), a twentieth of the files rewritten (new inodes, so @tree
    stays), a hundredth removed, a hundredth new."""
    if os.path.isdir(root):
        return
    part = root + ".part"
    shutil.rmtree(part, ignore_errors=True)
    subprocess.run(["cp", "-al", tree, part], check=True)
    rnd = random.Random(seed)
    files = sorted(os.path.join(t, n) for t, _, ns in os.walk(part)
                   for n in ns)
    for i, path in enumerate(files):
        if i % 20 == 7:
            size = os.path.getsize(path)
            os.unlink(path)
            with open(path, "wb") as f:
                f.write(rnd.randbytes(size))
        elif i % 100 == 3:
            os.unlink(path)
        elif i % 100 == 5:
            with open(path + ".new", "wb") as f:
                f.write(rnd.randbytes(rnd.randint(0, 20000)))
    os.rename(part, root)


def timed(argv, **kw):
    t0 = time.monotonic()
    subprocess.run(argv, check=True, **kw)
    subprocess.run(["sync"], check=True)
    return time.monotonic() - t0


def timed_call(d, verb, args):
    """@verb of the daemon @d, then a sync: its seconds."""
    t0 = time.monotonic()
    r = call(d.sock, verb, args, timeout=3600)
    subprocess.run(["sync"], check=True)
    assert r["ok"], r
    return time.monotonic() - t0


def drop_caches():
    subprocess.run(["sync"], check=True)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=50000)
    ap.add_argument("--mib", type=int, default=500)
    ap.add_argument("--dir")
    ap.add_argument("--out")
    a = ap.parse_args()
    tree = a.dir or os.path.join(TOP, "build", "cache",
                                 "bench-tree-%d-%d" % (a.files, a.mib))
    make_tree(tree, a.files, a.mib)
    update = tree + "-update"
    make_update(tree, update, a.files)
    rows = []

    def row(what, contender, seconds, base=None):
        r = {"workload": what, "contender": contender,
             "seconds": round(seconds, 3)}
        if base:
            r["ratio"] = round(seconds / base, 2)
        print(json.dumps(r), flush=True)
        rows.append(r)

    # Nothing is removed until every row is timed: ext4 without a journal
    # (this machine's root) passes over the inodes freed in the last 30 s
    # (recently_deleted() in fs/ext4/ialloc.c), which made any creation of
    # many files after a removal five times slower.
    scratch = os.path.join(TOP, "build", "bench-host")
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        tarball = os.path.join(tmp, "tree.tar")
        subprocess.run(["tar", "-cf", tarball, "-C", tree, "."], check=True)
        out = os.path.join(tmp, "tar-x")
        os.mkdir(out)
        drop_caches()
        tar_s = timed(["tar", "-xf", tarball, "-C", out])
        row("import (cold)", "tar -x", tar_s)
        # Reading a cold tree of many files is most of importing one:
        # what reading it alone costs, and copying it.
        drop_caches()
        row("import (cold)", "tar -c of the tree to /dev/null (reading it)",
            # (through cat: GNU tar reads nothing when it writes /dev/null)
            timed(["sh", "-c", 'tar -cf - -C "$1" . | cat >/dev/null', "sh",
                   tree]), tar_s)
        drop_caches()
        row("import (cold)", "cp -a of the tree",
            timed(["cp", "-a", tree, os.path.join(tmp, "cp-a-cold")]), tar_s)
        d = Daemon(tmp, binary=os.path.join(TOP, "build", "bin", "tplfsd")).start()
        try:
            drop_caches()
            row("import (cold)", "tplfs template import of the tree",
                timed_call(d, "template.import",
                           {"template": "bench@1", "from": tree}), tar_s)
            # like for like with tar -x: the same tarball, into a store
            # of its own (none of its objects there yet)
            os.mkdir(os.path.join(tmp, "tarball-store"))
            d2 = Daemon(os.path.join(tmp, "tarball-store"), binary=os.path.join(
                TOP, "build", "bin", "tplfsd")).start()
            try:
                drop_caches()
                row("import (cold)", "tplfs template import of the tarball",
                    timed_call(d2, "template.import",
                               {"template": "bench@1", "from": tarball}),
                    tar_s)
            finally:
                d2.stop()
            al = timed(["cp", "-al", tree, os.path.join(tmp, "cp-al")])
            row("create", "cp -al", al)
            row("create", "tplfs ct create",
                timed_call(d, "ct.create",
                           {"id": "c1", "template": "bench@1"}), al)
            row("create", "cp -a",
                timed(["cp", "-a", tree, os.path.join(tmp, "cp-a")]), al)
            # an update reaching one container
            ok = call(d.sock, "template.import",
                      {"template": "bench@2", "from": update}, timeout=3600)
            assert ok["ok"], ok
            up = timed(["cp", "-al", update, os.path.join(tmp, "cp-al-2")])
            row("update a container", "cp -al of the updated tree", up)
            row("update a container",
                "tplfs ct create from the update (its changes lost)",
                timed_call(d, "ct.create",
                           {"id": "c2", "template": "bench@2"}), up)
            row("update a container",
                "tplfs ct rebase onto the update (its changes kept)",
                timed_call(d, "ct.rebase", {"id": "c1", "to": "bench@2"}),
                up)
            row("update a container",
                "rsync of the updated tree into a copy of the old",
                timed(["rsync", "-a", "--delete", update + "/",
                       os.path.join(tmp, "cp-a") + "/"]), up)
        finally:
            d.stop()
    shutil.rmtree(scratch, ignore_errors=True)
    if a.out:
        cmd = " ".join(["bench/host-store.py"] + sys.argv[1:])
        lines = ["The store on the host (`%s`): %d files, %d MiB, one"
                 " filesystem; each time ends with a `sync`." %
                 (cmd, a.files, a.mib), "",
                 "| workload | contender | seconds | ratio to the first |",
                 "| --- | --- | ---: | ---: |"]
        for r in rows:
            lines.append("| %s | %s | %.2f | %s |" % (
                r["workload"], r["contender"], r["seconds"],
                "%.2f×" % r["ratio"] if "ratio" in r else "1"))
        with open(a.out, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
