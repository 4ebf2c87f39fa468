#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Host tests of the template store and the container lifecycle through
tplfsd and tplctl (no module: containers are created, listed, destroyed,
not mounted): import from a directory and from tarballs of every
compression, export -> import giving the same manifest, sharing of
identical files, template list/rm, store gc, ct create/list/status/destroy,
kill -9 in the middle of each, and every bad input of issue 6. Ends with
"store: N passed, N failed"."""
import json
import os
import re
import signal
import stat
import subprocess
import sys
import tarfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tplproto  # noqa: E402
from tplproto import Daemon, Gate, TIMEOUT, call, connect, reply  # noqa: E402

BIN = os.environ["TPLFS_BIN"]
TPLCTL = os.path.join(BIN, "tplctl")
CAP = bytes([1, 0, 0, 2, 0, 0x20, 0, 0] + [0] * 12)


def tplctl(d, *args):
    p = subprocess.run([TPLCTL, "--socket", d.sock] + list(args),
                       capture_output=True, text=True, timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def ok(r):
    assert r is not None and r["ok"], r
    return r["result"]


def err(r, code):
    assert r is not None and r["type"] == "reply" and not r["ok"], r
    assert r["error"]["code"] == code, r
    return r["error"]["message"]


def w(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def make_tree(root, variant=b""):
    """A small OS-like tree with every kind of file."""
    os.makedirs(root + "/etc/ssl", exist_ok=True)
    os.makedirs(root + "/usr/bin", exist_ok=True)
    os.makedirs(root + "/dev", exist_ok=True)
    os.makedirs(root + "/var/empty", exist_ok=True)
    w(root + "/etc/hostname", b"template\n")
    w(root + "/etc/hosts", b"127.0.0.1 localhost\n")
    w(root + "/etc/os-release", b"NAME=test\n" + variant)
    w(root + "/etc/shadow", b"root:*:1::::::\n", 0o640)
    os.chown(root + "/etc/shadow", 0, 42)
    w(root + "/usr/bin/tool", b"\x7fELF" + b"x" * 5000)
    os.chown(root + "/usr/bin/tool", 0, 0)
    os.chmod(root + "/usr/bin/tool", 0o4755)
    os.setxattr(root + "/usr/bin/tool", "security.capability", CAP)
    os.setxattr(root + "/usr/bin/tool", "user.note", b"a\x00b")
    os.link(root + "/usr/bin/tool", root + "/usr/bin/tool-link")
    w(root + "/usr/bin/same-a", b"same bytes\n")
    w(root + "/usr/bin/same-b", b"same bytes\n")
    os.symlink("usr/bin", root + "/bin")
    os.symlink("/etc/hostname", root + "/etc/abs-link")
    os.mkfifo(root + "/var/fifo", 0o600)
    os.mknod(root + "/dev/null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    w(root + b"/name with\nnewline \xff".decode(errors="surrogateescape"),
      b"odd\n")
    with open(root + "/var/sparse", "wb") as f:
        f.truncate(3 << 20)
        f.write(b"start")
    subprocess.run(["setfacl", "-m", "u:1234:r", root + "/etc/os-release"],
                   check=True)
    os.utime(root + "/etc", ns=(1600000000123456789, 1600000000123456789))


def new_daemon(tmp, name="d", env=None):
    d = Daemon(tmp, env=env)
    d.root = os.path.join(tmp, name + "-root")
    d.store = os.path.join(tmp, name + "-store")
    d.sock = os.path.join(tmp, name + ".sock")
    d.log = os.path.join(tmp, name + ".log")
    return d


def manifest(d, tpl):
    name, version = tpl.split("@")
    with open(os.path.join(d.store, "templates", name, version,
                           "manifest"), "rb") as f:
        return f.read()


def objects(d):
    n = 0
    for sub in os.listdir(os.path.join(d.store, "objects")):
        n += len(os.listdir(os.path.join(d.store, "objects", sub)))
    return n


def daemon_with_template(tmp, env=None):
    """A started daemon (with @env) whose store holds os@1, made of
    make_tree()."""
    src = os.path.join(tmp, "src")
    make_tree(src)
    d = new_daemon(tmp, env=env).start()
    ok(call(d.sock, "template.import", {"template": "os@1", "from": src}))
    return d, src


# --- import ----------------------------------------------------------------

def test_import_a_directory(tmp):
    src = os.path.join(tmp, "src")
    make_tree(src)
    d = new_daemon(tmp).start()
    rc, out, e = tplctl(d, "template", "import", "os@1", "--from", src)
    assert rc == 0, e
    assert "os@1: 22 entries, 9 files" in out, out
    m = manifest(d, "os@1")
    assert m.startswith(b"tplfs-manifest 1\ntemplate os@1\nprivate /etc/hostname\n"
                        b"private /etc/hosts\nprivate /etc/machine-id\n/ d ")
    lines = {ln.split(b" ")[0]: ln for ln in m.split(b"\n")}
    assert lines[b"/usr/bin/tool"].startswith(b"/usr/bin/tool f 4755 0 0 ")
    assert b"x:security.capability=0100000200200000" in lines[b"/usr/bin/tool"]
    assert b"x:user.note=610062" in lines[b"/usr/bin/tool"]
    assert lines[b"/usr/bin/tool-link"] == b"/usr/bin/tool-link h /usr/bin/tool"
    assert b"x:system.posix_acl_access=" in lines[b"/etc/os-release"]
    assert lines[b"/etc"].split(b" ")[5] == b"1600000000.123456789"
    assert lines[b"/dev/null"].endswith(b" 1:3")
    assert b"/name%20with%0Anewline%20%FF" in lines
    assert lines[b"/var/sparse"].split(b" ")[6] == str((3 << 20)).encode()
    # same-a and same-b share one object; the sparse one stays sparse
    assert objects(d) == 8, objects(d)
    st = os.stat(os.path.join(d.store, "objects", lines[b"/var/sparse"].split(b" ")[7][:2].decode(),
                              lines[b"/var/sparse"].split(b" ")[7][2:].decode()))
    assert st.st_blocks * 512 < (1 << 20), st
    assert st.st_mode & 0o777 == 0o444
    res = ok(call(d.sock, "template.list"))["templates"]
    assert len(res) == 1 and res[0]["template"] == "os@1"
    assert res[0]["state"] == "sealed" and res[0]["files"] == 9, res
    assert d.stop() == 0


def test_a_template_says_which_paths_are_private(tmp):
    src = os.path.join(tmp, "src")
    make_tree(src)
    d = new_daemon(tmp).start()
    rc, out, e = tplctl(d, "template", "import", "os@1", "--from", src,
                        "--private", "/etc/shadow", "--private", "/etc/hostname")
    assert rc == 0, e
    m = manifest(d, "os@1")
    assert b"\nprivate /etc/hostname\nprivate /etc/shadow\n/ d " in m, m[:200]
    r = ok(call(d.sock, "ct.create", {"id": "a", "template": "os@1"}))
    assert r["copies"] == 2, r
    fs = os.path.join(d.root, "private", "a", "fs")
    assert os.stat(fs + "/etc/shadow").st_size > 0       # copied
    assert os.stat(fs + "/etc/hosts").st_size == 0        # a stub now
    for bad in (["etc/x"], ["/a/../b"], ["/x", "/x"], "notalist", [3]):
        err(call(d.sock, "template.import",
                 {"template": "os@2", "from": src, "private": bad}), "bad_args")
    assert d.stop() == 0


def test_identical_files_across_templates_stored_once(tmp):
    src, src2 = os.path.join(tmp, "src"), os.path.join(tmp, "src2")
    make_tree(src)
    make_tree(src2, variant=b"VERSION=2\n")
    d = new_daemon(tmp).start()
    r1 = ok(call(d.sock, "template.import", {"template": "os@1", "from": src}))
    r2 = ok(call(d.sock, "template.import", {"template": "os@2", "from": src2}))
    assert r1["new_objects"] == 8, r1
    assert r2["new_objects"] == 1, r2        # only os-release differs
    ts = {t["template"]: t for t in ok(call(d.sock, "template.list"))["templates"]}
    assert ts["os@1"]["unique_bytes"] == len(b"NAME=test\n"), ts
    assert ts["os@2"]["unique_bytes"] == len(b"NAME=test\nVERSION=2\n"), ts
    assert d.stop() == 0


def test_import_tarballs_of_every_compression(tmp):
    src = os.path.join(tmp, "src")
    make_tree(src)
    d = new_daemon(tmp).start()
    ok(call(d.sock, "template.import", {"template": "os@dir", "from": src}))
    want = manifest(d, "os@dir").replace(b"template os@dir", b"")
    for ext, flag in ((".tar", []), (".tar.gz", ["-z"]), (".tar.xz", ["-J"]),
                      (".tar.zst", ["--zstd"])):
        tb = os.path.join(tmp, "os" + ext)
        subprocess.run(["tar", "--format=posix", "--xattrs",
                        "--xattrs-include=*", "--acls", "--numeric-owner",
                        "-S", "-c", "-f", tb] + flag + ["-C", src, "."],
                       check=True)
        v = ext.replace(".", "")
        r = ok(call(d.sock, "template.import",
                    {"template": "os@" + v, "from": tb}))
        assert r["new_objects"] == 0, r      # the same contents
        got = manifest(d, "os@" + v).replace(b"template os@" + v.encode(), b"")
        assert got == want, (ext, got, want)
    assert os.listdir(os.path.join(d.store, "tmp")) == []
    assert d.stop() == 0


def test_export_then_import_elsewhere_is_identical(tmp):
    src = os.path.join(tmp, "src")
    make_tree(src)
    a = new_daemon(tmp, "a").start()
    ok(call(a.sock, "template.import", {"template": "os@1", "from": src}))
    cache = os.path.join(tmp, "os@1.tar.zst")
    rc, out, e = tplctl(a, "template", "export", "os@1", cache)
    assert rc == 0 and "written to " + cache in out, (out, e)
    with open(cache, "rb") as f:
        assert f.read(4) == b"\x28\xb5\x2f\xfd"        # zstd
    b = new_daemon(tmp, "b").start()
    ok(call(b.sock, "template.import", {"template": "os@1", "from": cache}))
    assert manifest(b, "os@1") == manifest(a, "os@1")
    assert objects(b) == objects(a)
    assert a.stop() == 0 and b.stop() == 0


def test_export_never_writes_through_a_planted_symlink(tmp):
    """A user who owns the export's directory plants symlinks at the
    temporary names an export used (FILE.tmp-PID): root's export must not
    write through them, and FILE ends up a real file, the tarball."""
    d, src = daemon_with_template(tmp)
    victim = os.path.join(tmp, "victim")
    w(victim, b"root's file\n", 0o600)
    out = os.path.join(tmp, "userdir")
    os.makedirs(out)
    os.chown(out, 65534, 65534)
    cache = os.path.join(out, "os.tar.zst")
    os.symlink(victim, "%s.tmp-%d" % (cache, d.proc.pid))
    os.symlink(victim, cache)      # FILE itself a symlink: replaced, not followed
    ok(call(d.sock, "template.export", {"template": "os@1", "file": cache}))
    with open(victim, "rb") as f:
        assert f.read() == b"root's file\n"
    assert stat.S_ISREG(os.lstat(cache).st_mode)
    with open(cache, "rb") as f:
        assert f.read(4) == b"\x28\xb5\x2f\xfd"
    # no temporary file left beside it (the planted one aside)
    assert sorted(os.listdir(out)) == sorted(
        ["os.tar.zst", "os.tar.zst.tmp-%d" % d.proc.pid]), os.listdir(out)
    err(call(d.sock, "template.export",
             {"template": "os@1", "file": out + "/"}), "bad_args")
    assert d.stop() == 0


def test_two_exports_to_one_file_at_once(tmp):
    """Both held once written, then both renamed: each gets its own
    temporary file, and FILE is a whole tarball of the template."""
    gate = Gate(tmp)
    d, _ = daemon_with_template(
        tmp, {"TPLFSD_TEST_PAUSE": gate.at("template.export:written")})
    cache = os.path.join(tmp, "os.tar.zst")
    socks = []
    for _ in range(2):
        s = connect(d.sock)
        s.send(json.dumps({"verb": "template.export", "args":
                           {"template": "os@1", "file": cache}}).encode())
        socks.append(s)
    tplproto.wait_until(
        lambda: d.logtext().count("test pause at template.export:written") == 2,
        "both exports written")
    gate.open()
    replies = [reply(s)[0] for s in socks]
    for s in socks:
        s.close()
    for r in replies:
        if not r["ok"]:     # the other renamed over it at once: said so
            assert "replaced by another writer" in err(r, "system"), r
    assert any(r["ok"] for r in replies), replies
    assert [n for n in os.listdir(tmp) if ".tmp" in n] == []
    b = new_daemon(tmp, "b").start()
    ok(call(b.sock, "template.import", {"template": "os@1", "from": cache}))
    assert manifest(b, "os@1") == manifest(d, "os@1")
    assert d.stop() == 0 and b.stop() == 0


def held_import(tmp, src, point):
    """A daemon importing @src as os@1, held at @point until the gate
    opens: (daemon, the importing client's socket, gate)."""
    gate = Gate(tmp)
    d = new_daemon(tmp, env={"TPLFSD_TEST_PAUSE": gate.at(point)})
    d.start()
    s = connect(d.sock)
    s.send(json.dumps({"verb": "template.import",
                       "args": {"template": "os@1", "from": src}}).encode())
    assert d.wait_log("test pause at " + point)
    return d, s, gate


def test_progress_and_others_served_during_an_import(tmp):
    src = os.path.join(tmp, "src")
    make_tree(src)
    # The import is held after its first file until the gate opens.
    d, s, gate = held_import(tmp, src, "template.import:file")
    # A listing is answered while the import runs.
    r = ok(call(d.sock, "ct.list"))
    assert r["containers"] == []
    assert ok(call(d.sock, "daemon.status"))["jobs"] == 1
    # Its client hears how far it got (at the daemon's next tick) before
    # the import goes on: one file of a total known from the walk, in
    # files and in bytes.
    files, size = tree_totals(src)
    first = tplproto.recv(s)
    while first is not None and first.get("what") == "walking the tree":
        first = tplproto.recv(s)
    assert first is not None and first["type"] == "progress", first
    assert first["what"] == "files imported", first
    assert (first["done"], first["total"]) == (1, files), (first, files)
    assert first["bytes_total"] == size, (first, size)
    assert 0 < first["bytes_done"] <= size, first
    gate.open()
    final, progress = reply(s)
    s.close()
    r = ok(final)
    assert (r["files"], r["bytes"]) == (files, size), (r, files, size)
    assert all(p["what"] == "files imported" for p in progress), progress
    dones = [(p["done"], p["bytes_done"]) for p in [first] + progress]
    assert dones == sorted(dones) and dones[-1][0] <= files, dones
    assert all(p["total"] == files and p["bytes_total"] == size
               for p in progress), progress
    assert d.stop() == 0


def test_a_tarball_import_reports_the_bytes_it_read(tmp):
    src = os.path.join(tmp, "src")
    make_tree(src)
    tb = os.path.join(tmp, "os.tar.gz")
    subprocess.run(["tar", "-czf", tb, "-C", src, "."], check=True)
    # held once the tarball is extracted, before the walk
    d, s, gate = held_import(tmp, tb, "template.import:begun")
    size = os.path.getsize(tb)

    def whole():
        p = tplproto.recv(s)
        assert p["what"] == "tarball extracted", p
        assert p["bytes_total"] == size and p["bytes_done"] <= size, p
        return p["bytes_done"] == size
    tplproto.wait_until(whole, "progress: the whole tarball read")
    gate.open()
    final, _ = reply(s)
    s.close()
    ok(final)
    assert d.stop() == 0


def tree_totals(root):
    """Regular files (inodes, not links) under root and their bytes."""
    seen = set()
    for top, dirs, names in os.walk(root):
        for n in names:
            st = os.lstat(os.path.join(top, n))
            if stat.S_ISREG(st.st_mode):
                seen.add((st.st_ino, st.st_size))
    return len(seen), sum(sz for _, sz in seen)


def test_two_hosts_import_the_same_content_at_once(tmp):
    """Two daemons (two hosts) on one store import the same tree at once:
    both succeed, every object is stored once, and gc waits for both."""
    src = os.path.join(tmp, "src")
    make_tree(src)
    # Both imports are held after their first file until the gate opens:
    # both are under way at once, however fast each of them goes.
    gate = Gate(tmp)
    env = {"TPLFSD_TEST_PAUSE": gate.at("template.import:file")}
    a, b = new_daemon(tmp, "a", env), new_daemon(tmp, "b", env)
    b.store = a.store
    a.start()
    b.start()
    sa, sb = connect(a.sock), connect(b.sock)
    for s, t in ((sa, "os@a"), (sb, "os@b")):
        s.send(json.dumps({"verb": "template.import",
                           "args": {"template": t, "from": src}}).encode())
    assert a.wait_log("test pause at template.import:file")
    assert b.wait_log("test pause at template.import:file")
    # gc must not run while an import has objects no manifest names yet
    m = err(call(a.sock, "store.gc"), "busy")
    assert "an import is under way" in m, m
    gate.open()
    ra, rb = ok(reply(sa)[0]), ok(reply(sb)[0])
    sa.close()
    sb.close()
    assert ra["new_objects"] + rb["new_objects"] == 8, (ra, rb)
    assert objects(a) == 8
    assert manifest(a, "os@a").replace(b"os@a", b"") == \
        manifest(a, "os@b").replace(b"os@b", b"")
    r = ok(call(b.sock, "store.gc"))
    assert r["removed"] == 0 and r["kept"] == 8, r
    assert a.stop() == 0 and b.stop() == 0


# --- containers ---------------------------------------------------------------

def test_container_lifecycle(tmp):
    d, src = daemon_with_template(tmp)
    rc, out, e = tplctl(d, "ct", "create", "web1", "--template", "os@1")
    assert rc == 0, e
    assert "web1: created from os@1, a linked clone (22 entries: 7 stubs, 2 private copies)" in out, out
    fs = os.path.join(d.root, "private", "web1", "fs")
    st = os.lstat(fs + "/usr/bin/tool")
    assert st.st_size == 0 and st.st_mode & 0o7777 == 0o4755
    assert os.getxattr(fs + "/usr/bin/tool", "security.capability") == CAP
    assert len(os.getxattr(fs + "/usr/bin/tool", "trusted.tplfs.origin")) == 48
    assert os.lstat(fs + "/usr/bin/tool-link").st_ino == st.st_ino
    with open(fs + "/etc/hostname", "rb") as f:
        assert f.read() == b"template\n"          # always private: a copy
    assert os.readlink(fs + "/bin") == "usr/bin"
    assert os.lstat(fs + "/dev/null").st_rdev == os.makedev(1, 3)
    assert os.stat(fs + "/etc").st_mtime_ns == 1600000000123456789
    with open(os.path.join(d.root, "private", "web1", "ct.conf")) as f:
        assert "template = os@1\n" in f.read()
    lst = ok(call(d.sock, "ct.list"))["containers"]
    assert [c["id"] for c in lst] == ["web1"] and lst[0]["template"] == "os@1"
    stt = ok(call(d.sock, "ct.status", {"id": "web1"}))
    assert stt["inodes"] >= 20 and 0 < stt["disk_bytes"] < 400 * 1024, stt
    # ct status and the quota count the same tree with the same walker
    q = ok(call(d.sock, "ct.quota", {"id": "web1"}))
    assert (stt["disk_bytes"], stt["inodes"]) == \
        (q["bytes"]["used"], q["inodes"]["used"]), (stt, q)
    rc, out, _ = tplctl(d, "ct", "status", "web1")
    assert "disk " in out and "inodes" in out, out
    # The template is in use: rm is refused, the container is kept.
    m = err(call(d.sock, "template.rm", {"template": "os@1"}), "busy")
    assert "used by 1 container(s), web1" in m, m
    err(call(d.sock, "ct.create", {"id": "web1", "template": "os@1"}), "exists")
    rc, out, e = tplctl(d, "ct", "destroy", "web1")
    assert rc == 0, e
    assert os.listdir(os.path.join(d.root, "private")) == []
    ok(call(d.sock, "template.rm", {"template": "os@1"}))
    assert ok(call(d.sock, "template.list"))["templates"] == []
    r = ok(call(d.sock, "store.gc"))
    assert r["removed"] == 8 and r["kept"] == 0, r
    assert objects(d) == 0
    assert d.stop() == 0


def du(path):
    """Unique inodes and st_blocks * 512 under path, as the quota counts."""
    seen, total = set(), 0
    for top, dirs, files in os.walk(path):
        names = [top] if top == path else []
        for p in names + [os.path.join(top, n) for n in dirs + files]:
            st = os.lstat(p)
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_blocks * 512
    return total, len(seen)


def test_quota_of_an_unmounted_container(tmp):
    d, src = daemon_with_template(tmp)
    rc, _, e = tplctl(d, "ct", "create", "web1", "--template", "os@1",
                      "--quota", "1G:1.5G", "--inodes", "100K", "--grace", "1d12h")
    assert rc == 0, e
    priv = os.path.join(d.root, "private", "web1")
    with open(priv + "/ct.conf") as f:
        conf = f.read()
    assert "quota_bytes = 1073741824:1610612736\n" in conf, conf
    assert "quota_inodes = 102400:102400\n" in conf, conf
    assert "quota_grace = 129600\n" in conf, conf
    # Its usage was counted at creation: the first mount needs no scan.
    q = ok(call(d.sock, "ct.quota", {"id": "web1"}))
    assert (q["bytes"]["used"], q["inodes"]["used"]) == du(priv + "/fs"), q
    assert q["usage_from"] == "checkpoint" and q["exact"] and not q["mounted"], q
    assert q["bytes"]["soft"] == 1 << 30 and q["bytes"]["state"] == "ok", q
    rc, out, _ = tplctl(d, "ct", "quota", "web1")
    assert "not mounted, usage as last saved" in out and "1d12h" in out, out
    assert "1.0 GiB" in out and "1.5 GiB" in out, out
    # A change goes to ct.conf (not mounted: nothing else to do).
    rc, _, e = tplctl(d, "ct", "quota", "web1", "--set", "2G", "--inodes", "0")
    assert rc == 0, e
    q = ok(call(d.sock, "ct.quota", {"id": "web1"}))
    assert (q["bytes"]["soft"], q["bytes"]["hard"], q["inodes"]["hard"]) == \
        (2 << 30, 2 << 30, 0), q
    assert q["grace"] == 129600, q
    # Bad input: a usage error from tplctl, bad_args from the daemon.
    rc, _, e = tplctl(d, "ct", "quota", "web1", "--set", "3G:2G")
    assert rc == 2 and "SOFT <= HARD" in e, (rc, e)
    m = err(call(d.sock, "ct.quota", {"id": "web1", "grace": "soon"}), "bad_args")
    assert "duration" in m, m
    err(call(d.sock, "ct.quota", {"id": "nope"}), "not_found")
    with open(priv + "/ct.conf", "a") as f:
        f.write("quota_bytes = lots\n")
    m = err(call(d.sock, "ct.quota", {"id": "web1"}), "system")
    assert "quota_bytes" in m and "lots" in m, m
    assert d.stop() == 0


def test_gc_keeps_what_templates_name(tmp):
    d, src = daemon_with_template(tmp)
    stray = os.path.join(d.store, "objects", "ab")
    os.makedirs(stray, exist_ok=True)
    w(os.path.join(stray, "c" * 62), b"nobody names me")
    r = ok(call(d.sock, "store.gc"))
    assert r["removed"] == 1 and r["kept"] == 8, r
    ok(call(d.sock, "ct.create", {"id": "a", "template": "os@1"}))
    assert d.stop() == 0


def test_each_container_has_its_own_identity_and_the_store_is_roots(tmp):
    """The template's machine-id and ssh host keys were every container's,
    and its 0600 files were readable by any user in 0444 objects of a
    0755 store."""
    src = os.path.join(tmp, "src")
    make_tree(src)
    w(src + "/etc/machine-id", b"0123456789abcdef0123456789abcdef\n", 0o444)
    os.makedirs(src + "/etc/ssh")
    for t in ("rsa", "ed25519"):
        subprocess.run(["ssh-keygen", "-q", "-N", "", "-t", t, "-f",
                        src + "/etc/ssh/ssh_host_%s_key" % t], check=True)
    d = new_daemon(tmp).start()
    ok(call(d.sock, "template.import", {"template": "os@1", "from": src}))
    objects_dir = os.path.join(d.store, "objects")
    assert os.stat(objects_dir).st_mode & 0o777 == 0o700
    some = next(os.path.join(t, n) for t, _, ns in os.walk(objects_dir)
                for n in ns)
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534",
                        "--clear-groups", "cat", some], capture_output=True)
    assert p.returncode != 0 and b"Permission denied" in p.stderr, p
    seen_ids, seen_keys = set(), set()
    for ct in ("c1", "c2"):
        r = ok(call(d.sock, "ct.create", {"id": ct, "template": "os@1"}))
        assert r["ssh_host_keys"] == "rsa ed25519", r
        assert r["ssh_host_keys_removed"] == "", r
        fs = os.path.join(d.root, "private", ct, "fs")
        with open(fs + "/etc/machine-id") as f:
            mid = f.read()
        assert re.fullmatch(r"[0-9a-f]{32}\n", mid), mid
        assert mid[:32] == r["machine_id"], (mid, r)
        assert mid != "0123456789abcdef0123456789abcdef\n"
        seen_ids.add(mid)
        for t in ("rsa", "ed25519"):
            key = fs + "/etc/ssh/ssh_host_%s_key" % t
            st = os.lstat(key)
            assert st.st_mode & 0o777 == 0o600 and st.st_size > 0, st
            assert "trusted.tplfs.origin" not in os.listxattr(key)
            with open(key, "rb") as f:
                k = f.read()
            with open(src + "/etc/ssh/ssh_host_%s_key" % t, "rb") as f:
                assert k != f.read()
            seen_keys.add(k)
            pub = subprocess.run(["ssh-keygen", "-y", "-f", key],
                                 capture_output=True, check=True).stdout
            with open(key + ".pub", "rb") as f:
                assert f.read().split()[:2] == pub.split()[:2]
    assert len(seen_ids) == 2 and len(seen_keys) == 4
    assert d.stop() == 0
    # no ssh-keygen on the host: the template's keys still do not stay
    d = new_daemon(tmp, env={"PATH": "/nonexistent"}).start()
    r = ok(call(d.sock, "ct.create", {"id": "c3", "template": "os@1"}))
    assert (r["ssh_host_keys"], r["ssh_host_keys_removed"]) == \
        ("", "rsa ed25519"), r
    ssh = os.path.join(d.root, "private", "c3", "fs", "etc", "ssh")
    assert [n for n in os.listdir(ssh) if "host" in n] == [], os.listdir(ssh)
    assert "run ssh-keygen -A in the container" in d.logtext()
    assert d.stop() == 0


