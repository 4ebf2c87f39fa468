#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Host tests of application templates (issue 19, doc/apps.md) through
tplfsd and tplctl, on unmounted containers: an app template imported as a
layer of an OS template stores only what differs; ct app add, list and rm
with a conflict refused or kept, dpkg's status merged by package, the
private area back to what it was after rm; kill -9 in the middle of an add
finished at the next start; layers stacked. Ends with
"apps: N passed, N failed"."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tplproto  # noqa: E402
from tplproto import call, connect  # noqa: E402
from test_store import (err, make_tree, manifest, new_daemon, objects,  # noqa: E402
                        ok, origin_of, privatize, shown, tplctl, w)

BASE_STATUS = (b"Package: base-files\nStatus: install ok installed\n"
               b"Architecture: amd64\nVersion: 12.4\n\n"
               b"Package: zlib1g\nStatus: install ok installed\n"
               b"Architecture: amd64\nVersion: 1:1.2.13\n\n")
APP_STANZA = (b"Package: app\nStatus: install ok installed\n"
              b"Architecture: amd64\nVersion: 1.0\n\n")
MINE_STANZA = (b"Package: mine\nStatus: install ok installed\n"
               b"Architecture: all\nVersion: 0.1\n\n")


def os_tree(root):
    make_tree(root)
    os.makedirs(root + "/var/lib/dpkg/info")
    w(root + "/var/lib/dpkg/status", BASE_STATUS)
    w(root + "/var/lib/dpkg/info/base-files.list", b"/etc/os-release\n")


def app_tree(src, root):
    """src with the app installed: new files, a new package in dpkg's
    status, a file removed."""
    subprocess.run(["cp", "-a", src, root], check=True)
    w(root + "/usr/bin/app", b"#!/bin/sh\necho app\n", 0o755)
    w(root + "/etc/app.conf", b"listen 80\n")
    os.makedirs(root + "/usr/share/app")
    w(root + "/usr/share/app/data", b"app data\n")
    w(root + "/var/lib/dpkg/status", APP_STANZA + BASE_STATUS)
    w(root + "/var/lib/dpkg/info/app.list", b"/usr/bin/app\n/etc/app.conf\n")
    os.unlink(root + "/usr/bin/same-b")


def started(tmp):
    """A daemon with os@1 and app@1 (a layer of os@1) in its store."""
    src = os.path.join(tmp, "src")
    os_tree(src)
    d = new_daemon(tmp).start()
    ok(call(d.sock, "template.import", {"template": "os@1", "from": src}))
    app = os.path.join(tmp, "app")
    app_tree(src, app)
    rc, out, e = tplctl(d, "template", "import", "app@1", "--from", app,
                        "--layer-of", "os@1")
    assert rc == 0, e
    return d, src, app


def snapshot(fs):
    """Every path of a private area: its type, metadata, xattrs (a stub's
    origin among them) and content; a directory's mtime left out."""
    snap = {}
    for top, dirs, files in os.walk(fs):
        for n in dirs + files:
            p = os.path.join(top, n)
            st = os.lstat(p)
            xattrs = {x: os.getxattr(p, x, follow_symlinks=False)
                      for x in os.listxattr(p, follow_symlinks=False)}
            what = (st.st_mode, st.st_uid, st.st_gid, xattrs)
            if os.path.islink(p):
                what += (os.readlink(p), st.st_mtime_ns)
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    what += (f.read(), st.st_mtime_ns)
            snap[os.path.relpath(p, fs)] = what
    return snap


def stanzas(path):
    with open(path, "rb") as f:
        return sorted(s.strip() for s in f.read().split(b"\n\n") if s.strip())


