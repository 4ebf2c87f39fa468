#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Host tests of physical-to-container migration (issue 20, doc/p2v.md)
through tplctl and tplfsd, no module: a "server" tree copied with every
kind of file and metadata kept, its separate filesystem joined, volatile
paths and forged host xattrs left out; a transfer cut or killed, then
resumed sending only what was missing; the daemon killed in the final
step; relink against a template; every bad input refused. A remote source
is reached through a stand-in for ssh that runs rsync's server locally
(the guests' test uses a real sshd). Ends with "p2v: N passed, N failed"."""
import json
import os
import re
import signal
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tplproto  # noqa: E402
from tplproto import Gate, TIMEOUT, call, wait_until  # noqa: E402
from test_store import (CAP, daemon_with_template, err, make_tree,  # noqa: E402
                        new_daemon, ok, origin_of, shown, w)

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RELAY = os.path.join(TOP, "tests", "vm", "tools", "cut_relay.py")
TPLCTL = os.path.join(os.environ["TPLFS_BIN"], "tplctl")
FORGED = b"forged origin naming /etc/shadow's object"


def p2v(d, *args, env=None):
    p = subprocess.run([TPLCTL, "--socket", d.sock, "ct", "p2v"] + list(args),
                       capture_output=True, text=True, timeout=TIMEOUT,
                       env=dict(os.environ, **(env or {})))
    return p.returncode, p.stdout, p.stderr


def server(tmp, name="server"):
    """A server's tree: the template's files (make_tree) and its own, of
    every kind; /home as if it were a filesystem of its own; what a p2v
    leaves out."""
    root = os.path.join(tmp, name)
    make_tree(root)
    os.makedirs(root + "/home/alice")
    w(root + "/home/alice/notes", b"alice's notes\n", 0o600)
    os.chown(root + "/home/alice/notes", 1000, 1000)
    os.chown(root + "/home/alice", 1000, 1000)
    os.setxattr(root + "/home/alice/notes", "user.mime", b"text/plain")
    subprocess.run(["setfacl", "-m", "u:1001:rw,g:1002:r,m::rw",
                    root + "/home/alice/notes"], check=True)
    os.link(root + "/home/alice/notes", root + "/home/alice/notes-link")
    w(root + "/srv-tool", b"\x7fELF" + b"s" * 3000, 0o755)
    os.setxattr(root + "/srv-tool", "security.capability", CAP)
    with open(root + "/big-sparse", "wb") as f:
        f.truncate(256 << 20)
        f.seek(100 << 20)
        f.write(b"middle")
    w(root + "/etc/forged", b"a private file\n")
    os.setxattr(root + "/etc/forged", "trusted.tplfs.origin", FORGED)
    os.mknod(root + "/etc/mydev", 0o600 | stat.S_IFBLK, os.makedev(7, 9))
    w(root + "/etc/fstab", b"UUID=1 / ext4 defaults 0 1\n"
      b"UUID=2 /home ext4 defaults 0 2\n/swapfile none swap sw 0 0\n")
    for d in ("proc", "sys", "run", "tmp"):
        os.makedirs(root + "/" + d, exist_ok=True)
        w(root + "/" + d + "/volatile", b"gone at boot\n")
    w(root + "/dev/volatile", b"x\n")
    w(root + "/swapfile", b"\0" * 4096)
    return root


def fake_ssh(tmp):
    """A remote shell that drops the host and runs the command here."""
    path = os.path.join(tmp, "fake-ssh")
    w(path, b'#!/bin/sh\nshift\nexec "$@"\n', 0o755)
    return path


def walk(root, skip=()):
    """Every path under @root with what a p2v must keep: type, mode,
    owners, xattrs (the host's own left out), ACLs, content or target,
    size and allocated blocks (holes), device numbers, hard link groups."""
    out, inodes = {}, {}
    for top, dirs, files in os.walk(root):
        for n in sorted(dirs + files):
            p = os.path.join(top, n)
            rel = os.path.relpath(p, root)
            if any(rel == s or rel.startswith(s + "/") for s in skip):
                continue
            st = os.lstat(p)
            xattrs = {}
            for x in os.listxattr(p, follow_symlinks=False):
                if not x.startswith("trusted.tplfs.") and not x.startswith("system."):
                    xattrs[x] = os.getxattr(p, x, follow_symlinks=False)
            what = [stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode),
                    st.st_uid, st.st_gid, sorted(xattrs.items())]
            if not os.path.islink(p):
                acl = subprocess.run(["getfacl", "-n", "-c", "-p", p],
                                     capture_output=True, text=True).stdout
                what.append(acl)
            if stat.S_ISLNK(st.st_mode):
                what.append(os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                what += [st.st_size, st.st_mtime_ns]
                inodes.setdefault(st.st_ino, []).append(rel)
            elif stat.S_ISBLK(st.st_mode) or stat.S_ISCHR(st.st_mode):
                what.append(st.st_rdev)
            out[rel] = what
    links = sorted(sorted(v) for v in inodes.values() if len(v) > 1)
    return out, links


def contents(root, fs):
    """Each regular file's bytes as the container shows them (a stub's
    object's) against the server's."""
    for top, _, files in os.walk(root):
        for n in files:
            p = os.path.join(top, n)
            rel = os.path.relpath(p, root)
            q = os.path.join(fs, rel)
            if os.path.islink(p) or not os.path.isfile(p) or not os.path.lexists(q):
                continue
            with open(p, "rb") as f:
                assert shown_bytes(q) == f.read(), rel


def shown_bytes(path):
    return shown(shown_bytes.daemon, path)


SKIP = ("proc/volatile", "sys/volatile", "run/volatile", "tmp/volatile",
        "dev/volatile", "dev/null", "swapfile")


def check_equal(d, src, fs):
    a, la = walk(src, SKIP)
    b, lb = walk(fs)
    assert sorted(a) == sorted(b), (set(a) ^ set(b))
    for rel in a:
        if stat.S_ISREG(a[rel][0]) and origin_of(os.path.join(fs, rel)):
            # a stub keeps the metadata; its bytes are the object's
            a[rel] = a[rel][:6] + a[rel][7:]
            b[rel] = b[rel][:6] + b[rel][7:]
        assert a[rel] == b[rel], (rel, a[rel], b[rel])
    assert la == lb, (la, lb)
    shown_bytes.daemon = d
    contents(src, fs)


def test_p2v_of_a_directory_keeps_everything_and_shares_with_the_template(tmp):
    """Staged, then --final: the tree equals the server's (owners, modes,
    ACLs, xattrs, capabilities, hard links, holes, a device node, a fifo)
    but for the volatile paths and the forged host xattr; /home joined;
    with --template the template's files are stubs; one quota from what
    the server used; /etc/fstab's entries reported, not changed."""
    d, _ = daemon_with_template(tmp)
    src = server(tmp)
    rc, out, e = p2v(d, "c1", "--from", src, "--mount", "/home")
    assert rc == 0, e
    assert "c1: staged (transfer 1)" in out, out
    assert "transfer /home:" in out, out
    # staged is not a container yet
    assert "c1" not in json.dumps(ok(call(d.sock, "ct.list")))
    err(call(d.sock, "ct.create", {"id": "c1", "template": "os@1"}), "exists")
    staged = os.path.join(d.root, "private", ".c1.p2v", "fs")
    assert os.path.isfile(staged + "/etc/forged")
    assert origin_of(staged + "/etc/forged") is None      # dropped on receipt

    rc, out, e = p2v(d, "c1", "--from", src, "--mount", "/home", "--final",
                     "--template", "os@1", "--json")
    assert rc == 0, (out, e)
    r = json.loads(out)["result"]
    f = r["final"]
    fs = os.path.join(d.root, "private", "c1", "fs")
    assert not os.path.exists(os.path.join(d.root, "private", ".c1.p2v"))
    assert f["template"] == "os@1" and f["finished"], f
    # the default quota: what the server used, with headroom
    assert f["limits_default"] and \
        f["limits"]["bytes_soft"] >= f["source_bytes"] * 5 // 4, f
    assert f["limits"]["inodes_hard"] >= f["source_inodes"] * 3 // 2, f
    notes = "\n".join(f["notes"])
    assert "UUID=1 on / (ext4)" in notes and "UUID=2 on /home (ext4): joined" in notes \
        and "swap /swapfile" in notes, notes
    assert r["relink"]["relinked"] >= 3, r["relink"]
    check_equal(d, src, fs)
    # the template's files are stubs, the server's own are not
    assert origin_of(fs + "/usr/bin/tool") is not None
    assert origin_of(fs + "/etc/shadow") is not None
    assert origin_of(fs + "/home/alice/notes") is None
    assert origin_of(fs + "/etc/forged") is None
    assert os.lstat(fs + "/big-sparse").st_blocks * 512 < 1 << 20
    conf = open(os.path.join(d.root, "private", "c1", "ct.conf")).read()
    assert "template = os@1" in conf and "clone = full" not in conf, conf
    c = ok(call(d.sock, "ct.status", {"id": "c1", "scan": True}))
    assert c["disk_bytes"] < f["source_bytes"], (c, f)
    q = ok(call(d.sock, "ct.quota", {"id": "c1"}))
    assert q["bytes"]["soft"] == f["limits"]["bytes_soft"], q
    # os@1 is in use now
    assert "c1" in err(call(d.sock, "template.rm", {"template": "os@1"}), "busy")
    p2vconf = open(os.path.join(d.root, "private", "c1", "p2v.conf")).read()
    assert "from = %s\nmount = /home\n" % src in p2vconf, p2vconf
    # the same command again: it is done, nothing more happens
    rc, out, e = p2v(d, "c1", "--from", src, "--mount", "/home", "--final")
    assert rc == 0 and "was finished before" in out, (out, e)
    assert d.stop() == 0


def test_progress_is_told_when_asked(tmp):
    d = new_daemon(tmp).start()
    src = server(tmp)
    rc, out, e = p2v(d, "c8", "--from", src)
    assert rc == 0 and "transfer" not in e, e       # a pipe: no progress
    rc, out, e = p2v(d, "c8", "--from", src, "--progress")
    assert rc == 0, e
    assert re.search(r"^transfer /: [0-9]+% .*, files [0-9]+/[0-9]+$", e, re.M), e
    assert d.stop() == 0


def test_without_a_template_and_with_limits_given(tmp):
    d = new_daemon(tmp).start()
    src = server(tmp)
    rc, out, e = p2v(d, "c2", "--from", src, "--final", "--quota", "2G:3G",
                     "--inodes", "1000", "--exclude", "/home/alice/notes-link",
                     "--exclude", "*.tmp")
    assert rc == 0, e
    assert "quota: 2.0 GiB soft, 3.0 GiB hard; 1000 inodes soft, 1000 hard\n" in out, out
    fs = os.path.join(d.root, "private", "c2", "fs")
    assert not os.path.lexists(fs + "/home/alice/notes-link")
    assert os.path.isfile(fs + "/home/alice/notes")    # no --mount: one tree
    conf = open(os.path.join(d.root, "private", "c2", "ct.conf")).read()
    assert "template" not in conf or "template = \n" in conf, conf
    assert "c2" in json.dumps(ok(call(d.sock, "ct.list")))
    assert d.stop() == 0


def rsync_children(pid):
    """The rsync processes tplctl @pid runs (its child and their children)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        for q in os.listdir("/proc"):
            if not q.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % q) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open("/proc/%s/comm" % q) as f:
                    comm = f.read().strip()
            except OSError:
                continue
            if int(fields[1]) == p:
                todo.append(int(q))
                if comm == "rsync":
                    found.append(int(q))
    return found


def test_a_cut_and_a_killed_transfer_resume_sending_what_is_missing(tmp):
    """A link cut at a third of the bytes, then rsync killed -9 at two
    thirds, then the same command: the tree is whole and the bytes sent in
    all are close to one transfer's, not three."""
    d = new_daemon(tmp).start()
    src = os.path.join(tmp, "server")
    os.makedirs(src + "/data")
    for i in range(24):
        with open(src + "/data/f%02d" % i, "wb") as f:
            f.write(os.urandom(256 << 10))
    ssh = fake_ssh(tmp)
    count = os.path.join(tmp, "count")
    relay = "python3 %s --count %s" % (RELAY, count)
    # one whole transfer of the same tree: the measure
    rc, out, e = p2v(d, "whole", "--from", "host:" + src,
                     env={"RSYNC_RSH": "%s -- %s" % (relay, ssh)})
    assert rc == 0, e
    whole = int(open(count).read().split()[-1])
    assert whole > 24 * (256 << 10), whole
    os.unlink(count)

    cut = whole // 3
    rc, out, e = p2v(d, "c3", "--from", "host:" + src, env={
        "RSYNC_RSH": "%s --cut-after %d -- %s" % (relay, cut, ssh)})
    assert rc == 1 and "did not complete" in e and "run the same command again" in e, e

    held = os.path.join(tmp, "held")
    p = subprocess.Popen([TPLCTL, "--socket", d.sock, "ct", "p2v", "c3",
                          "--from", "host:" + src],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=dict(os.environ, RSYNC_RSH=(
                             "%s --hold-after %d --held %s -- %s" %
                             (relay, cut, held, ssh))))
    wait_until(lambda: os.path.exists(held), "the relay to hold")
    pids = rsync_children(p.pid)
    assert pids, "no rsync under tplctl"
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass                # one that ended meanwhile
    out, e = p.communicate(timeout=TIMEOUT)
    assert p.returncode == 1 and "killed by signal 9" in e, (out, e)

    rc, out, e = p2v(d, "c3", "--from", "host:" + src, "--final",
                     env={"RSYNC_RSH": "%s -- %s" % (relay, ssh)})
    assert rc == 0, e
    sent = [int(x) for x in open(count).read().split()]
    assert len(sent) == 3, sent
    assert sum(sent) < whole * 1.25, (sent, whole)
    a, _ = walk(src)
    b, _ = walk(os.path.join(d.root, "private", "c3", "fs"))
    assert a == b
    for i in range(24):
        n = "/data/f%02d" % i
        with open(src + n, "rb") as f1, \
                open(os.path.join(d.root, "private", "c3", "fs") + n, "rb") as f2:
            assert f1.read() == f2.read(), n
    conf = open(os.path.join(d.root, "private", "c3", "p2v.conf")).read()
    assert "transfers = 3\n" in conf, conf
    assert d.stop() == 0


def test_the_daemon_killed_in_the_final_step_then_the_same_command(tmp):
    gate = Gate(tmp)
    d = new_daemon(tmp, env={"TPLFSD_TEST_PAUSE": gate.at("ct.p2v:final")}).start()
    src = server(tmp)
    p = subprocess.Popen([TPLCTL, "--socket", d.sock, "ct", "p2v", "c4",
                          "--from", src, "--final"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: "ct.p2v:final" in open(d.log, errors="replace").read(),
               "the final step to reach its fault point")
    d.stop(sig=signal.SIGKILL)
    out, e = p.communicate(timeout=TIMEOUT)
    assert p.returncode == 1, (out, e)
    assert os.path.isdir(os.path.join(d.root, "private", ".c4.p2v", "fs"))
    assert not os.path.exists(os.path.join(d.root, "private", "c4"))
    d.env = {}
    d.start()
    rc, out, e = p2v(d, "c4", "--from", src, "--final")
    assert rc == 0, e
    check_equal(d, src, os.path.join(d.root, "private", "c4", "fs"))
    assert d.stop() == 0


def test_a_forged_host_xattr_in_the_staging_is_refused(tmp):
    """rsync drops them on receipt; one that got in another way stops the
    final step, named; --abort drops the staging."""
    d = new_daemon(tmp).start()
    src = server(tmp)
    rc, out, e = p2v(d, "c5", "--from", src)
    assert rc == 0, e
    staged = os.path.join(d.root, "private", ".c5.p2v", "fs")
    os.setxattr(staged + "/etc/os-release", "trusted.tplfs.origin", FORGED)
    os.setxattr(staged + "/bin", "trusted.overlay.redirect", b"x",
                follow_symlinks=False)
    m = err(call(d.sock, "ct.p2v.final", {"id": "c5"}), "bad_args")
    assert "2 xattrs that only the host may set" in m, m
    assert "/etc/os-release (trusted.tplfs.origin)" in m and "/bin (trusted.overlay.redirect)" in m, m
    assert not os.path.exists(os.path.join(d.root, "private", "c5"))
    rc, out, e = p2v(d, "c5", "--abort")
    assert rc == 0 and "dropped" in out, e
    assert not os.path.exists(os.path.join(d.root, "private", ".c5.p2v"))
    err(call(d.sock, "ct.p2v.abort", {"id": "c5"}), "not_found")
    assert d.stop() == 0


def test_bad_requests_are_refused(tmp):
    d, _ = daemon_with_template(tmp)
    src = server(tmp)
    for bad in ("-oProxyCommand=touch /tmp/x:/", "host:relative", "h:/a/../b"):
        rc, out, e = p2v(d, "c6", "--from", bad)
        assert rc == 2 and e, (bad, e)
        m = err(call(d.sock, "ct.p2v.stage", {"id": "c6", "from": bad}), "bad_args")
        assert m, bad
    err(call(d.sock, "ct.p2v.stage", {"id": "c6", "from": "/x", "mounts": "/home"}),
        "bad_args")
    err(call(d.sock, "ct.p2v.stage", {"id": "c6", "from": "/x", "mounts": [1]}),
        "bad_args")
    err(call(d.sock, "ct.p2v.stage", {"id": "../x", "from": "/x"}), "bad_args")
    rc, out, e = p2v(d, "c6", "--from", src, "--mount", "/home", "--exclude", "/home")
    assert rc == 2 and "is a --mount" in e, e
    rc, out, e = p2v(d, "c6", "--from", src, "--volatile")
    assert rc == 2, e
    rc, out, e = p2v(d, "c6")
    assert rc == 2 and "needs --from" in e, e
    err(call(d.sock, "ct.p2v.final", {"id": "c6"}), "not_found")
    # staged from one source: another is refused, the first goes on
    ok(call(d.sock, "ct.p2v.stage", {"id": "c6", "from": src}))
    m = err(call(d.sock, "ct.p2v.stage", {"id": "c6", "from": "/elsewhere"}), "exists")
    assert "--abort" in m, m
    # a transfer under way holds the staging: another and the final wait
    lock = open(os.path.join(d.root, "private", ".c6.p2v", "p2v.lock"), "r+")
    import fcntl
    fcntl.flock(lock, fcntl.LOCK_EX)
    rc, out, e = p2v(d, "c6", "--from", src)
    assert rc == 1 and "under way" in e, e
    err(call(d.sock, "ct.p2v.final", {"id": "c6"}), "busy")
    lock.close()
    err(call(d.sock, "ct.p2v.final", {"id": "c6", "template": "gone@1"}), "not_found")
    err(call(d.sock, "ct.p2v.final", {"id": "c6", "quota": "lots"}), "bad_args")
    # a container that exists and is no p2v
    ok(call(d.sock, "ct.create", {"id": "c7", "template": "os@1"}))
    err(call(d.sock, "ct.p2v.stage", {"id": "c7", "from": src}), "exists")
    assert d.stop() == 0


if __name__ == "__main__":
    sys.exit(tplproto.run_tests(globals(), "p2v"))