def test_gc_dry_run_lists_and_removes_nothing(tmp):
    d, src = daemon_with_template(tmp)
    stray = os.path.join(d.store, "objects", "ab", "c" * 62)
    os.makedirs(os.path.dirname(stray), exist_ok=True)
    w(stray, b"nobody names me")
    r = ok(call(d.sock, "store.gc", {"dry_run": True}))
    assert r["dry_run"] and r["removed"] == 1 and r["kept"] == 8, r
    assert r["objects"] == ["ab" + "c" * 62], r
    assert os.path.exists(stray)
    rc, out, _ = tplctl(d, "store", "gc", "--dry-run")
    assert rc == 0 and "1 objects would be removed" in out, out
    assert "ab" + "c" * 62 in out and os.path.exists(stray), out
    err(call(d.sock, "store.gc", {"dry_run": "yes"}), "bad_args")
    r = ok(call(d.sock, "store.gc"))
    assert not r["dry_run"] and r["removed"] == 1, r
    assert not os.path.exists(stray)
    assert d.stop() == 0


def test_a_container_whose_template_cannot_be_told_blocks_rm_and_gc(tmp):
    """A missing or bad ct.conf used to count as 'uses nothing': template
    rm went ahead and store gc deleted objects its stubs still named."""
    d, src = daemon_with_template(tmp)
    ok(call(d.sock, "ct.create", {"id": "web1", "template": "os@1"}))
    objects_before = objects(d)
    conf = os.path.join(d.root, "private", "web1", "ct.conf")
    with open(conf, "rb") as f:
        good = f.read()
    for broken in (None, b"template = \x00\n= =\n"):
        if broken is None:
            os.unlink(conf)
        else:
            w(conf, broken)
        m = err(call(d.sock, "template.rm", {"template": "os@1"}), "busy")
        assert "web1 (" in m and "template rm refused" in m, m
        m = err(call(d.sock, "store.gc"), "busy")
        assert "web1 (" in m and "store gc refused" in m, m
        assert objects(d) == objects_before
    # a ct.conf naming a template the store does not hold
    w(conf, good.replace(b"os@1", b"gone@1"))
    m = err(call(d.sock, "store.gc"), "busy")
    assert "web1 names template gone@1" in m, m
    assert objects(d) == objects_before
    w(conf, good)
    assert ok(call(d.sock, "store.gc"))["removed"] == 0
    assert d.stop() == 0