def test_an_app_template_stores_only_what_differs(tmp):
    """template import --layer-of: a version 2 manifest with the new and
    changed entries and the deletions; only the new contents are stored;
    the layer is no container's template, is not exported, and its base
    cannot be removed while it exists."""
    src = os.path.join(tmp, "src")
    os_tree(src)
    d = new_daemon(tmp).start()
    ok(call(d.sock, "template.import", {"template": "os@1", "from": src}))
    n = objects(d)
    app = os.path.join(tmp, "app")
    app_tree(src, app)
    rc, out, e = tplctl(d, "template", "import", "app@1", "--from", app,
                        "--layer-of", "os@1")
    assert rc == 0, e
    m = manifest(d, "app@1").decode(errors="replace")
    assert m.startswith("tplfs-manifest 2\ntemplate app@1\nlayer-of os@1\n"), m
    lines = m.splitlines()
    assert "/usr/bin/same-b -" in lines, m
    for p in ("/usr/bin/app f", "/etc/app.conf f", "/usr/share/app d",
              "/usr/share/app/data f", "/var/lib/dpkg/status f",
              "/var/lib/dpkg/info/app.list f"):
        assert any(ln.startswith(p + " ") for ln in lines), (p, m)
    for p in ("/etc/os-release", "/usr/bin/tool", "/etc/hostname", "/usr/bin "):
        assert p not in m, (p, m)
    # app, app.conf, data, status, app.list
    assert objects(d) == n + 5, (n, objects(d))
    rc, out, e = tplctl(d, "template", "list")
    assert rc == 0 and re.search(r"^app@1 +sealed .* os@1$", out, re.M) and \
        re.search(r"^os@1 +sealed .* -$", out, re.M), out
    rc, out, e = tplctl(d, "template", "show", "app@1")
    assert "layer of    os@1 (an application template)" in out, out
    assert ok(call(d.sock, "template.show", {"template": "os@1"}))["layer_of"] == ""
    # a tree that is its base's is no layer
    m = err(call(d.sock, "template.import", {"template": "same@1", "from": src,
                                             "layer_of": "os@1"}), "bad_args")
    assert "an empty layer" in m, m
    err(call(d.sock, "template.import", {"template": "x@1", "from": app,
                                         "layer_of": "gone@1"}), "not_found")
    m = err(call(d.sock, "template.import", {"template": "x@1", "from": app,
                                             "layer_of": "app@1"}), "bad_args")
    assert "is an application template itself" in m, m
    err(call(d.sock, "template.import", {"template": "x@1", "from": app,
                                         "layer_of": 7}), "bad_args")
    rc, out, e = tplctl(d, "template", "list", "--layer-of", "os@1")
    assert rc == 2 and "--layer-of is for template import" in e, (rc, e)
    # not a tree: no container is made of it, it is not exported
    r = call(d.sock, "ct.create", {"id": "c", "template": "app@1"})
    assert not r["ok"] and "is an application template" in \
        r["error"]["message"], r
    assert not os.path.exists(os.path.join(d.root, "private", "c"))
    r = call(d.sock, "template.export", {"template": "app@1",
                                         "file": os.path.join(tmp, "x.tar.zst")})
    assert not r["ok"] and "only whole trees are exported" in \
        r["error"]["message"], r
    m = err(call(d.sock, "template.rm", {"template": "os@1"}), "busy")
    assert "has 1 application template(s), app@1" in m, m
    ok(call(d.sock, "template.rm", {"template": "app@1"}))
    ok(call(d.sock, "template.rm", {"template": "os@1"}))
    assert d.stop() == 0


