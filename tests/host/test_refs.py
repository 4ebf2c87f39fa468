#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Host tests of the references every daemon keeps in a shared store
(issue 21, doc/store.md "Shared stores"): two daemons (two hosts) on one
store; template rm and gc on one see the other's containers; references
follow creates, destroys, rebases and relinks; a daemon removes its own
leftovers at start and gives old containers a uuid; stale references of a
host that is gone are listed and pruned only when asked. Ends with
"refs: N passed, N failed"."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tplproto  # noqa: E402
from tplproto import call  # noqa: E402
from test_store import err, make_tree, new_daemon, objects, ok, tplctl  # noqa: E402


def two_hosts(tmp):
    """Daemons a and b on one store, which holds os@1 and os@2."""
    a, b = new_daemon(tmp, "a"), new_daemon(tmp, "b")
    b.store = a.store
    a.start()
    b.start()
    for v in ("1", "2"):
        src = os.path.join(tmp, "src" + v)
        make_tree(src, variant=b"V=" + v.encode() + b"\n")
        ok(call(a.sock, "template.import", {"template": "os@" + v, "from": src}))
    return a, b


def refs_dir(d, tpl):
    p = os.path.join(d.store, "refs", tpl)
    return sorted(os.listdir(p)) if os.path.isdir(p) else []


def uuid_of(d, ct):
    for line in open(os.path.join(d.root, "private", ct, "ct.conf")):
        if line.startswith("uuid = "):
            return line.split()[2]
    return None


def test_another_hosts_containers_keep_their_template(tmp):
    a, b = two_hosts(tmp)
    ok(call(a.sock, "ct.create", {"id": "c1", "template": "os@1"}))
    u = uuid_of(a, "c1")
    assert u and len(u) == 32, u
    assert refs_dir(a, "os@1") == [u]
    text = open(os.path.join(a.store, "refs", "os@1", u)).read()
    assert "ct = c1\n" in text and ":%s\n" % a.root in text, text
    # b has no container of its own: a's keeps os@1 from b's rm and gc
    m = err(call(b.sock, "template.rm", {"template": "os@1"}), "busy")
    assert "c1 on " in m, m
    before = objects(a)
    r = ok(call(b.sock, "store.gc"))
    assert r["removed"] == 0, r
    listed = ok(call(b.sock, "store.refs"))["refs"]
    assert [(x["template"], x["ct"], x["mine"], x["stale"]) for x in listed] == \
        [("os@1", "c1", False, False)], listed
    # the container gone, its reference goes; then b may remove os@1
    ok(call(a.sock, "ct.destroy", {"id": "c1"}))
    assert refs_dir(a, "os@1") == []
    ok(call(b.sock, "template.rm", {"template": "os@1"}))
    r = ok(call(b.sock, "store.gc"))
    assert r["removed"] > 0 and objects(a) < before, r
    assert a.stop() == 0 and b.stop() == 0


def test_references_follow_rebase_and_relink(tmp):
    a, b = two_hosts(tmp)
    ok(call(a.sock, "ct.create", {"id": "c1", "template": "os@1"}))
    u = uuid_of(a, "c1")
    # a dry run names nothing new; a relink against os@2 does, first
    ok(call(a.sock, "ct.relink", {"id": "c1", "against": ["os@2"], "dry_run": True}))
    assert refs_dir(a, "os@2") == []
    ok(call(a.sock, "ct.relink", {"id": "c1", "against": ["os@2"]}))
    assert refs_dir(a, "os@2") == [u]
    ok(call(a.sock, "ct.rebase", {"id": "c1", "to": "os@2"}))
    assert refs_dir(a, "os@2") == [u]
    conf = open(os.path.join(a.root, "private", "c1", "ct.conf")).read()
    assert "os@1" not in conf and refs_dir(a, "os@1") == [], conf
    err(call(b.sock, "template.rm", {"template": "os@2"}), "busy")
    assert a.stop() == 0 and b.stop() == 0


def test_a_daemon_settles_its_own_at_start(tmp):
    """Its leftovers (a reference to a container it no longer has) are
    removed; a container from before references gets a uuid and its
    reference; other daemons' references are left."""
    a, b = two_hosts(tmp)
    ok(call(a.sock, "ct.create", {"id": "c1", "template": "os@1"}))
    ok(call(b.sock, "ct.create", {"id": "c9", "template": "os@1"}))
    assert a.stop() == 0
    conf = os.path.join(a.root, "private", "c1", "ct.conf")
    old = uuid_of(a, "c1")
    with open(conf) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write("".join(x + "\n" for x in text.splitlines() if not x.startswith("uuid")))
    a.start()
    new = uuid_of(a, "c1")
    assert new and new != old, (old, new)
    refs = refs_dir(a, "os@1")
    assert new in refs and old not in refs and uuid_of(b, "c9") in refs, refs
    assert a.stop() == 0 and b.stop() == 0


def test_leases_are_renewed_at_start_not_at_each_operation(tmp):
    """An operation writes only a reference that is missing (no write and
    sync of each at every mount or relink); a start renews them all."""
    a, b = two_hosts(tmp)
    ok(call(a.sock, "ct.create", {"id": "c1", "template": "os@1"}))
    path = os.path.join(a.store, "refs", "os@1", uuid_of(a, "c1"))
    t = time.time() - 24 * 3600
    os.utime(path, (t, t))
    ok(call(a.sock, "ct.relink", {"id": "c1"}))    # an operation on c1
    assert abs(os.stat(path).st_mtime - t) < 1, "rewritten by ct.relink"
    assert a.stop() == 0
    a.start()
    assert os.stat(path).st_mtime > t + 3600, "not renewed at start"
    assert a.stop() == 0 and b.stop() == 0


def test_stale_references_are_pruned_only_when_asked(tmp):
    a, b = two_hosts(tmp)
    # a host that is gone: its reference not renewed for 8 days
    gone = os.path.join(a.store, "refs", "os@2")
    os.makedirs(gone, exist_ok=True)
    path = os.path.join(gone, "ab" * 16)
    with open(path, "w") as f:
        f.write("host = gone\ndaemon = 0000:/var/lib/tplfs\nct = old1\n")
    t = time.time() - 8 * 24 * 3600
    os.utime(path, (t, t))
    ok(call(a.sock, "ct.create", {"id": "c1", "template": "os@1"}))
    m = err(call(b.sock, "template.rm", {"template": "os@2"}), "busy")
    assert "old1 on gone" in m, m
    rc, out, e = tplctl(b, "store", "refs")
    assert rc == 0 and "old1" in out and "stale" in out, (out, e)
    r = ok(call(b.sock, "store.refs", {"prune": True}))
    assert r["pruned"] == 1, r
    assert [x["ct"] for x in r["refs"]] == ["c1"], r
    assert not os.path.exists(path)
    ok(call(b.sock, "template.rm", {"template": "os@2"}))
    # a's own reference, fresh, is never pruned
    assert refs_dir(a, "os@1") == [uuid_of(a, "c1")]
    err(call(b.sock, "store.refs", {"prune": "yes"}), "bad_args")
    assert a.stop() == 0 and b.stop() == 0


if __name__ == "__main__":
    sys.exit(tplproto.run_tests(globals(), "refs"))