def privatize(path, data):
    """What a container's own write leaves: the stub made a private file
    holding @data, in the same inode."""
    os.removexattr(path, "trusted.tplfs.origin")
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(data)


def origin_of(path):
    try:
        return os.getxattr(path, "trusted.tplfs.origin")
    except OSError:
        return None


def test_relink_an_unmounted_container(tmp):
    """ct relink: private files equal to an object of the container's
    template, or of one named with --against (then recorded in ct.conf and
    so in use), become stubs again, in their own inode; everything else is
    left; --dry-run changes nothing."""
    d, src = daemon_with_template(tmp)
    src2 = os.path.join(tmp, "src2")
    make_tree(src2, variant=b"VERSION=2\n")
    ok(call(d.sock, "template.import", {"template": "os@2", "from": src2}))
    ok(call(d.sock, "ct.create", {"id": "web1", "template": "os@1"}))
    fs = os.path.join(d.root, "private", "web1", "fs")
    conf = os.path.join(d.root, "private", "web1", "ct.conf")
    # the container ran the update itself, copied a file up unchanged,
    # and has a file of its own and its always-private hostname
    privatize(fs + "/etc/os-release", b"NAME=test\nVERSION=2\n")
    privatize(fs + "/usr/bin/same-a", b"same bytes\n")
    os.chown(fs + "/usr/bin/same-a", 1000, 1000)
    os.utime(fs + "/usr/bin/same-a", ns=(1500000000000000000, 1500000000000000000))
    w(fs + "/usr/bin/mine", b"my own bytes\n")
    ino = os.lstat(fs + "/usr/bin/same-a").st_ino

    rc, out, e = tplctl(d, "ct", "relink", "web1", "--dry-run")
    assert rc == 0, e
    assert "  /usr/bin/same-a\n" in out, out
    assert "web1: 1 files would be relinked" in out, out
    assert origin_of(fs + "/usr/bin/same-a") is None

    r = ok(call(d.sock, "ct.relink", {"id": "web1"}))
    assert (r["relinked"], r["paths"]) == (1, ["/usr/bin/same-a"]), r
    st = os.lstat(fs + "/usr/bin/same-a")
    assert origin_of(fs + "/usr/bin/same-a") is not None
    assert (st.st_ino, st.st_size, st.st_uid, st.st_mtime_ns) == \
        (ino, 0, 1000, 1500000000000000000), st
    assert origin_of(fs + "/etc/os-release") is None    # os@2's content
    assert "uses" not in open(conf).read()

    r = ok(call(d.sock, "ct.relink", {"id": "web1", "against": ["os@2"]}))
    assert r["paths"] == ["/etc/os-release"], r
    assert origin_of(fs + "/etc/os-release") is not None
    assert origin_of(fs + "/usr/bin/mine") is None
    with open(fs + "/etc/hostname", "rb") as f:
        assert f.read() == b"template\n"                 # always private
    assert "uses = os@2\n" in open(conf).read()
    # the usage it keeps for the container is what it uses now
    q = ok(call(d.sock, "ct.quota", {"id": "web1"}))
    s = ok(call(d.sock, "ct.status", {"id": "web1", "scan": True}))
    assert q["bytes"]["used"] == s["disk_bytes"], (q, s)
    # os@2 is in use now: its objects are what web1's stubs name
    m = err(call(d.sock, "template.rm", {"template": "os@2"}), "busy")
    assert "web1" in m, m
    assert ok(call(d.sock, "ct.relink", {"id": "web1"}))["relinked"] == 0

    err(call(d.sock, "ct.relink", {"id": "web1", "against": ["gone@1"]}),
        "not_found")
    err(call(d.sock, "ct.relink", {"id": "web1", "against": ["bad"]}),
        "bad_args")
    err(call(d.sock, "ct.relink", {"id": "web1", "against": "os@2"}),
        "bad_args")
    err(call(d.sock, "ct.relink", {"id": "nosuch"}), "not_found")
    ok(call(d.sock, "ct.destroy", {"id": "web1"}))
    ok(call(d.sock, "template.rm", {"template": "os@2"}))
    assert d.stop() == 0


def shown(d, path):
    """The bytes a container shows at @path: a stub's object's, or its own."""
    o = origin_of(path)
    if o is None:
        with open(path, "rb") as f:
            return f.read()
    h = o[16:48].hex()
    with open(os.path.join(d.store, "objects", h[:2], h[2:]), "rb") as f:
        return f.read()


def template_v2(tmp, d):
    """os@2: os@1 updated: os-release, same-b and the always-private hosts
    changed, a new file, one gone."""
    src2 = os.path.join(tmp, "src2")
    make_tree(src2, variant=b"VERSION=2\n")
    w(src2 + "/etc/hosts", b"127.0.0.1 localhost v2\n")
    w(src2 + "/usr/bin/same-b", b"same-b v2\n")
    w(src2 + "/usr/bin/new", b"new in 2\n", 0o755)
    os.unlink(src2 + "/usr/bin/same-a")
    ok(call(d.sock, "template.import", {"template": "os@2", "from": src2}))