def test_app_add_list_and_rm(tmp):
    """ct app add on three containers (untouched; one with its own
    /etc/app.conf; one with a package of its own), list, then rm: the
    conflict refuses the add naming it and touches nothing, --keep-mine
    keeps the container's file; dpkg's status is merged by package both
    ways; after rm every container is what it was before the add."""
    d, src, app = started(tmp)
    fs = {}
    for ct in ("c1", "c2", "c3"):
        ok(call(d.sock, "ct.create", {"id": ct, "template": "os@1"}))
        fs[ct] = os.path.join(d.root, "private", ct, "fs")
    w(fs["c2"] + "/etc/app.conf", b"listen 8080\n")
    privatize(fs["c3"] + "/var/lib/dpkg/status", BASE_STATUS + MINE_STANZA)
    w(fs["c3"] + "/usr/bin/mine", b"mine\n", 0o755)
    before = {ct: snapshot(fs[ct]) for ct in fs}

    # a dry run changes nothing
    rc, out, e = tplctl(d, "ct", "app", "add", "c1", "app@1", "--dry-run")
    assert rc == 0, e
    assert "c1: would change for app@1: " in out and " 6 created" in out, out
    assert snapshot(fs["c1"]) == before["c1"]

    # untouched: every path as the layer brings it, as stubs
    rc, out, e = tplctl(d, "ct", "app", "add", "c1", "app@1")
    assert rc == 0, e
    assert "c1: changed for app@1: " in out and "0 conflicts" in out, out
    f = fs["c1"]
    assert shown(d, f + "/usr/bin/app") == b"#!/bin/sh\necho app\n"
    assert origin_of(f + "/usr/bin/app") is not None
    assert origin_of(f + "/var/lib/dpkg/status") is not None
    assert shown(d, f + "/var/lib/dpkg/status") == APP_STANZA + BASE_STATUS
    assert shown(d, f + "/usr/share/app/data") == b"app data\n"
    assert not os.path.lexists(f + "/usr/bin/same-b")
    conf = open(os.path.join(d.root, "private", "c1", "ct.conf")).read()
    assert "apps = app@1\n" in conf and "uses" not in conf, conf
    rc, out, e = tplctl(d, "ct", "app", "list", "c1")
    assert rc == 0 and out == "c1: os@1\n  app@1\n", (out, e)
    assert ok(call(d.sock, "ct.app.list", {"id": "c2"}))["apps"] == []
    m = err(call(d.sock, "template.rm", {"template": "app@1"}), "busy")
    assert "c1" in m, m
    m = err(call(d.sock, "ct.app.add", {"id": "c1", "app": "app@1"}), "exists")
    assert "c1 has app@1 already" in m, m

    # the container's own app.conf: refused, nothing touched
    rc, out, e = tplctl(d, "ct", "app", "add", "c2", "app@1")
    assert rc == 1, (out, e)
    assert "changes 1 path(s) the container changed: /etc/app.conf" in e, e
    assert snapshot(fs["c2"]) == before["c2"]
    assert "apps" not in open(os.path.join(d.root, "private", "c2",
                                           "ct.conf")).read()
    r = ok(call(d.sock, "ct.app.add", {"id": "c2", "app": "app@1",
                                       "keep_mine": True}))
    assert r["conflicts"] == 1 and r["apps"] == ["app@1"], r
    assert [i["path"] for i in r["items"] if i["outcome"] == "conflict"] == \
        ["/etc/app.conf"], r
    assert shown(d, fs["c2"] + "/etc/app.conf") == b"listen 8080\n"
    assert shown(d, fs["c2"] + "/usr/bin/app") == b"#!/bin/sh\necho app\n"

    # its own package: dpkg's status merged, both packages in it
    r = ok(call(d.sock, "ct.app.add", {"id": "c3", "app": "app@1"}))
    assert (r["merged"], r["conflicts"]) == (1, 0), r
    st3 = fs["c3"] + "/var/lib/dpkg/status"
    assert stanzas(st3) == sorted(s.strip() for s in
                                  (BASE_STATUS + APP_STANZA + MINE_STANZA)
                                  .split(b"\n\n") if s.strip())
    assert shown(d, fs["c3"] + "/usr/bin/mine") == b"mine\n"

    # rm: back to what each was; the container's own kept
    for ct in ("c1", "c2", "c3"):
        rc, out, e = tplctl(d, "ct", "app", "rm", ct, "app")
        assert rc == 0, e
        conf = open(os.path.join(d.root, "private", ct, "ct.conf")).read()
        assert "apps" not in conf and "uses" not in conf, conf
    assert snapshot(fs["c1"]) == before["c1"]
    after2 = snapshot(fs["c2"])
    assert after2 == before["c2"], set(after2.items()) ^ set(before["c2"].items())
    after3 = snapshot(fs["c3"])
    status = "var/lib/dpkg/status"
    # app's stanza gone, the container's own package still installed
    assert stanzas(st3) == sorted(s.strip() for s in
                                  (BASE_STATUS + MINE_STANZA).split(b"\n\n")
                                  if s.strip()), stanzas(st3)
    after3.pop(status)
    b3 = dict(before["c3"])
    b3.pop(status)
    assert after3 == b3
    m = err(call(d.sock, "ct.app.rm", {"id": "c1", "app": "app"}), "not_found")
    assert "c1 has no application template app" in m, m
    ok(call(d.sock, "template.rm", {"template": "app@1"}))
    assert d.stop() == 0


