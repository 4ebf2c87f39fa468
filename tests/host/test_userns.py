#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Host tests of containers of shifted ids (ct create --userns BASE:COUNT,
doc/userns.md), on unmounted containers: every owner and group of the
private area is the template's plus BASE, and so are the ids in POSIX
ACLs and the root of a file capability (made a namespaced one); bad
ranges and templates whose ids do not fit are refused and make nothing;
a rebase keeps the shift and sees no change in the ownership it made;
publish from such a container is refused. Ends with
"userns: N passed, N failed"."""
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tplproto  # noqa: E402
from tplproto import call  # noqa: E402
from test_store import (CAP, daemon_with_template, err, ok, shown,  # noqa: E402
                        template_v2, tplctl, w)

BASE = 524288
COUNT = 65536
USERNS = "%d:%d" % (BASE, COUNT)


def walk(root):
    """{relative path: lstat} of every entry under @root."""
    out = {"": os.lstat(root)}
    for top, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(top, n)
            out[os.path.relpath(p, root)] = os.lstat(p)
    return out


def acl_ids(path):
    """(tag, id) of the user and group entries of @path's access ACL."""
    v = os.getxattr(path, "system.posix_acl_access", follow_symlinks=False)
    return [(t, i) for t, _, i in struct.iter_unpack("<HHI", v[4:])
            if t in (2, 8)]


def test_create_shifts_every_id(tmp):
    """Owners, groups, ACL ids and the file capability of every entry, the
    root directory too, are the template's shifted; the container's own
    machine-id keeps the shifted owner; ct.conf, ct show and the reply
    say the range."""
    d, src = daemon_with_template(tmp)
    rc, out, e = tplctl(d, "ct", "create", "u1", "--template", "os@1",
                        "--userns", USERNS)
    assert rc == 0, e
    assert "its ids shifted for user namespace %s" % USERNS in out, out
    rc, out, e = tplctl(d, "ct", "status", "u1")
    assert rc == 0 and "userns     %s" % USERNS in out, (out, e)
    priv = os.path.join(d.root, "private", "u1")
    fs = priv + "/fs"
    want, got = walk(src), walk(fs)
    assert set(want) == set(got), set(want) ^ set(got)
    for p, st in want.items():
        assert (got[p].st_uid, got[p].st_gid) == \
            (st.st_uid + BASE, st.st_gid + BASE), (p, got[p], st)
        assert got[p].st_mode == st.st_mode, p
    assert got["etc/shadow"].st_gid == BASE + 42
    # user:1234 of the template's ACL
    assert acl_ids(fs + "/etc/os-release") == [(2, BASE + 1234)]
    # cap_net_raw+ep, made revision 3 whose root is BASE
    cap = os.getxattr(fs + "/usr/bin/tool", "security.capability")
    assert cap == bytes([1, 0, 0, 3]) + CAP[4:20] + struct.pack("<I", BASE), cap
    assert got["usr/bin/tool"].st_mode & 0o7777 == 0o4755
    assert got["usr/bin/tool"].st_ino == got["usr/bin/tool-link"].st_ino
    assert "userns = %s\n" % USERNS in open(priv + "/ct.conf").read()
    shown_ct = [c for c in ok(call(d.sock, "ct.list", {}))["containers"]
                if c["id"] == "u1"][0]
    assert shown_ct["userns"] == USERNS, shown_ct
    # a container without it says nothing of it, and keeps the host's ids
    r = ok(call(d.sock, "ct.create", {"id": "plain", "template": "os@1"}))
    assert "userns" not in r, r
    assert os.lstat(os.path.join(d.root, "private/plain/fs/etc/shadow")).st_gid == 42
    assert d.stop() == 0


def test_bad_ranges_and_misfits_are_refused(tmp):
    """A range that is not one, one past the largest id, or one too small
    for the template's ids: bad_args, naming why, and nothing made."""
    d, src = daemon_with_template(tmp)
    for bad in ("0:65536", "524288", "524288:0", "x:1", "4294901760:65536",
                "524288:65536:1", 5):
        m = err(call(d.sock, "ct.create", {"id": "x", "template": "os@1",
                                           "userns": bad}), "bad_args")
        assert "userns" in m, m
    # the template's ACL names user 1234: a range of 1000 cannot hold it
    m = err(call(d.sock, "ct.create", {"id": "x", "template": "os@1",
                                       "userns": "%d:1000" % BASE}),
            "bad_args")
    assert "/etc/os-release" in m and "outside the range" in m, m
    assert not os.path.exists(os.path.join(d.root, "private", "x"))
    assert not [n for n in os.listdir(os.path.join(d.root, "private"))
                if "x" in n], os.listdir(os.path.join(d.root, "private"))
    rc, out, e = tplctl(d, "ct", "mount", "x", "--userns", USERNS)
    assert rc == 2, (rc, e)
    assert d.stop() == 0