def change_container(fs):
    """What a container does to its files: same-b its own, a mode of its
    own on os-release, a file of its own, a symlink removed."""
    privatize(fs + "/usr/bin/same-b", b"10.0.0.1 mine\n")
    os.chmod(fs + "/etc/os-release", 0o600)
    w(fs + "/usr/bin/mine", b"my own bytes\n")
    os.unlink(fs + "/etc/abs-link")


def check_rebased(d, fs):
    assert shown(d, fs + "/etc/os-release") == b"NAME=test\nVERSION=2\n"
    assert os.lstat(fs + "/etc/os-release").st_mode & 0o7777 == 0o600
    assert shown(d, fs + "/usr/bin/same-b") == b"10.0.0.1 mine\n"
    # always private, unchanged in the container: theirs, private still
    assert shown(d, fs + "/etc/hosts") == b"127.0.0.1 localhost v2\n"
    assert origin_of(fs + "/etc/hosts") is None
    assert shown(d, fs + "/usr/bin/new") == b"new in 2\n"
    assert origin_of(fs + "/usr/bin/new") is not None
    assert not os.path.lexists(fs + "/usr/bin/same-a")
    assert not os.path.lexists(fs + "/etc/abs-link")
    assert shown(d, fs + "/usr/bin/mine") == b"my own bytes\n"
    # a file the update left alone keeps its stub, xattrs and links
    assert os.getxattr(fs + "/usr/bin/tool", "user.note") == b"a\x00b"
    assert os.lstat(fs + "/usr/bin/tool").st_ino == \
        os.lstat(fs + "/usr/bin/tool-link").st_ino


def test_rebase_an_unmounted_container(tmp):
    """ct rebase: a container moves to os@2 keeping what it changed; a
    conflict is reported and kept; the report is kept in its private area;
    a second rebase changes nothing; the old version is then free."""
    d, src = daemon_with_template(tmp)
    template_v2(tmp, d)
    ok(call(d.sock, "ct.create", {"id": "web1", "template": "os@1"}))
    priv = os.path.join(d.root, "private", "web1")
    fs = priv + "/fs"
    change_container(fs)
    ino = os.lstat(fs + "/etc/os-release").st_ino

    rc, out, e = tplctl(d, "ct", "rebase", "web1", "--to", "os@2", "--dry-run")
    assert rc == 0, e
    assert "conflict /usr/bin/same-b: changed in both" in out, out
    assert "web1: would be rebased from os@1 to os@2" in out, out
    assert shown(d, fs + "/etc/os-release") == b"NAME=test\n"

    rc, out, e = tplctl(d, "ct", "rebase", "web1", "--to", "os@2")
    assert rc == 0, e
    assert "report: %s/rebase.report" % priv in out, out
    check_rebased(d, fs)
    assert os.lstat(fs + "/etc/os-release").st_ino == ino
    conf = open(priv + "/ct.conf").read()
    assert "template = os@2\n" in conf and "uses" not in conf, conf
    report = open(priv + "/rebase.report").read()
    assert "conflict /usr/bin/same-b: changed in both" in report, report
    assert "created /usr/bin/new: new in the template" in report, report
    assert "removed /usr/bin/same-a" in report, report
    assert not os.path.exists(priv + "/rebase.stage")
    # to the same version again: nothing
    r = ok(call(d.sock, "ct.rebase", {"id": "web1", "to": "os@2"}))
    assert r["updated"] + r["created"] + r["removed"] + r["conflicts"] == 0, r
    # its usage is measured again
    q = ok(call(d.sock, "ct.quota", {"id": "web1"}))
    s = ok(call(d.sock, "ct.status", {"id": "web1", "scan": True}))
    assert q["bytes"]["used"] == s["disk_bytes"], (q, s)
    # no stub names os@1's objects any more: it can go
    ok(call(d.sock, "template.rm", {"template": "os@1"}))

    err(call(d.sock, "ct.rebase", {"id": "web1", "to": "nope@1"}), "not_found")
    err(call(d.sock, "ct.rebase", {"id": "web1", "to": "bad"}), "bad_args")
    err(call(d.sock, "ct.rebase", {"id": "nosuch", "to": "os@2"}), "not_found")
    err(call(d.sock, "ct.rebase", {"id": "web1"}), "bad_args")
    rc, out, e = tplctl(d, "ct", "rebase", "web1")
    assert rc == 2 and "--to" in e, e
    assert d.stop() == 0


def test_rebase_and_relink_replies_fit_in_a_message(tmp):
    """A rebase with more conflicts, and a relink of more files, than one
    message can list (long names): the reply still comes, listing what
    fits (items_all_listed, paths_all_listed false); the report file has
    every path. A real update made this: dpkg run in a container."""
    src = os.path.join(tmp, "src")
    make_tree(src)
    names = ["f%03d-%s" % (i, "n" * 240) for i in range(400)]
    os.makedirs(src + "/many")
    for n in names:
        w(src + "/many/" + n, b"v1 " + n.encode())
    d = new_daemon(tmp).start()
    ok(call(d.sock, "template.import", {"template": "os@1", "from": src}))
    for n in names:
        w(src + "/many/" + n, b"v2 " + n.encode())
    ok(call(d.sock, "template.import", {"template": "os@2", "from": src}))
    ok(call(d.sock, "ct.create", {"id": "web1", "template": "os@1"}))
    fs = os.path.join(d.root, "private", "web1", "fs")
    for n in names:
        privatize(fs + "/many/" + n, b"mine " + n.encode())
    r = ok(call(d.sock, "ct.rebase", {"id": "web1", "to": "os@2"}))
    assert r["conflicts"] == 400, r
    assert 0 < len(r["items"]) < 400 and not r["items_all_listed"], len(r["items"])
    report = open(os.path.join(d.root, "private", "web1",
                               "rebase.report")).read()
    assert report.count("conflict /many/f") == 400
    rc, out, e = tplctl(d, "ct", "rebase", "web1", "--to", "os@2")
    assert rc == 0 and "web1: rebased from os@2 to os@2" in out, (out, e)

    # relink: the container's files made equal to os@2's again
    for n in names:
        with open(fs + "/many/" + n, "wb") as f:
            f.write(b"v2 " + n.encode())
    r = ok(call(d.sock, "ct.relink", {"id": "web1"}))
    assert r["relinked"] == 400, r
    assert 0 < len(r["paths"]) < 400 and not r["paths_all_listed"], len(r["paths"])
    r = ok(call(d.sock, "ct.relink", {"id": "web1"}))
    assert r["relinked"] == 0 and r["paths_all_listed"], r
    assert d.stop() == 0


def test_rebase_killed_is_finished_at_the_next_start(tmp):
    """kill -9 in the middle of a rebase (after its first updated path):
    the next start finishes it from the journal."""
    d, src = daemon_with_template(tmp)
    template_v2(tmp, d)
    for ct in ("a1", "a2", "b1"):
        ok(call(d.sock, "ct.create", {"id": ct, "template": "os@1"}))
        change_container(os.path.join(d.root, "private", ct, "fs"))
    assert d.stop() == 0
    d.env["TPLFSD_TEST_PAUSE"] = "ct.rebase:updated-one"
    d.start()
    s = connect(d.sock)
    s.send(b'{"verb":"ct.rebase","args":{"id":"a1","to":"os@2"}}')
    assert d.wait_log("test pause at ct.rebase:updated-one")
    d.proc.kill()
    d.proc.wait()
    s.close()
    assert d.journal() == ["ct-a1.json"]
    d.env.pop("TPLFSD_TEST_PAUSE")
    d.start()
    assert "recovery: ct a1 rebased from os@1 to os@2: finished" in \
        d.logtext(), d.logtext()
    assert d.journal() == []
    priv = os.path.join(d.root, "private", "a1")
    check_rebased(d, priv + "/fs")
    assert "template = os@2\n" in open(priv + "/ct.conf").read()
    # --all --from: the others of os@1, with progress
    rc, out, e = tplctl(d, "ct", "rebase", "--all", "--from", "os@1",
                        "--to", "os@2")
    assert rc == 0, e
    assert "[1/2] ct rebase a2" in e and "[2/2] ct rebase b1" in e, e
    assert "2 containers of os@1: 2 rebased, 0 failed" in out, out
    for ct in ("a2", "b1"):
        check_rebased(d, os.path.join(d.root, "private", ct, "fs"))
    ok(call(d.sock, "template.rm", {"template": "os@1"}))
    assert d.stop() == 0


def test_publish_a_container_then_rebase_the_others(tmp):
    """template publish --from-ct: a container where an update was run
    becomes os@2; only what it changed is stored (its stubs are their
    objects); the others of os@1 are rebased onto it; a missing container
    and an existing version are refused."""
    d, src = daemon_with_template(tmp)
    for ct in ("maint", "web1"):
        ok(call(d.sock, "ct.create", {"id": ct, "template": "os@1"}))
    mfs = os.path.join(d.root, "private", "maint", "fs")
    n = objects(d)
    # the update: a file changed, one new, one removed
    privatize(mfs + "/etc/os-release", b"NAME=test\nVERSION=2\n")
    w(mfs + "/usr/bin/new", b"new in 2\n", 0o755)
    os.unlink(mfs + "/usr/bin/same-a")
    rc, out, e = tplctl(d, "template", "publish", "os@2", "--from-ct", "maint")
    assert rc == 0, e
    assert out.startswith("os@2: "), out
    assert objects(d) == n + 2, (n, objects(d))      # os-release, new
    m1 = manifest(d, "os@1").decode(errors="replace")
    m2 = manifest(d, "os@2").decode(errors="replace")
    tool = [ln for ln in m1.splitlines() if ln.startswith("/usr/bin/tool ")]
    assert tool and tool[0] in m2.splitlines(), (tool, m2)
    assert "/usr/bin/new f " in m2 and "/usr/bin/same-a " not in m2, m2
    # the always-private paths are the template's
    assert [ln for ln in m1.splitlines() if ln.startswith("private ")] == \
        [ln for ln in m2.splitlines() if ln.startswith("private ")]
    r = ok(call(d.sock, "ct.rebase", {"id": "web1", "to": "os@2"}))
    assert r["conflicts"] == 0 and r["created"] == 1, r
    fs = os.path.join(d.root, "private", "web1", "fs")
    assert shown(d, fs + "/etc/os-release") == b"NAME=test\nVERSION=2\n"
    assert shown(d, fs + "/usr/bin/new") == b"new in 2\n"
    assert not os.path.lexists(fs + "/usr/bin/same-a")

    err(call(d.sock, "template.publish", {"template": "os@2",
                                          "from_ct": "maint"}), "exists")
    err(call(d.sock, "template.publish", {"template": "os@3",
                                          "from_ct": "nosuch"}), "not_found")
    rc, out, e = tplctl(d, "template", "publish", "os@3")
    assert rc == 2 and "--from-ct" in e, e
    assert d.stop() == 0


def mline(d, tpl, path):
    """The manifest line of @path in @tpl."""
    for ln in manifest(d, tpl).split(b"\n"):
        if ln.split(b" ")[0] == path.encode():
            return ln
    return None