def test_app_add_of_another_template_is_refused(tmp):
    """An app template of another version is refused naming both; so is a
    template that is no app, or none."""
    d, src, app = started(tmp)
    src2 = os.path.join(tmp, "src2")
    os_tree(src2)
    w(src2 + "/etc/os-release", b"NAME=test\nVERSION=2\n")
    ok(call(d.sock, "template.import", {"template": "os@2", "from": src2}))
    ok(call(d.sock, "ct.create", {"id": "c", "template": "os@2"}))
    m = err(call(d.sock, "ct.app.add", {"id": "c", "app": "app@1"}), "bad_args")
    assert "app@1 is an application template of os@1; c is of os@2" in m, m
    m = err(call(d.sock, "ct.app.add", {"id": "c", "app": "os@1"}), "bad_args")
    assert "os@1 is not an application template" in m, m
    err(call(d.sock, "ct.app.add", {"id": "c", "app": "gone@1"}), "not_found")
    err(call(d.sock, "ct.app.add", {"id": "nosuch", "app": "app@1"}),
        "not_found")
    assert d.stop() == 0


def test_rebase_carries_the_apps(tmp):
    """ct rebase of a container with an app template: the app goes along,
    the same version where it still applies to the new template (dpkg's
    status merged by package), else the newest version of its name built
    on it; where none applies the rebase is refused, saying what to
    import, and nothing changes."""
    d, src, app = started(tmp)
    ok(call(d.sock, "ct.create", {"id": "c1", "template": "os@1",
                                  "apps": ["app@1"]}))
    priv = os.path.join(d.root, "private", "c1")
    fs = priv + "/fs"
    w(fs + "/etc/mine", b"mine\n")
    # os@2 updates zlib: app@1 still applies, its package merged in
    src2 = os.path.join(tmp, "src2")
    subprocess.run(["cp", "-a", src, src2], check=True)    # times kept
    w(src2 + "/etc/os-release", b"NAME=test\nVERSION=2\n")
    status2 = BASE_STATUS.replace(b"1:1.2.13", b"1:1.2.14")
    w(src2 + "/var/lib/dpkg/status", status2)
    ok(call(d.sock, "template.import", {"template": "os@2", "from": src2}))
    r = ok(call(d.sock, "ct.rebase", {"id": "c1", "to": "os@2"}))
    assert (r["from"], r["to"], r["conflicts"]) == ("os@1", "os@2", 0), r
    conf = open(priv + "/ct.conf").read()
    assert "template = os@2\n" in conf and "apps = app@1\n" in conf, conf
    assert shown(d, fs + "/etc/os-release") == b"NAME=test\nVERSION=2\n"
    assert stanzas(fs + "/var/lib/dpkg/status") == sorted(
        x.strip() for x in (status2 + APP_STANZA).split(b"\n\n") if x.strip())
    assert shown(d, fs + "/usr/bin/app") == b"#!/bin/sh\necho app\n"
    assert not os.path.lexists(fs + "/usr/bin/same-b")
    assert shown(d, fs + "/etc/mine") == b"mine\n"
    # app@1, carried, still lies over os@1: os@1 stays
    m = err(call(d.sock, "template.rm", {"template": "os@1"}), "busy")
    assert "has 1 application template(s), app@1" in m, m
    # os@3 changes same-b, which app@1 removes: app@1 does not apply
    src3 = os.path.join(tmp, "src3")
    subprocess.run(["cp", "-a", src2, src3], check=True)
    w(src3 + "/usr/bin/same-b", b"same-b v3\n")
    ok(call(d.sock, "template.import", {"template": "os@3", "from": src3}))
    before = snapshot(fs)
    m = err(call(d.sock, "ct.rebase", {"id": "c1", "to": "os@3"}), "bad_args")
    assert "its application templates do not apply to os@3" in m and \
        "/usr/bin/same-b" in m and "--layer-of os@3" in m, m
    assert snapshot(fs) == before and d.journal() == []
    assert "template = os@2\n" in open(priv + "/ct.conf").read()
    # the app built on os@3: app@3, taken by the rebase
    app3 = os.path.join(tmp, "app3")
    app_tree(src3, app3)
    w(app3 + "/var/lib/dpkg/status", APP_STANZA + status2)
    ok(call(d.sock, "template.import", {"template": "app@3", "from": app3,
                                        "layer_of": "os@3"}))
    r = ok(call(d.sock, "ct.rebase", {"id": "c1", "to": "os@3"}))
    assert r["conflicts"] == 0, r
    conf = open(priv + "/ct.conf").read()
    assert "template = os@3\n" in conf and "apps = app@3\n" in conf, conf
    assert shown(d, fs + "/var/lib/dpkg/status") == APP_STANZA + status2
    assert origin_of(fs + "/var/lib/dpkg/status") is not None
    assert shown(d, fs + "/usr/bin/app") == b"#!/bin/sh\necho app\n"
    assert shown(d, fs + "/etc/mine") == b"mine\n"
    # app@1, os@2 and so os@1 are no longer used
    for t in ("app@1", "os@2", "os@1"):
        ok(call(d.sock, "template.rm", {"template": t}))
    assert d.stop() == 0