def test_rebase_keeps_the_shift(tmp):
    """A rebase of a shifted container: what it brings is shifted, what it
    left alone keeps its shifted owner, and the ownership the creation
    made is no change of the container's (no conflict, nothing kept); a
    second container, changed, keeps its change."""
    d, src = daemon_with_template(tmp)
    template_v2(tmp, d)
    ok(call(d.sock, "ct.create", {"id": "u1", "template": "os@1",
                                  "userns": USERNS}))
    fs = os.path.join(d.root, "private", "u1", "fs")
    # the container's root gives its own file to its user 1000
    os.chown(fs + "/etc/hostname", BASE + 1000, BASE + 1000)
    r = ok(call(d.sock, "ct.rebase", {"id": "u1", "to": "os@2"}))
    assert r["conflicts"] == 0, r
    assert shown(d, fs + "/etc/os-release") == b"NAME=test\nVERSION=2\n"
    assert shown(d, fs + "/usr/bin/new") == b"new in 2\n"
    for p, st in walk(fs).items():
        assert st.st_uid >= BASE and st.st_gid >= BASE, (p, st)
    assert os.lstat(fs + "/etc/hostname").st_uid == BASE + 1000
    assert acl_ids(fs + "/etc/os-release") == [(2, BASE + 1234)]
    cap = os.getxattr(fs + "/usr/bin/tool", "security.capability")
    assert cap[20:] == struct.pack("<I", BASE), cap
    r = ok(call(d.sock, "ct.rebase", {"id": "u1", "to": "os@2"}))
    assert r["updated"] + r["created"] + r["removed"] + r["conflicts"] == 0, r
    # ct.conf keeps the range through the rebase and through ct set
    ok(call(d.sock, "ct.set", {"id": "u1", "quota": "1G"}))
    conf = open(os.path.join(d.root, "private", "u1", "ct.conf")).read()
    assert "template = os@2\n" in conf and "userns = %s\n" % USERNS in conf, conf
    assert d.stop() == 0


def test_app_add_and_rm_keep_the_shift(tmp):
    """ct app add on a container of shifted ids: what the layer brings is
    shifted, no conflict comes of the ownership creation gave; ct app rm
    gives back the private area as it was, owners included; ct create
    --app shifts the same."""
    import test_apps
    d, src, app = test_apps.started(tmp)
    ok(call(d.sock, "ct.create", {"id": "u1", "template": "os@1",
                                  "userns": USERNS}))
    fs = os.path.join(d.root, "private", "u1", "fs")
    before = test_apps.snapshot(fs)
    r = ok(call(d.sock, "ct.app.add", {"id": "u1", "app": "app@1"}))
    assert r["conflicts"] == 0 and r["kept"] == 0, r
    for p in ("/usr/bin/app", "/etc/app.conf", "/usr/share/app",
              "/var/lib/dpkg/status"):
        st = os.lstat(fs + p)
        assert (st.st_uid, st.st_gid) == (BASE, BASE), (p, st)
    for p, st in walk(fs).items():
        assert st.st_uid >= BASE and st.st_gid >= BASE, (p, st)
    ok(call(d.sock, "ct.app.rm", {"id": "u1", "app": "app@1"}))
    assert test_apps.snapshot(fs) == before
    ok(call(d.sock, "ct.create", {"id": "u2", "template": "os@1",
                                  "userns": USERNS, "apps": ["app@1"]}))
    st = os.lstat(os.path.join(d.root, "private", "u2", "fs", "usr/bin/app"))
    assert (st.st_uid, st.st_gid) == (BASE, BASE), st
    assert d.stop() == 0


def test_publish_from_a_shifted_container_is_refused(tmp):
    d, src = daemon_with_template(tmp)
    ok(call(d.sock, "ct.create", {"id": "u1", "template": "os@1",
                                  "userns": USERNS}))
    m = err(call(d.sock, "template.publish", {"template": "os@9",
                                              "from_ct": "u1"}), "bad_args")
    assert "shifted" in m, m
    assert d.stop() == 0


if __name__ == "__main__":
    sys.exit(tplproto.run_tests(globals(), "userns"))