def test_maintenance_mode_from_maintain_to_publish_and_rebase(tmp):
    """template maintain gives os a maintenance container; while it is in
    maintenance a create from the bare name is refused (a named version is
    not); publish from it ends the maintenance, keeps its identity out of
    os@2 and --rebase all moves the containers of os@1 onto os@2; the bare
    name is then its highest version (numbers compared as numbers)."""
    src = os.path.join(tmp, "src")
    make_tree(src)
    w(src + "/etc/machine-id", b"0123456789abcdef0123456789abcdef\n", 0o444)
    os.makedirs(src + "/etc/ssh")
    subprocess.run(["ssh-keygen", "-q", "-N", "", "-t", "ed25519", "-f",
                    src + "/etc/ssh/ssh_host_ed25519_key"], check=True)
    d = new_daemon(tmp).start()
    ok(call(d.sock, "template.import", {"template": "os@1", "from": src}))
    for ct in ("web1", "web2"):
        ok(call(d.sock, "ct.create", {"id": ct, "template": "os"}))
    assert ok(call(d.sock, "ct.status", {"id": "web1"}))["template"] == "os@1"

    rc, out, e = tplctl(d, "template", "maintain", "os@1")
    assert rc == 0, e
    assert "container os-maint (made)" in out, out
    mt = ok(call(d.sock, "template.show", {"template": "os@1"}))["maintenance"]
    assert mt["ct"] == "os-maint" and mt["made"], mt
    rc, out, e = tplctl(d, "template", "show", "os@1")
    assert "maintenance container os-maint" in out, out
    m = err(call(d.sock, "ct.create", {"id": "web3", "template": "os"}),
            "maintenance")
    assert "os-maint" in m, m
    ok(call(d.sock, "ct.create", {"id": "web3", "template": "os@1"}))
    err(call(d.sock, "template.maintain", {"template": "os@1", "ct": "web1"}),
        "maintenance")

    # the update, in the maintenance container
    mfs = os.path.join(d.root, "private", "os-maint", "fs")
    privatize(mfs + "/etc/os-release", b"NAME=test\nVERSION=2\n")
    w(mfs + "/usr/bin/new", b"new in 2\n", 0o755)
    assert shown(d, mfs + "/etc/machine-id") != \
        b"0123456789abcdef0123456789abcdef\n"      # its own, from create
    rc, out, e = tplctl(d, "template", "publish", "os@2", "--from-ct",
                        "os-maint", "--rebase", "all")
    assert rc == 0, (out, e)
    assert "made from os@1 by container os-maint; its maintenance ended" \
        in out, out
    assert "4 containers rebased onto os@2, 0 failed" in out, out
    for path in ("/etc/machine-id", "/etc/ssh/ssh_host_ed25519_key",
                 "/etc/ssh/ssh_host_ed25519_key.pub", "/etc/hostname"):
        assert mline(d, "os@2", path) == mline(d, "os@1", path), path
    assert mline(d, "os@2", "/usr/bin/new") is not None
    assert ok(call(d.sock, "template.show",
                   {"template": "os@1"}))["maintenance"] is None
    for ct in ("web1", "web2", "web3", "os-maint"):
        st = ok(call(d.sock, "ct.status", {"id": ct}))
        assert st["template"] == "os@2", (ct, st)
        fs = os.path.join(d.root, "private", ct, "fs")
        assert shown(d, fs + "/etc/os-release") == b"NAME=test\nVERSION=2\n"
    # each kept its own identity through the rebase
    ids = {shown(d, os.path.join(d.root, "private", ct, "fs",
                                 "etc/machine-id"))
           for ct in ("web1", "web2", "web3", "os-maint")}
    assert len(ids) == 4, ids
    # the bare name: the highest version, 10 after 2
    ok(call(d.sock, "template.import", {"template": "os@10", "from": src}))
    r = ok(call(d.sock, "ct.create", {"id": "web4", "template": "os"}))
    assert r["template"] == "os@10", r
    err(call(d.sock, "ct.create", {"id": "web5", "template": "nosuch"}),
        "not_found")
    err(call(d.sock, "ct.create", {"id": "web5", "template": "Bad!"}),
        "bad_args")
    assert d.stop() == 0


def test_maintenance_of_an_existing_container_and_abort(tmp):
    """template maintain --ct ID takes an existing container of that
    version (not one of another); --abort leaves maintenance and keeps the
    container; a bad --rebase list is a usage error."""
    d, src = daemon_with_template(tmp)
    ok(call(d.sock, "ct.create", {"id": "work", "template": "os@1"}))
    ok(call(d.sock, "template.import", {"template": "os@2", "from": src}))
    err(call(d.sock, "template.maintain", {"template": "os@2", "ct": "work"}),
        "bad_args")
    err(call(d.sock, "template.maintain", {"template": "os@9"}), "not_found")
    err(call(d.sock, "template.maintain", {"template": "os@1",
                                           "ct": "Bad id"}), "bad_args")
    r = ok(call(d.sock, "template.maintain", {"template": "os@1",
                                              "ct": "work"}))
    assert r["ct"] == "work" and not r["made"], r
    err(call(d.sock, "ct.create", {"id": "x", "template": "os"}),
        "maintenance")
    err(call(d.sock, "template.maintain", {"template": "os@2",
                                           "abort": True}), "not_found")
    rc, out, e = tplctl(d, "template", "maintain", "os", "--abort")
    assert rc == 0, e
    assert "container work kept" in out, out
    assert os.path.isdir(os.path.join(d.root, "private", "work"))
    r = ok(call(d.sock, "ct.create", {"id": "x", "template": "os"}))
    assert r["template"] == "os@2", r
    err(call(d.sock, "template.maintain", {"template": "os",
                                           "abort": True}), "not_found")
    rc, out, e = tplctl(d, "template", "publish", "os@3", "--from-ct",
                        "work", "--rebase", "a,B")
    assert rc == 2 and "not a container id" in e, e
    rc, out, e = tplctl(d, "template", "maintain", "os", "--abort", "--ct",
                        "work")
    assert rc == 2, e
    # publish --rebase of named containers only
    rc, out, e = tplctl(d, "template", "publish", "os@3", "--from-ct",
                        "work", "--rebase", "x")
    assert rc == 0, (out, e)
    assert "1 containers rebased onto os@3, 0 failed" in out, out
    assert "its maintenance ended" not in out, out
    assert ok(call(d.sock, "ct.status", {"id": "x"}))["template"] == "os@3"
    assert ok(call(d.sock, "ct.status", {"id": "work"}))["template"] == "os@1"
    # the maintenance container destroyed: the maintenance is over
    ok(call(d.sock, "template.maintain", {"template": "os@3"}))
    err(call(d.sock, "ct.create", {"id": "y", "template": "os"}),
        "maintenance")
    ok(call(d.sock, "ct.destroy", {"id": "os-maint"}))
    assert ok(call(d.sock, "template.show",
                   {"template": "os@3"}))["maintenance"] is None
    assert ok(call(d.sock, "ct.create", {"id": "y", "template": "os"}))[
        "template"] == "os@3"
    assert d.stop() == 0


def stubs_in(fs):
    """The paths of @fs that are stubs."""
    found = []
    for top, dirs, files in os.walk(fs):
        for n in files:
            if origin_of(os.path.join(top, n)) is not None:
                found.append(os.path.join(top, n))
    return found


def test_full_clones_and_unlink(tmp):
    """ct create --clone full holds private copies only (owner, set-id
    mode, capabilities, hard links and holes kept); ct unlink makes a
    linked clone full, keeping what it changed; a full clone rebased stays
    full; relinked, it is linked again."""
    d, src = daemon_with_template(tmp)
    r = ok(call(d.sock, "ct.create", {"id": "full1", "template": "os@1",
                                      "clone": "full"}))
    assert r["clone"] == "full" and r["stubs"] == 0 and r["copies"] == 9, r
    fs = os.path.join(d.root, "private", "full1", "fs")
    assert stubs_in(fs) == []
    with open(fs + "/usr/bin/tool", "rb") as f:
        assert f.read() == b"\x7fELF" + b"x" * 5000
    st = os.lstat(fs + "/usr/bin/tool")
    assert st.st_mode & 0o7777 == 0o4755, oct(st.st_mode)
    assert os.getxattr(fs + "/usr/bin/tool", "security.capability") == CAP
    assert st.st_ino == os.lstat(fs + "/usr/bin/tool-link").st_ino
    assert os.lstat(fs + "/var/sparse").st_blocks * 512 < (1 << 20)
    assert ok(call(d.sock, "ct.status", {"id": "full1"}))["clone"] == "full"
    rc, out, e = tplctl(d, "ct", "status", "full1")
    assert "clone      full" in out, out

    # a linked clone made full, with what it changed
    ok(call(d.sock, "ct.create", {"id": "web1", "template": "os@1"}))
    wfs = os.path.join(d.root, "private", "web1", "fs")
    privatize(wfs + "/usr/bin/same-b", b"mine\n")
    n = len(stubs_in(wfs))
    rc, out, e = tplctl(d, "ct", "unlink", "web1")
    assert rc == 0, e
    assert "made private copies" in out and "a full clone" in out, out
    assert stubs_in(wfs) == []
    with open(wfs + "/usr/bin/same-b", "rb") as f:
        assert f.read() == b"mine\n"
    with open(wfs + "/etc/os-release", "rb") as f:
        assert f.read() == b"NAME=test\n"
    assert os.getxattr(wfs + "/usr/bin/tool", "security.capability") == CAP
    assert os.lstat(wfs + "/usr/bin/tool").st_mode & 0o7777 == 0o4755
    assert os.lstat(wfs + "/usr/bin/tool").st_ino == \
        os.lstat(wfs + "/usr/bin/tool-link").st_ino
    st = ok(call(d.sock, "ct.status", {"id": "web1"}))
    assert st["clone"] == "full", st
    r = ok(call(d.sock, "ct.unlink", {"id": "web1"}))
    assert r["stubs"] == 0 and r["copied"] == 0, r
    assert n > 0

    # a full clone rebased: theirs copied in, still full, its changes kept
    template_v2(tmp, d)
    with open(fs + "/usr/bin/same-b", "r+b") as f:
        f.truncate(0)
        f.write(b"10.0.0.1 mine\n")
    r = ok(call(d.sock, "ct.rebase", {"id": "full1", "to": "os@2"}))
    assert r["clone"] == "full" and r["copied"] >= 2, r
    assert stubs_in(fs) == []
    with open(fs + "/etc/os-release", "rb") as f:
        assert f.read() == b"NAME=test\nVERSION=2\n"
    with open(fs + "/usr/bin/new", "rb") as f:
        assert f.read() == b"new in 2\n"
    with open(fs + "/usr/bin/same-b", "rb") as f:
        assert f.read() == b"10.0.0.1 mine\n"
    assert ok(call(d.sock, "ct.status", {"id": "full1"}))["clone"] == "full"
    # relinked: stubs again, a linked clone
    r = ok(call(d.sock, "ct.relink", {"id": "full1"}))
    assert r["relinked"] > 0 and r["clone"] == "linked", r
    assert stubs_in(fs) != []
    assert ok(call(d.sock, "ct.status", {"id": "full1"}))["clone"] == \
        "linked"

    err(call(d.sock, "ct.create", {"id": "x", "template": "os@1",
                                   "clone": "deep"}), "bad_args")
    rc, out, e = tplctl(d, "ct", "create", "x", "--template", "os@1",
                        "--clone", "deep")
    assert rc == 2 and "--clone" in e, e
    err(call(d.sock, "ct.unlink", {"id": "nosuch"}), "not_found")
    assert d.stop() == 0


def test_many_containers_cost_little(tmp):
    d, src = daemon_with_template(tmp)
    for i in range(20):
        ok(call(d.sock, "ct.create", {"id": "c%d" % i, "template": "os@1"}))
    lst = ok(call(d.sock, "ct.list"))["containers"]
    assert len(lst) == 20 and lst[0]["id"] == "c0"
    assert d.stop() == 0