def test_app_add_killed_is_finished_at_the_next_start(tmp):
    """kill -9 in the middle of an add (after its first updated path): the
    next start finishes it from the journal; the tree is the added one."""
    d, src, app = started(tmp)
    ok(call(d.sock, "ct.create", {"id": "c1", "template": "os@1"}))
    ok(call(d.sock, "ct.create", {"id": "ref", "template": "os@1"}))
    ok(call(d.sock, "ct.app.add", {"id": "ref", "app": "app@1"}))
    assert d.stop() == 0
    d.env["TPLFSD_TEST_PAUSE"] = "ct.rebase:updated-one"
    d.start()
    s = connect(d.sock)
    s.send(b'{"verb":"ct.app.add","args":{"id":"c1","app":"app@1"}}')
    assert d.wait_log("test pause at ct.rebase:updated-one")
    d.proc.kill()
    d.proc.wait()
    s.close()
    assert d.journal() == ["ct-c1.json"]
    d.env.pop("TPLFSD_TEST_PAUSE")
    d.start()
    assert "recovery: ct c1 app app@1 added: finished" in d.logtext(), \
        d.logtext()
    assert d.journal() == []
    conf = open(os.path.join(d.root, "private", "c1", "ct.conf")).read()
    assert "apps = app@1\n" in conf, conf

    def strip(snap):
        # the always-private copies and the machine's own identity differ
        return {p: v[:3] + tuple(x for x in v[4:])
                for p, v in snap.items()
                if not p.startswith(("etc/hostname", "etc/hosts",
                                     "etc/machine-id"))}
    fs = os.path.join(d.root, "private", "c1", "fs")
    ref = os.path.join(d.root, "private", "ref", "fs")
    assert strip(snapshot(fs)) == strip(snapshot(ref))
    assert d.stop() == 0


def test_app_templates_stack(tmp):
    """Two app templates of one version on one container, in order; the
    first removed keeps the second; two that change one path do not
    stack (the second refused, naming it)."""
    d, src, app = started(tmp)
    tool = os.path.join(tmp, "tool")
    subprocess.run(["cp", "-a", src, tool], check=True)
    w(tool + "/usr/bin/tool2", b"tool 2\n", 0o755)
    ok(call(d.sock, "template.import", {"template": "tool@1", "from": tool,
                                        "layer_of": "os@1"}))
    clash = os.path.join(tmp, "clash")
    subprocess.run(["cp", "-a", src, clash], check=True)
    w(clash + "/usr/bin/app", b"another app\n", 0o755)
    ok(call(d.sock, "template.import", {"template": "clash@1", "from": clash,
                                        "layer_of": "os@1"}))
    ok(call(d.sock, "ct.create", {"id": "c", "template": "os@1"}))
    fs = os.path.join(d.root, "private", "c", "fs")
    ok(call(d.sock, "ct.app.add", {"id": "c", "app": "app@1"}))
    ok(call(d.sock, "ct.app.add", {"id": "c", "app": "tool@1"}))
    assert ok(call(d.sock, "ct.app.list", {"id": "c"}))["apps"] == \
        ["app@1", "tool@1"]
    assert shown(d, fs + "/usr/bin/tool2") == b"tool 2\n"
    r = call(d.sock, "ct.app.add", {"id": "c", "app": "clash@1"})
    assert not r["ok"] and "/usr/bin/app: changed beneath clash@1" in \
        r["error"]["message"], r
    ok(call(d.sock, "ct.app.rm", {"id": "c", "app": "app@1"}))
    assert ok(call(d.sock, "ct.app.list", {"id": "c"}))["apps"] == ["tool@1"]
    assert not os.path.lexists(fs + "/usr/bin/app")
    assert shown(d, fs + "/usr/bin/tool2") == b"tool 2\n"
    assert shown(d, fs + "/usr/bin/same-b") == b"same bytes\n"
    shutil.rmtree(clash)
    assert d.stop() == 0


TOOL_STANZA = (b"Package: tool\nStatus: install ok installed\n"
               b"Architecture: amd64\nVersion: 2.0\n\n")


def test_two_debian_app_templates_stack(tmp):
    """Two app templates that both add a package stack: dpkg's status of
    the tree is their merge by package, a private file in each container
    (no manifest holds it; store gc leaves it whole); removing the first
    leaves the second's status, a stub again; ct create with both gives
    the same; a package of the container's own stays through all."""
    d, src, app = started(tmp)
    tool = os.path.join(tmp, "tool")
    subprocess.run(["cp", "-a", src, tool], check=True)
    w(tool + "/usr/bin/tool2", b"tool 2\n", 0o755)
    w(tool + "/var/lib/dpkg/status", BASE_STATUS + TOOL_STANZA)
    # a library both apps install, the same bytes: no clash
    subprocess.run(["cp", "-a", app + "/usr/share", tool + "/usr/"], check=True)
    ok(call(d.sock, "template.import", {"template": "tool@1", "from": tool,
                                        "layer_of": "os@1"}))
    both = sorted(x.strip() for x in (BASE_STATUS + APP_STANZA + TOOL_STANZA)
                  .split(b"\n\n") if x.strip())
    ok(call(d.sock, "ct.create", {"id": "c", "template": "os@1"}))
    ok(call(d.sock, "ct.create", {"id": "own", "template": "os@1"}))
    fs = os.path.join(d.root, "private", "c", "fs")
    own = os.path.join(d.root, "private", "own", "fs")
    privatize(own + "/var/lib/dpkg/status", BASE_STATUS + MINE_STANZA)
    for ct in ("c", "own"):
        ok(call(d.sock, "ct.app.add", {"id": ct, "app": "app@1"}))
        r = ok(call(d.sock, "ct.app.add", {"id": ct, "app": "tool@1"}))
        assert r["conflicts"] == 0, r
    assert stanzas(fs + "/var/lib/dpkg/status") == both
    assert origin_of(fs + "/var/lib/dpkg/status") is None
    assert stanzas(own + "/var/lib/dpkg/status") == sorted(
        both + [MINE_STANZA.strip()])
    assert shown(d, fs + "/usr/bin/tool2") == b"tool 2\n"
    ok(call(d.sock, "store.gc"))
    assert stanzas(fs + "/var/lib/dpkg/status") == both
    # created with both: the same tree
    rc, out, e = tplctl(d, "ct", "create", "c2", "--template", "os@1",
                        "--app", "app@1", "--app", "tool@1")
    assert rc == 0, e
    fs2 = os.path.join(d.root, "private", "c2", "fs")
    assert stanzas(fs2 + "/var/lib/dpkg/status") == both
    assert origin_of(fs2 + "/var/lib/dpkg/status") is None
    # the first removed: the second's status, a stub of its object
    ok(call(d.sock, "ct.app.rm", {"id": "c", "app": "app"}))
    assert shown(d, fs + "/var/lib/dpkg/status") == BASE_STATUS + TOOL_STANZA
    assert origin_of(fs + "/var/lib/dpkg/status") is not None
    assert not os.path.lexists(fs + "/usr/bin/app")
    assert shown(d, fs + "/usr/share/app/data") == b"app data\n"   # tool's too
    r = ok(call(d.sock, "ct.app.rm", {"id": "own", "app": "app"}))
    assert r["conflicts"] == 0, r
    assert stanzas(own + "/var/lib/dpkg/status") == sorted(
        x.strip() for x in (BASE_STATUS + TOOL_STANZA + MINE_STANZA)
        .split(b"\n\n") if x.strip())
    assert d.stop() == 0