def test_the_daemon_knows_its_containers_and_lists_them_in_parts(tmp):
    """ct.list and ct.status come from what the daemon keeps in memory
    (read at start, kept by its own operations); a listing longer than one
    message (64 KiB) used to be dropped, the client left waiting: it comes
    in parts, each saying where the next begins."""
    d, src = daemon_with_template(tmp)
    ok(call(d.sock, "ct.create", {"id": "web1", "template": "os@1"}))
    assert d.stop() == 0
    # 700 more with long ids, made while the daemon is stopped: found at start
    priv = os.path.join(d.root, "private")
    ids = ["web1"] + ["c%03d-" % i + "x" * 58 for i in range(700)]
    for i in ids[1:]:
        os.makedirs(os.path.join(priv, i, "fs"))
        w(os.path.join(priv, i, "ct.conf"), b"template = os@1\nbackend = dir\n")
    d.start()
    parts, after = [], None
    while True:
        r = ok(call(d.sock, "ct.list", {"after": after} if after else {}))
        parts.append(r["containers"])
        if "continue_after" not in r:
            break
        after = r["continue_after"]
        assert after == parts[-1][-1]["id"], r
    got = [c["id"] for p in parts for c in p]
    assert len(parts) > 1 and got == sorted(ids), (len(parts), len(got))
    assert all(c["template"] == "os@1" for p in parts for c in p)
    rc, out, e = tplctl(d, "ct", "list")
    assert rc == 0 and len(out.splitlines()) == 1 + len(ids), (rc, e)
    # ct.status from memory: the quota's figures as creation saved them
    stt = ok(call(d.sock, "ct.status", {"id": "web1"}))
    assert stt["usage_from"] == "checkpoint" and stt["usage_exact"], stt
    scan = ok(call(d.sock, "ct.status", {"id": "web1", "scan": True}))
    assert scan["usage_from"] == "scan", scan
    assert (scan["disk_bytes"], scan["inodes"]) == \
        (stt["disk_bytes"], stt["inodes"]), (scan, stt)
    rc, out, _ = tplctl(d, "ct", "status", "--scan", "web1")
    assert rc == 0 and "walked now" in out, out
    assert ok(call(d.sock, "ct.status", {"id": ids[5]}))["usage_from"] == "none"
    # the daemon's own operations keep it true
    ok(call(d.sock, "ct.destroy", {"id": ids[1]}))
    err(call(d.sock, "ct.status", {"id": ids[1]}), "not_found")
    ok(call(d.sock, "ct.create", {"id": "a0", "template": "os@1"}))
    first = ok(call(d.sock, "ct.list"))["containers"][0]
    assert first["id"] == "a0" and first["template"] == "os@1", first
    err(call(d.sock, "ct.list", {"after": 5}), "bad_args")
    err(call(d.sock, "ct.status", {"id": "web1", "scan": "yes"}), "bad_args")
    assert d.stop() == 0


def test_template_show(tmp):
    """template show NAME@VER: its files, bytes, objects, private paths and
    the containers made from it (an operator's verb, as vzpkg info)."""
    d, src = daemon_with_template(tmp)
    ok(call(d.sock, "ct.create", {"id": "web2", "template": "os@1"}))
    ok(call(d.sock, "ct.create", {"id": "web1", "template": "os@1"}))
    r = ok(call(d.sock, "template.show", {"template": "os@1"}))
    t = {t["template"]: t for t in
         ok(call(d.sock, "template.list"))["templates"]}["os@1"]
    for k in ("entries", "files", "bytes", "objects", "object_bytes"):
        assert r[k] == t[k], (k, r, t)
    assert r["containers"] == ["web1", "web2"], r
    assert r["private"] == ["/etc/hostname", "/etc/hosts",
                            "/etc/machine-id"], r
    rc, out, e = tplctl(d, "template", "show", "os@1")
    assert rc == 0 and "containers  web1 web2" in out, (out, e)
    # as a member of the read group would: no write needed; bad names refused
    err(call(d.sock, "template.show", {"template": "os@9"}), "not_found")
    err(call(d.sock, "template.show", {"template": "../x@1"}), "bad_args")
    err(call(d.sock, "template.show", {}), "bad_args")
    assert d.stop() == 0


def test_store_verify_finds_damage_and_repairs_nothing(tmp):
    d, src = daemon_with_template(tmp)
    r = ok(call(d.sock, "store.verify"))
    assert r["problems"] == 0 and r["templates"] == 1, r
    assert r["objects"] == objects(d) > 0, r
    rc, out, e = tplctl(d, "store", "verify")
    assert rc == 0 and "0 problem(s)" in out, (out, e)
    # one object's content changed (same size), one removed
    names = sorted(os.path.join(sub, n)
                   for sub in os.listdir(os.path.join(d.store, "objects"))
                   for n in os.listdir(os.path.join(d.store, "objects", sub)))
    bad, gone = (os.path.join(d.store, "objects", n) for n in names[:2])
    size = os.path.getsize(bad)
    os.chmod(bad, 0o644)
    with open(bad, "r+b") as f:
        f.write(b"X" if size else b"")
        if not size:
            f.write(b"X")
    os.unlink(gone)
    r = ok(call(d.sock, "store.verify"))
    assert r["problems"] >= 2, r
    text = "\n".join(r["found"])
    assert "content hashes to" in text and os.path.basename(bad) in text, r
    assert "names objects/" in text and os.path.basename(gone) in text, r
    rc, out, _ = tplctl(d, "store", "verify")
    assert rc == 1 and "problem(s)" in out, out
    assert os.path.exists(bad) and not os.path.exists(gone)   # nothing repaired
    assert d.stop() == 0


def daemon_held_at_populated(tmp):
    """A daemon with os@1 whose ct.create jobs wait at their gate once the
    entries are made; (daemon, gate, the template's entries)."""
    src = os.path.join(tmp, "src")
    make_tree(src)
    gate = Gate(tmp)
    d = new_daemon(tmp, env={"TPLFSD_TEST_PAUSE":
                             gate.at("ct.create:populated")}).start()
    entries = ok(call(d.sock, "template.import",
                      {"template": "os@1", "from": src}))["entries"]
    return d, gate, entries


def test_create_and_gc_tell_their_progress(tmp):
    """ct create says how many entries it has made, store gc how many object
    directories it has swept (at the daemon's tick)."""
    d, gate, entries = daemon_held_at_populated(tmp)
    s = connect(d.sock)
    s.send(json.dumps({"verb": "ct.create",
                       "args": {"id": "web1", "template": "os@1"}}).encode())
    assert d.wait_log("test pause at ct.create:populated")
    p = tplproto.recv(s)
    assert p is not None and p["type"] == "progress", p
    assert (p["what"], p["done"]) == ("entries made", entries), (p, entries)
    gate.open()
    final, _ = reply(s)
    s.close()
    assert ok(final)["entries"] == entries
    assert d.stop() == 0
    # and store gc, how many of the 256 object directories it has swept
    d.env["TPLFSD_TEST_PAUSE"] = gate.at("store.gc:swept-one")
    os.unlink(gate.path)
    d.start()
    s = connect(d.sock)
    s.send(json.dumps({"verb": "store.gc", "args": {}}).encode())
    assert d.wait_log("test pause at store.gc:swept-one")
    p = tplproto.recv(s)
    assert p is not None and p["type"] == "progress", p
    assert (p["what"], p["done"], p["total"]) == \
        ("object directories swept", 1, 256), p
    gate.open()
    final, _ = reply(s)
    s.close()
    ok(final)
    assert d.stop() == 0


def read_until(fd, text, what):
    """Read @fd (non-blocking) until @text has come; return what came."""
    os.set_blocking(fd, False)
    got = b""

    def more():
        nonlocal got
        try:
            got += os.read(fd, 4096)
        except BlockingIOError:
            pass
        return text.encode() in got
    tplproto.wait_until(more, lambda: "%s: %r in %r" % (what, text, got))
    return got.decode()