def test_ct_create_with_apps(tmp):
    """ct create --app: the container is made from its template's tree
    with the app templates applied, and is the same as one made without
    and then added to; ct.conf names them; a bad list is refused and
    makes nothing."""
    d, src, app = started(tmp)
    rc, out, e = tplctl(d, "ct", "create", "c1", "--template", "os@1",
                        "--app", "app@1")
    assert rc == 0, e
    assert out.startswith("c1: created from os@1 with app@1, a linked clone"), out
    ok(call(d.sock, "ct.create", {"id": "ref", "template": "os@1"}))
    ok(call(d.sock, "ct.app.add", {"id": "ref", "app": "app@1"}))
    conf = open(os.path.join(d.root, "private", "c1", "ct.conf")).read()
    assert "apps = app@1\n" in conf, conf
    assert ok(call(d.sock, "ct.app.list", {"id": "c1"}))["apps"] == ["app@1"]

    def strip(snap):
        return {p: v[:3] + v[4:] for p, v in snap.items()
                if not p.startswith(("etc/hostname", "etc/hosts",
                                     "etc/machine-id"))}
    fs = os.path.join(d.root, "private", "c1", "fs")
    ref = os.path.join(d.root, "private", "ref", "fs")
    assert strip(snapshot(fs)) == strip(snapshot(ref))
    assert origin_of(fs + "/usr/bin/app") == origin_of(ref + "/usr/bin/app")
    for bad, code in ((["app@1", "app@1"], "bad_args"), ("app@1", "bad_args"),
                      (["os@1"], "bad_args"), (["gone@1"], "not_found")):
        r = call(d.sock, "ct.create", {"id": "x", "template": "os@1",
                                       "apps": bad})
        err(r, code)
        assert not os.path.exists(os.path.join(d.root, "private", "x"))
    m = err(call(d.sock, "template.rm", {"template": "app@1"}), "busy")
    assert "used by 2 container(s)" in m, m
    ok(call(d.sock, "ct.app.rm", {"id": "c1", "app": "app@1"}))
    assert "apps" not in open(os.path.join(d.root, "private", "c1",
                                           "ct.conf")).read()
    assert d.stop() == 0


def test_an_app_template_can_name_its_postinst(tmp):
    """template import --run-postinst: the layer names the packages it
    installs that have a postinst (dpkg's status against its base's, the
    info files), template show and ct app add's reply say them, and tplctl
    tells that an unmounted container did not run them; without a package
    of its own, or without --layer-of, it is refused."""
    d, src, app = started(tmp)
    app2 = os.path.join(tmp, "app2")
    app_tree(src, app2)
    w(app2 + "/var/lib/dpkg/info/app.postinst",
      b"#!/bin/sh\nset -e\nmkdir -p /var/lib/app\n", 0o755)
    rc, out, e = tplctl(d, "template", "import", "app@2", "--from", app2,
                        "--layer-of", "os@1", "--run-postinst")
    assert rc == 0, e
    assert b"postinst app\n" in manifest(d, "app@2"), manifest(d, "app@2")
    assert ok(call(d.sock, "template.show", {"template": "app@2"}))["postinst"] == ["app"]
    assert ok(call(d.sock, "template.show", {"template": "app@1"}))["postinst"] == []
    # app@1 has a package but no postinst: nothing to run, refused
    m = err(call(d.sock, "template.import", {
        "template": "app@3", "from": app, "layer_of": "os@1",
        "run_postinst": True}), "bad_args")
    assert "no package with a postinst" in m, m
    m = err(call(d.sock, "template.import", {
        "template": "os@9", "from": src, "run_postinst": True}), "bad_args")
    assert "layer_of" in m, m
    rc, out, e = tplctl(d, "template", "import", "os@9", "--from", src,
                        "--run-postinst")
    assert rc == 2 and "--layer-of" in e, (rc, e)

    ok(call(d.sock, "ct.create", {"id": "c1", "template": "os@1"}))
    rc, out, e = tplctl(d, "ct", "app", "add", "c1", "app@2")
    assert rc == 0, e
    assert "c1: the postinst of app not run: it is not mounted" in out, out
    assert "tplctl ct app postinst c1 app" in out, out
    rc, out, e = tplctl(d, "ct", "app", "postinst", "c1", "app")
    assert rc == 0 and "not run: it is not mounted" in out, (out, e)
    rc, out, e = tplctl(d, "ct", "app", "postinst", "c1", "nope")
    assert rc == 1 and "has no application template nope" in e, (rc, e)
    ok(call(d.sock, "ct.create", {"id": "c2", "template": "os@1"}))
    r = ok(call(d.sock, "ct.app.add", {"id": "c2", "app": "app@1"}))
    assert r["postinst"] == [] and r["mounted"] is False, r
    assert d.stop() == 0


if __name__ == "__main__":
    sys.exit(tplproto.run_tests(globals(), "apps"))