def test_tplctl_tells_progress_on_a_terminal_or_when_asked(tmp):
    """tplctl prints progress on stderr when stderr is a terminal or with
    --progress, with the count when no total is known; into a pipe or a
    file it prints none (a script's stderr holds only errors)."""
    import pty
    d, gate, entries = daemon_held_at_populated(tmp)
    line = "entries made: %d\n" % entries
    base = [TPLCTL, "--socket", d.sock]
    create = ["ct", "create", "--template", "os@1"]
    piped = subprocess.Popen(base + create + ["web1"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    d.wait_log("test pause at ct.create:populated")
    # web1 is held with its count made: its progress goes at the next tick,
    # before (or at) the tick that tells web2's (the daemon has two bulk
    # workers: a third create would wait for one)
    asked = subprocess.Popen(base + ["--progress"] + create + ["web2"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    said = read_until(asked.stderr.fileno(), line, "--progress")
    gate.open()
    out, errs = piped.communicate(timeout=TIMEOUT)
    assert piped.returncode == 0 and errs == "", (piped.returncode, errs)
    asked.communicate(timeout=TIMEOUT)
    assert asked.returncode == 0 and said == line, (asked.returncode, said)
    # and on a terminal (the two bulk workers are free again)
    os.unlink(gate.path)
    term, tty = pty.openpty()
    shown = subprocess.Popen(base + create + ["web3"],
                             stdout=subprocess.PIPE, stderr=tty)
    os.close(tty)
    told = read_until(term, line.replace("\n", "\r\n"), "a terminal")
    gate.open()
    shown.communicate(timeout=TIMEOUT)
    os.close(term)
    assert shown.returncode == 0, shown.returncode
    assert told.replace("\r\n", "\n") == line, told
    assert d.stop() == 0


def table(out):
    """tplctl's table as rows of cells (the header first)."""
    return [ln.split() for ln in out.splitlines()]


def cell_size(n):
    """A size as tplctl's tables print it: 68K, 1.5G, 2G."""
    u = 0
    rest = 0
    while n >= 1024 and u < 6:
        n, rest = n // 1024, n % 1024
        u += 1
    if u and n < 10 and rest:
        return "%d.%d%s" % (n, rest * 10 // 1024, "BKMGTPE"[u])
    return "%d%s" % (n, "BKMGTPE"[u])


def test_ct_list_columns_with_quota_and_usage(tmp):
    """ct list -o FIELDS: the columns asked for, in their order, limits
    from ct.conf, usage as ct status reports it; a bad field is a usage
    error naming the fields."""
    d, _ = daemon_with_template(tmp)
    rc, _, e = tplctl(d, "ct", "create", "web1", "--template", "os@1",
                      "--quota", "1G:1536M", "--inodes", "100K:120K",
                      "--grace", "2d")
    assert rc == 0, e
    ok(call(d.sock, "ct.create", {"id": "web2", "template": "os@1",
                                  "volatile": True}))
    rc, out, e = tplctl(d, "ct", "list", "-o",
                        "id,quota,iquota,grace,volatile,disk,inodes,from")
    assert rc == 0, e
    rows = table(out)
    assert rows[0] == ["ID", "QUOTA", "IQUOTA", "GRACE", "VOLATILE", "DISK",
                       "INODES", "USAGE", "FROM"], rows
    st = ok(call(d.sock, "ct.status", {"id": "web1"}))
    assert st["usage_from"] == "checkpoint" and st["inodes"] > 0, st
    assert rows[1][:5] == ["web1", "1G:1.5G", "102400:122880", "2d", "no"], \
        rows
    assert rows[1][5:] == [cell_size(st["disk_bytes"]), str(st["inodes"]),
                           "checkpoint"], (rows, st)
    assert rows[2][:5] == ["web2", "-", "-", "7d", "yes"], rows
    # the default columns, as before
    rc, out, _ = tplctl(d, "ct", "list")
    assert table(out)[0] == ["ID", "TEMPLATE", "MOUNTED", "ON"], out
    # the usage is asked for only when a column needs it
    r = ok(call(d.sock, "ct.list", {}))
    assert "disk_bytes" not in r["containers"][0], r
    assert r["containers"][0]["limits"]["inodes_hard"] == 122880, r
    r = ok(call(d.sock, "ct.list", {"usage": True}))
    assert r["containers"][0]["disk_bytes"] == st["disk_bytes"], (r, st)
    err(call(d.sock, "ct.list", {"usage": "yes"}), "bad_args")
    rc, _, e = tplctl(d, "ct", "list", "-o", "id,sizes")
    assert rc == 2 and "unknown field" in e and "iquota" in e, (rc, e)
    rc, _, e = tplctl(d, "ct", "status", "web1", "-o", "id")
    assert rc == 2, (rc, e)
    assert d.stop() == 0


def test_ct_mount_without_the_module_names_the_cause(tmp):
    """ct mount on a kernel without tplfs (this host) says so, through the
    mount API's first step, and leaves no mount point behind."""
    d, _ = daemon_with_template(tmp)
    ok(call(d.sock, "ct.create", {"id": "web1", "template": "os@1"}))
    rc, _, e = tplctl(d, "ct", "mount", "web1")
    assert rc == 1, (rc, e)
    assert "no tplfs filesystem in this kernel (is the module loaded?)" \
        in e, e
    assert not os.path.exists(os.path.join(d.root, "root", "web1")), e
    assert d.stop() == 0


def test_ct_set_changes_the_settings(tmp):
    """ct set ID: volatile and the limits into ct.conf, seen at once by
    ct list, ct status and ct quota; the catalogue follows ct quota --set
    too; refusals for nothing to set, no such container, a container
    another operation holds, and a caller who is not root."""
    d, _ = daemon_with_template(tmp)
    ok(call(d.sock, "ct.create", {"id": "web1", "template": "os@1"}))
    rc, out, e = tplctl(d, "ct", "set", "web1", "--volatile",
                        "--quota", "5G", "--grace", "1h")
    assert rc == 0 and out == "web1: volatile, quota, grace set\n", (rc, out, e)
    conf = open(os.path.join(d.root, "private", "web1", "ct.conf")).read()
    assert "volatile" in conf, conf
    st = ok(call(d.sock, "ct.status", {"id": "web1"}))
    assert st["volatile"] and st["limits"]["bytes_hard"] == 5 << 30, st
    assert st["limits"]["grace"] == 3600, st
    q = ok(call(d.sock, "ct.quota", {"id": "web1"}))
    assert q["bytes"]["soft"] == 5 << 30 and q["grace"] == 3600, q
    rc, out, _ = tplctl(d, "ct", "list", "-o", "id,volatile,quota")
    assert table(out)[1] == ["web1", "yes", "5G:5G"], (out, conf)
    # one setting leaves the others
    r = ok(call(d.sock, "ct.set", {"id": "web1", "volatile": False}))
    assert r["changed"] == ["volatile"] and not r["volatile"], r
    assert not r["at_next_mount"], r
    assert r["limits"]["bytes_soft"] == 5 << 30, r
    # ct quota --set reaches ct list (the catalogue) at once
    rc, _, e = tplctl(d, "ct", "quota", "web1", "--set", "7G:8G")
    assert rc == 0, e
    rc, out, _ = tplctl(d, "ct", "list", "-o", "id,quota")
    assert table(out)[1] == ["web1", "7G:8G"], out
    # refusals
    rc, _, e = tplctl(d, "ct", "set", "web1")
    assert rc == 2 and "needs what to set" in e, (rc, e)
    assert "nothing to set" in err(call(d.sock, "ct.set", {"id": "web1"}),
                                   "bad_args")
    rc, _, e = tplctl(d, "ct", "set", "web1", "--volatile", "--no-volatile")
    assert rc == 2, (rc, e)
    rc, _, e = tplctl(d, "ct", "set", "nosuch", "--volatile")
    assert rc == 1 and "no such container" in e, (rc, e)
    err(call(d.sock, "ct.set", {"id": "web1", "quota": "12Q"}), "bad_args")
    err(call(d.sock, "ct.set", {"id": "web1", "volatile": 1}), "bad_args")
    err(call(d.sock, "ct.set", {"id": "web1", "template": "os@2"}),
        "bad_args")
    # and the refusals changed nothing
    st = ok(call(d.sock, "ct.status", {"id": "web1"}))
    assert not st["volatile"] and st["limits"]["bytes_hard"] == 8 << 30, st
    assert d.stop() == 0


def test_ct_set_refused_while_another_operation_holds_it(tmp):
    """A change to a container waits for no one: while its creation is under
    way, ct set and ct quota --set are refused busy, and a plain ct quota
    (a read) is not held up by the refusal."""
    d, gate, _ = daemon_held_at_populated(tmp)
    s = connect(d.sock)
    s.send(json.dumps({"verb": "ct.create",
                       "args": {"id": "web1", "template": "os@1"}}).encode())
    assert d.wait_log("test pause at ct.create:populated")
    err(call(d.sock, "ct.set", {"id": "web1", "volatile": True}), "busy")
    err(call(d.sock, "ct.quota", {"id": "web1", "quota": "1G"}), "busy")
    gate.open()
    final, _ = reply(s)
    s.close()
    ok(final)
    r = ok(call(d.sock, "ct.set", {"id": "web1", "volatile": True}))
    assert r["volatile"], r
    assert d.stop() == 0


def test_destroy_tells_its_progress(tmp):
    """ct destroy says how many entries it has removed (at the daemon's
    tick), and in its result how many in all: every file and directory
    of the private area, and the area itself."""
    gate = Gate(tmp)
    d, _ = daemon_with_template(
        tmp, {"TPLFSD_TEST_PAUSE": gate.at("ct.destroy:dir-removed")})
    ok(call(d.sock, "ct.create", {"id": "web1", "template": "os@1"}))
    area = os.path.join(d.root, "private", "web1")
    total = 1 + sum(len(dirs) + len(files)
                    for _, dirs, files in os.walk(area))
    assert total > 3, total
    s = connect(d.sock)
    s.send(json.dumps({"verb": "ct.destroy",
                       "args": {"id": "web1"}}).encode())
    assert d.wait_log("test pause at ct.destroy:dir-removed")
    p = tplproto.recv(s)
    assert p is not None and p["type"] == "progress", p
    assert p["what"] == "entries removed" and 1 <= p["done"] < total, \
        (p, total)
    gate.open()
    final, _ = reply(s)
    s.close()
    assert ok(final)["entries_removed"] == total, (final, total)
    assert not os.path.exists(area)
    assert d.stop() == 0


def test_template_list_follows_the_store_and_the_containers(tmp):
    """template.list is kept between changes; every change shows at once."""
    d, src = daemon_with_template(tmp)

    def listed():
        return {t["template"]: t["containers"]
                for t in ok(call(d.sock, "template.list"))["templates"]}
    assert listed() == {"os@1": []}
    assert listed() == {"os@1": []}     # kept
    ok(call(d.sock, "ct.create", {"id": "web1", "template": "os@1"}))
    assert listed() == {"os@1": ["web1"]}
    ok(call(d.sock, "template.import", {"template": "os@2", "from": src}))
    assert listed() == {"os@1": ["web1"], "os@2": []}
    ok(call(d.sock, "template.rm", {"template": "os@2"}))
    assert listed() == {"os@1": ["web1"]}
    ok(call(d.sock, "ct.destroy", {"id": "web1"}))
    assert listed() == {"os@1": []}
    assert d.stop() == 0


# --- recovery ------------------------------------------------------------------

def kill_at(tmp, point, verb, args, prepare=None):
    src = os.path.join(tmp, "src")
    make_tree(src)
    d = new_daemon(tmp)
    if prepare:
        d.start()
        prepare(d, src)
        d.stop()
    d.env["TPLFSD_TEST_PAUSE"] = point
    d.start()
    s = connect(d.sock)
    a = dict(args)
    if "from" in a:
        a["from"] = src
    s.send(json.dumps({"verb": verb, "args": a}).encode())
    assert d.wait_log("test pause at " + point), d.logtext()
    d.proc.kill()
    d.proc.wait()
    s.close()
    assert d.journal(), "no journal record"
    d.env.pop("TPLFSD_TEST_PAUSE")
    d.start()
    assert d.journal() == [], d.journal()
    return d


def test_kill9_mid_import_rolls_back(tmp):
    d = kill_at(tmp, "template.import:begun", "template.import",
                {"template": "os@1", "from": None})
    assert "template.import os@1 was not sealed: rolled back" in d.logtext()
    assert ok(call(d.sock, "template.list"))["templates"] == []
    assert not os.path.exists(os.path.join(d.store, "templates", "os", "1"))
    # and the same import now succeeds
    ok(call(d.sock, "template.import",
            {"template": "os@1", "from": os.path.join(tmp, "src")}))
    assert d.stop() == 0


def test_kill9_mid_create_rolls_back(tmp):
    def prep(d, src):
        ok(call(d.sock, "template.import", {"template": "os@1", "from": src}))
    d = kill_at(tmp, "ct.create:populated", "ct.create",
                {"id": "web1", "template": "os@1"}, prep)
    assert "recovery: ct.create web1: rolled back" in d.logtext()
    assert os.listdir(os.path.join(d.root, "private")) == []
    ok(call(d.sock, "ct.create", {"id": "web1", "template": "os@1"}))
    assert d.stop() == 0


def test_kill9_mid_destroy_finishes(tmp):
    def prep(d, src):
        ok(call(d.sock, "template.import", {"template": "os@1", "from": src}))
        ok(call(d.sock, "ct.create", {"id": "web1", "template": "os@1"}))
    d = kill_at(tmp, "ct.destroy:renamed", "ct.destroy", {"id": "web1"}, prep)
    assert "recovery: ct.destroy web1: finished" in d.logtext()
    assert os.listdir(os.path.join(d.root, "private")) == []
    assert d.stop() == 0


def deep_dirs(root, depth):
    """depth directories of 200-byte names under root: far past PATH_MAX."""
    fd = os.open(root, os.O_RDONLY)
    for _ in range(depth):
        os.mkdir("d" * 200, dir_fd=fd)
        nfd = os.open("d" * 200, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    os.close(fd)


def test_destroy_finishes_or_is_retried(tmp):
    """A private area deeper than PATH_MAX: destroy answered done and left
    private/.web1.destroy for ever. Now it is removed; and a removal that
    cannot finish (a mount inside) is retried at the next start."""
    d, src = daemon_with_template(tmp)
    ok(call(d.sock, "ct.create", {"id": "web1", "template": "os@1"}))
    deep_dirs(os.path.join(d.root, "private", "web1", "fs"), 60)
    r = ok(call(d.sock, "ct.destroy", {"id": "web1"}))
    assert "left" not in r, r
    assert os.listdir(os.path.join(d.root, "private")) == []
    # a bind mount inside: destroyed all the same, the rest kept
    ok(call(d.sock, "ct.create", {"id": "web2", "template": "os@1"}))
    inside = os.path.join(d.root, "private", "web2", "fs", "etc")
    subprocess.run(["mount", "--bind", src, inside], check=True)
    try:
        r = ok(call(d.sock, "ct.destroy", {"id": "web2"}))
        trash = os.path.join(d.root, "private", ".web2.destroy")
        assert r["left"] == trash, r
        assert "kept to be removed at the next start" in d.logtext()
        assert os.path.exists(os.path.join(src, "etc", "hostname"))
        assert d.stop() == 0
    finally:
        subprocess.run(["umount", os.path.join(
            d.root, "private", ".web2.destroy", "fs", "etc")], check=True)
    d.start()
    assert "recovery: ct.destroy web2: finished" in d.logtext()
    assert os.listdir(os.path.join(d.root, "private")) == []
    assert os.path.exists(os.path.join(src, "etc", "hostname"))
    assert d.stop() == 0


def test_create_after_a_destroy_that_left_its_trash(tmp):
    """A destroy that could not remove all (a bind mount inside) keeps its
    journal record for the next start. A ct create of the same id
    overwrote that record, and the trash stayed for ever. Now create
    removes the trash first, or refuses (busy, naming it) and keeps the
    record; recovery still finishes it."""
    d, src = daemon_with_template(tmp)
    ok(call(d.sock, "ct.create", {"id": "web2", "template": "os@1"}))
    inside = os.path.join(d.root, "private", "web2", "fs", "etc")
    trash = os.path.join(d.root, "private", ".web2.destroy")
    subprocess.run(["mount", "--bind", src, inside], check=True)
    mounted = os.path.join(trash, "fs", "etc")
    try:
        r = ok(call(d.sock, "ct.destroy", {"id": "web2"}))
        assert r["left"] == trash, r
        r = call(d.sock, "ct.create", {"id": "web2", "template": "os@1"})
        assert not r["ok"] and r["error"]["code"] == "busy", r
        assert trash in r["error"]["message"], r
        assert not os.path.exists(os.path.join(d.root, "private", "web2"))
        assert d.stop() == 0
        d.start()      # the record is still there: retried, kept again
        assert "recovery: ct.destroy web2" in d.logtext()
        assert os.path.exists(trash)
    finally:
        subprocess.run(["umount", mounted], check=True)
    # once it can be removed, create removes it and goes on
    r = ok(call(d.sock, "ct.create", {"id": "web2", "template": "os@1"}))
    assert not os.path.exists(trash)
    assert sorted(os.listdir(os.path.join(d.root, "private"))) == ["web2"]
    assert d.stop() == 0
    d.start()
    assert "recovery: ct" not in d.logtext(), d.logtext()
    assert os.path.exists(os.path.join(src, "etc", "hostname"))
    assert d.stop() == 0


# --- bad input: a clear error, nothing written -----------------------------------

def test_a_nul_or_a_duplicate_key_destroys_nothing(tmp):
    """An id of "web1\\u0000x" was cut at the NUL and destroyed web1, and a
    duplicate key was taken (last wins): both are bad_request, web1 stays."""
    d, src = daemon_with_template(tmp)
    ok(call(d.sock, "ct.create", {"id": "web1", "template": "os@1"}))
    for text in ('{"verb":"ct.destroy","args":{"id":"web1\\u0000x"}}',
                 '{"verb":"ct.destroy","args":{"id":"nope","id":"web1"}}'):
        with connect(d.sock) as s:
            s.send(text.encode())
            err(reply(s)[0], "bad_request")
    assert ok(call(d.sock, "ct.status", {"id": "web1"}))["id"] == "web1"
    assert d.stop() == 0


def test_bad_ids_names_and_templates(tmp):
    src = os.path.join(tmp, "src")
    make_tree(src)
    d = new_daemon(tmp).start()
    for bad in ("Os@1", "os", "os@", "@1", "o/s@1", "os@1/2", "os@" + "1" * 64,
                "..@1", "os@.."):
        err(call(d.sock, "template.import", {"template": bad, "from": src}),
            "bad_args")
    err(call(d.sock, "template.import", {"template": "os@1", "from": "rel"}),
        "bad_args")
    err(call(d.sock, "template.import",
             {"template": "os@1", "from": "/nonexistent"}), "not_found")
    err(call(d.sock, "template.import",
             {"template": "os@1", "from": "/dev/null"}), "bad_args")
    ok(call(d.sock, "template.import", {"template": "os@1", "from": src}))
    err(call(d.sock, "template.import", {"template": "os@1", "from": src}),
        "exists")
    for bad in ("Web", "-a", "a" * 64, "a.b", "../x", ""):
        err(call(d.sock, "ct.create", {"id": bad, "template": "os@1"}),
            "bad_args")
    err(call(d.sock, "ct.create", {"id": "a", "template": "nope@1"}),
        "not_found")
    err(call(d.sock, "ct.destroy", {"id": "nope"}), "not_found")
    err(call(d.sock, "ct.status", {"id": "nope"}), "not_found")
    err(call(d.sock, "template.rm", {"template": "nope@1"}), "not_found")
    err(call(d.sock, "template.export",
             {"template": "nope@1", "file": tmp + "/x.tar.zst"}), "not_found")
    assert not os.path.exists(tmp + "/x.tar.zst")
    assert [t["template"] for t in
            ok(call(d.sock, "template.list"))["templates"]] == ["os@1"]
    assert os.listdir(os.path.join(d.root, "private")) == []
    assert d.stop() == 0


def evil_tarball(path, member, link=None, symlink=None):
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT,
                      encoding="utf-8", errors="surrogateescape") as t:
        ti = tarfile.TarInfo(member)
        if link:
            ti.type, ti.linkname = tarfile.LNKTYPE, link
        elif symlink:
            ti.type, ti.linkname = tarfile.SYMTYPE, symlink
        t.addfile(ti)


def test_refusals_caused_by_the_tree_are_bad_args(tmp):
    """A path over PATH_MAX in the tree came back as system/EIO; and a
    template whose /etc/ssh is a symlink cannot get keys of its own."""
    src = os.path.join(tmp, "src")
    os.makedirs(src)
    deep_dirs(src, 25)         # 25 * 201 bytes: past PATH_MAX
    d = new_daemon(tmp).start()
    m = err(call(d.sock, "template.import", {"template": "deep@1",
                                             "from": src}), "bad_args")
    assert m.endswith(": path too long") and m.startswith(src), m
    src2 = os.path.join(tmp, "src2")
    make_tree(src2)
    os.makedirs(src2 + "/usr/ssh")
    w(src2 + "/usr/ssh/ssh_host_ed25519_key", b"shared\n", 0o600)
    os.symlink("../usr/ssh", src2 + "/etc/ssh")
    ok(call(d.sock, "template.import", {"template": "os@1", "from": src2}))
    m = err(call(d.sock, "ct.create", {"id": "c1", "template": "os@1"}),
            "bad_args")
    assert "/etc/ssh/ssh_host_rsa_key: opening its directory" in m, m
    assert os.listdir(os.path.join(d.root, "private")) == []
    assert d.stop() == 0


def test_tarballs_that_escape_are_refused(tmp):
    d = new_daemon(tmp).start()
    tb = os.path.join(tmp, "evil.tar")
    for member, link, why in (("\udcff/../../x", None, "\\xFF/../../x"),
                              ("/etc/passwd", None, "absolute"),
                              ("a/../../x", None, "absolute or \"..\""),
                              ("x", "../../etc/shadow", "linking to"),
                              ("x", "/etc/shadow", "linking to")):
        evil_tarball(tb, member, link=link)
        m = err(call(d.sock, "template.import",
                     {"template": "evil@1", "from": tb}), "bad_args")
        assert why in m, m
    # Writing through a symlink that points out of the tree.
    with tarfile.open(tb, "w") as t:
        ti = tarfile.TarInfo("l")
        ti.type, ti.linkname = tarfile.SYMTYPE, "/tmp"
        t.addfile(ti)
        ti = tarfile.TarInfo("l/escaped")
        t.addfile(ti)
    err(call(d.sock, "template.import", {"template": "evil@1", "from": tb}),
        "system")
    assert not os.path.exists("/tmp/escaped")
    # Not a tarball at all.
    w(tb, b"not a tarball\n")
    err(call(d.sock, "template.import", {"template": "evil@1", "from": tb}),
        "bad_args")
    assert ok(call(d.sock, "template.list"))["templates"] == []
    assert os.listdir(os.path.join(d.store, "tmp")) == []
    assert d.stop() == 0


def test_a_loop_of_bind_mounts_is_refused(tmp):
    src = os.path.join(tmp, "src")
    make_tree(src)
    os.makedirs(src + "/loop")
    subprocess.run(["mount", "--bind", src, src + "/loop"], check=True)
    try:
        d = new_daemon(tmp).start()
        m = err(call(d.sock, "template.import",
                     {"template": "os@1", "from": src}), "bad_args")
        assert "/loop: a mount point" in m, m
        assert ok(call(d.sock, "template.list"))["templates"] == []
        assert d.stop() == 0
    finally:
        subprocess.run(["umount", "-l", src + "/loop"])


def test_full_disk_leaves_nothing_half_imported(tmp):
    src = os.path.join(tmp, "src")
    os.makedirs(src)
    for i in range(6):
        w("%s/f%d" % (src, i), os.urandom(1 << 20))
    store = os.path.join(tmp, "d-store")
    os.makedirs(store)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", store],
                   check=True)
    try:
        d = new_daemon(tmp).start()
        m = err(call(d.sock, "template.import",
                     {"template": "big@1", "from": src}), "system")
        assert "No space left on device" in m, m
        assert ok(call(d.sock, "template.list"))["templates"] == []
        assert not os.path.exists(os.path.join(store, "templates", "big"))
        # what got in is unreferenced: gc frees it
        ok(call(d.sock, "store.gc"))
        assert objects(d) == 0
        assert d.stop() == 0
    finally:
        subprocess.run(["umount", "-l", store])


def test_files_over_4gib_are_kept(tmp):
    """A 16 GiB sparse file (data at 0, past 4 GiB and at its end) keeps
    its size; its holes are neither hashed (the digest skips them) nor
    stored, and stored_bytes says what the store grew by."""
    size = (16 << 30) + 5
    src = os.path.join(tmp, "src")
    os.makedirs(src)
    with open(src + "/huge", "wb") as f:
        f.truncate(size)
        for off in (0, (4 << 30) + 1, size - 3):
            f.seek(off)
            f.write(b"abc")
    d = new_daemon(tmp).start()
    r = ok(call(d.sock, "template.import", {"template": "huge@1", "from": src},
                timeout=6 * TIMEOUT))
    assert (r["files"], r["bytes"], r["new_bytes"]) == (1, size, size), r
    assert 0 < r["stored_bytes"] <= 1 << 20, r
    objects = os.path.join(d.store, "objects")
    on_disk = sum(os.lstat(os.path.join(t, n)).st_blocks * 512
                  for t, _, ns in os.walk(objects) for n in ns)
    assert on_disk == r["stored_bytes"], (on_disk, r)
    ln = [x for x in manifest(d, "huge@1").split(b"\n")
          if x.startswith(b"/huge ")][0]
    assert ln.split(b" ")[6] == str(size).encode(), ln
    ok(call(d.sock, "ct.create", {"id": "h", "template": "huge@1"},
            timeout=6 * TIMEOUT))
    fs = os.path.join(d.root, "private", "h", "fs")
    origin = os.getxattr(fs + "/huge", "trusted.tplfs.origin")
    assert int.from_bytes(origin[8:16], "little") == size
    assert d.stop() == 0


if __name__ == "__main__":
    sys.exit(tplproto.run_tests(globals(), "store"))
