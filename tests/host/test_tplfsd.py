#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Host tests of tplfsd and tplctl (no kernel module needed): the protocol,
authorisation as root and as an unprivileged user, malformed input, a burst
of clients, graceful stop, kill -9 recovery of an operation that never got
to mount, socket activation and sd_notify. Ends with "N passed, N failed".
Run as root (the daemon needs its capabilities): tests/host/run."""
import json
import os
import re
import random
import signal
import stat
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tplproto  # noqa: E402
from tplproto import Daemon, Gate, TIMEOUT, call, connect, reply  # noqa: E402
from tplproto import wait_until  # noqa: E402

BIN = os.environ["TPLFS_BIN"]
TPLCTL = os.path.join(BIN, "tplctl")
NOBODY = 65534
READ_GID = 4242


def tplctl(d, *args, user=None, groups=None):
    argv = [TPLCTL, "--socket", d.sock] + list(args)
    if user is not None:
        argv = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user,
                "--groups=%s" % (groups or str(user))] + argv
    p = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def make_ct(d, ct, conf="backend = dir\n"):
    priv = os.path.join(d.root, "private", ct)
    os.makedirs(os.path.join(priv, "fs"))
    with open(os.path.join(priv, "ct.conf"), "w") as f:
        f.write(conf)


def expect_error(r, code):
    assert r is not None, "no reply"
    assert r["type"] == "reply" and r["ok"] is False, r
    assert r["error"]["code"] == code, r
    assert r["error"]["message"], r
    return r["error"]["message"]


# --- the protocol -----------------------------------------------------------

def test_status_and_tplctl(tmp):
    d = Daemon(tmp).start()
    r = call(d.sock, "daemon.status")
    assert r["ok"], r
    res = r["result"]
    assert res["pid"] == d.proc.pid
    assert res["root"] == d.root and res["store"] == d.store
    assert res["kernel"]["available"] is False      # no module on the host
    assert "cap_sys_admin" in res["capabilities"]
    rc, out, err = tplctl(d, "daemon", "status")
    assert rc == 0, err
    assert "pid %d" % d.proc.pid in out and "not available" in out, out
    rc, out, _ = tplctl(d, "--json", "daemon", "status")
    assert rc == 0 and json.loads(out)["result"]["pid"] == d.proc.pid
    assert d.stop() == 0


def test_errors_of_each_kind(tmp):
    d = Daemon(tmp).start()
    expect_error(call(d.sock, "no.such"), "unknown_verb")
    expect_error(call(d.sock, "ct.stats"), "bad_args")
    expect_error(call(d.sock, "ct.stats", {"id": 1}), "bad_args")
    expect_error(call(d.sock, "ct.stats", {"id": "Bad/Id"}), "bad_args")
    expect_error(call(d.sock, "ct.stats", {"id": "a", "x": 1}), "bad_args")
    expect_error(call(d.sock, "ct.stats", {"id": "a"}), "unavailable")
    expect_error(call(d.sock, "ct.mount", {"id": "nope"}), "not_found")
    expect_error(call(d.sock, "ct.umount", {"id": "nope"}), "not_found")
    expect_error(call(d.sock, "ct.umount", {"id": "a", "force": "y"}),
                 "bad_args")
    rc, _, err = tplctl(d, "ct", "stats", "web1")
    assert rc == 1 and "module is not loaded" in err, (rc, err)
    rc, _, err = tplctl(d, "ct", "frobnicate")
    assert rc == 2 and "unknown command" in err, (rc, err)
    assert d.stop() == 0


def test_malformed_messages_get_errors(tmp):
    d = Daemon(tmp).start()
    with connect(d.sock) as s:
        for bad in [b"{", b"{\"verb\":\"daemon.status\"", b"not json",
                    b"[]", b"{\"verb\":\"daemon.status\"}{}", b"\xff\xfe",
                    b"{\"verb\":\"a\",\"args\":{\"s\":\"\xc3\"}}",
                    b"{\"verb\":\"a\"}\x00", b"[" * 100000]:
            s.send(bad)
            expect_error(reply(s)[0], "bad_request")
        # The same connection still serves a good request.
        s.send(b'{"verb":"daemon.status"}')
        assert reply(s)[0]["ok"]
    assert d.proc.poll() is None
    assert d.stop() == 0


def test_random_garbage_never_hurts(tmp):
    d = Daemon(tmp).start()
    rng = random.Random(1234)
    seeds = [b'{"verb":"ct.stats","args":{"id":"web1"}}',
             b'{"verb":"daemon.status","args":{}}']
    with connect(d.sock) as s:
        for i in range(2000):
            m = bytearray(rng.choice(seeds))
            for _ in range(rng.randint(1, 8)):
                op = rng.randint(0, 2)
                p = rng.randrange(len(m) + 1)
                if op == 0 and m:
                    m[p % len(m)] = rng.randrange(256)
                elif op == 1:
                    m[p:p] = bytes([rng.randrange(256)])
                else:
                    del m[p:p + rng.randint(1, 4)]
            if not m:
                continue
            s.send(bytes(m))
            r = reply(s)[0]
            assert r is not None and r["type"] == "reply", (m, r)
    assert call(d.sock, "daemon.status")["ok"]
    assert d.stop() == 0


def test_truncated_and_oversized_packets(tmp):
    d = Daemon(tmp).start()
    with connect(d.sock) as s:
        s.send(b'{"verb":"daemon.status","args":{"x":"' +
               b"a" * 70000 + b'"}}')
        r = reply(s)[0]
        expect_error(r, "bad_request")
        assert "larger than 65536" in r["error"]["message"], r
        s.send(b'{"verb":"daemon.status"}')
        assert reply(s)[0]["ok"]
    # A client that sends half a request and hangs up.
    s = connect(d.sock)
    s.send(b'{"verb":"daemon.st')
    s.close()
    assert call(d.sock, "daemon.status")["ok"]
    assert d.proc.poll() is None
    assert d.stop() == 0


def test_burst_of_clients(tmp):
    d = Daemon(tmp).start()
    n = 300
    socks = [connect(d.sock) for _ in range(n)]
    for s in socks:
        s.send(b'{"verb":"daemon.status"}')
    pids = set()
    for s in socks:
        r = reply(s)[0]
        assert r["ok"], r
        pids.add(r["result"]["pid"])
        s.close()
    assert pids == {d.proc.pid}
    r = call(d.sock, "daemon.status")
    assert r["result"]["requests"] >= n, r
    assert d.stop() == 0


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def test_a_client_that_never_reads_is_dropped(tmp):
    """Requests sent, replies never read: the daemon used to queue them
    all (RSS 37 -> 168 MB in 15 s). Past a bound the client is dropped,
    and everyone else is still served."""
    d = Daemon(tmp).start()
    before = rss_kb(d.proc.pid)
    s = connect(d.sock)
    req = json.dumps({"verb": "daemon.status"}).encode()
    dropped = False
    for _ in range(200000):
        try:
            s.send(req)
        except (BrokenPipeError, ConnectionResetError):
            dropped = True
            break
    s.close()
    assert dropped, "200000 requests sent and never dropped"
    wait_until(lambda: "leaves" in d.logtext() and "unread: dropped"
               in d.logtext(), "the drop in the log")
    assert rss_kb(d.proc.pid) - before < 32 * 1024, (before, rss_kb(d.proc.pid))
    r = call(d.sock, "daemon.status")
    assert r["ok"] and r["result"]["pid"] == d.proc.pid, r
    assert d.stop() == 0


def connect_as(sock, uid, gid=READ_GID):
    """A connection whose peer credentials (SO_PEERCRED: taken at
    connect) are @uid/@gid, from this process."""
    os.setegid(gid)
    os.seteuid(uid)
    try:
        return connect(sock)
    finally:
        os.seteuid(0)
        os.setegid(0)


def served(s):
    s.send(b'{"verb":"daemon.status"}')
    return reply(s)[0]


def test_max_clients(tmp):
    """Users other than root: max_clients in all, max_clients_per_uid each;
    root always gets through (a read-group member holding 1200
    connections made root's daemon status fail)."""
    conf = os.path.join(tmp, "tplfs.conf")
    with open(conf, "w") as f:
        f.write("max_clients = 3\nmax_clients_per_uid = 2\n"
                "read_group = %d\n" % READ_GID)
    os.chmod(tmp, 0o755)
    d = Daemon(tmp, config=conf).start()
    held = [connect_as(d.sock, NOBODY) for _ in range(2)]
    for s in held:      # make sure the daemon has accepted them
        assert served(s)["ok"]
    s = connect_as(d.sock, NOBODY)
    m = expect_error(served(s), "busy")
    assert "max_clients_per_uid = 2" in m, m
    assert tplproto.recv(s) is None     # and the daemon hangs up
    s.close()
    held.append(connect_as(d.sock, 60001))
    assert served(held[-1])["ok"]       # another user: 3 in all
    s = connect_as(d.sock, 60002)
    m = expect_error(served(s), "busy")
    assert "max_clients = 3" in m, m
    s.close()
    # root is never refused for the others' connections
    roots = [connect(d.sock) for _ in range(5)]
    for r in roots:
        assert served(r)["ok"]
        r.close()
    for s in held:
        s.close()
    # Their slots are free once the daemon has seen them go (busy till then).
    wait_until(lambda: served(connect_as(d.sock, NOBODY))["ok"],
               "the daemon to serve again once the clients left")
    assert d.stop() == 0


def test_out_of_descriptors_backs_off(tmp):
    """accept failing with EMFILE used to re-arm at once: 75% CPU and 376k
    log lines in 2.5 s. Now: one line, retried at each tick, and service
    again once descriptors are free."""
    import resource

    def few_fds():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    d = Daemon(tmp).start(preexec=few_fds)
    conns = []
    for _ in range(80):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(d.sock)       # into the backlog, accepted or not
        conns.append(s)
    wait_until(lambda: "accept: Too many open files" in d.logtext(),
               lambda: "the EMFILE line: " + d.logtext())
    # (it retries at each tick meanwhile, saying nothing more)
    for s in conns:
        s.close()
    wait_until(lambda: "accepting connections again" in d.logtext(),
               lambda: "service again: " + d.logtext())
    assert d.logtext().count("accept: ") == 1, d.logtext()
    assert served(connect(d.sock))["ok"]
    assert d.stop() == 0


def test_idle_connections_are_closed(tmp):
    conf = os.path.join(tmp, "tplfs.conf")
    with open(conf, "w") as f:
        f.write("idle_timeout = 1\n")
    d = Daemon(tmp, config=conf).start()
    s = connect(d.sock)
    assert served(s)["ok"]
    # closed after its idle timeout (the daemon's ticks; no deadline here)
    assert tplproto.recv(s) is None
    s.close()
    assert d.stop() == 0


# --- authorisation ----------------------------------------------------------

def test_read_group_may_only_read(tmp):
    conf = os.path.join(tmp, "tplfs.conf")
    with open(conf, "w") as f:
        f.write("read_group = %d\n" % READ_GID)
    os.chmod(tmp, 0o755)
    d = Daemon(tmp, config=conf).start()
    st = os.stat(d.sock)
    assert st.st_gid == READ_GID and st.st_mode & 0o777 == 0o660, st
    # A member of the group: reads, but may not change anything.
    rc, out, err = tplctl(d, "daemon", "status", user=NOBODY,
                          groups="%d" % READ_GID)
    assert rc == 0, err
    rc, _, err = tplctl(d, "ct", "mount", "web1", user=NOBODY,
                        groups="%d" % READ_GID)
    assert rc == 1 and "root only" in err and "denied" in err, (rc, err)
    rc, _, err = tplctl(d, "ct", "quota", "web1", user=NOBODY,
                        groups="%d" % READ_GID)
    assert rc == 1 and "no such container" in err, (rc, err)   # may read
    rc, _, err = tplctl(d, "ct", "quota", "web1", "--set", "1G", user=NOBODY,
                        groups="%d" % READ_GID)
    assert rc == 1 and "root only" in err and "denied" in err, (rc, err)
    rc, _, err = tplctl(d, "ct", "set", "web1", "--volatile", user=NOBODY,
                        groups="%d" % READ_GID)
    assert rc == 1 and "root only" in err and "denied" in err, (rc, err)
    # Not a member: the socket's mode keeps it out ...
    rc, _, err = tplctl(d, "daemon", "status", user=NOBODY)
    assert rc == 1 and "Permission denied" in err, (rc, err)
    # ... and so does the daemon, if the socket is opened up.
    os.chmod(d.sock, 0o666)
    rc, _, err = tplctl(d, "daemon", "status", user=NOBODY)
    assert rc == 1 and "may not use tplfsd" in err, (rc, err)
    # Root may do everything.
    rc, _, err = tplctl(d, "ct", "mount", "web1")
    assert rc == 1 and "no container web1" in err, (rc, err)
    assert d.stop() == 0


def test_without_read_group_only_root(tmp):
    os.chmod(tmp, 0o755)
    d = Daemon(tmp).start()
    assert os.stat(d.sock).st_mode & 0o777 == 0o600
    os.chmod(d.sock, 0o666)
    rc, _, err = tplctl(d, "daemon", "status", user=NOBODY,
                        groups="%d" % READ_GID)
    assert rc == 1 and "may not use tplfsd" in err, (rc, err)
    assert d.stop() == 0


def test_refuses_to_start_without_capabilities(tmp):
    os.chmod(tmp, 0o777)
    d = Daemon(tmp)
    d.binary = "setpriv"
    argv = d.argv()
    p = subprocess.run(["setpriv", "--reuid=%d" % NOBODY,
                        "--regid=%d" % NOBODY, "--clear-groups",
                        os.path.join(BIN, "tplfsd")] + argv[1:],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 1, p
    assert "missing capabilities: cap_sys_admin" in p.stderr, p.stderr
    assert "run it as root" in p.stderr, p.stderr
    assert not os.path.exists(d.sock)


def test_keeps_only_its_capabilities(tmp):
    d = Daemon(tmp).start()
    with open("/proc/%d/status" % d.proc.pid) as f:
        status = dict(line.split(":\t", 1) for line in f if ":\t" in line)
    want = 0
    for cap in (21, 1, 2, 3, 0, 4, 27, 31):  # see userspace/lib/caps.c
        want |= 1 << cap
    assert int(status["CapEff"], 16) == want, status["CapEff"]
    assert int(status["CapPrm"], 16) == want, status["CapPrm"]
    assert int(status["CapBnd"], 16) == want, status["CapBnd"]
    assert int(status["CapInh"], 16) == 0 and int(status["CapAmb"], 16) == 0
    assert status["NoNewPrivs"].strip() == "1"
    assert d.stop() == 0


# --- stopping, restarting, recovery ----------------------------------------

def paused_mount(tmp, gate=None):
    """A daemon whose ct.mount of web1 is held at the fault point
    ct.mount:journaled, until @gate (a tplproto.Gate) is opened, or forever
    if there is none; returns it and the connection that asked for the
    mount."""
    point = "ct.mount:journaled"
    d = Daemon(tmp, env={"TPLFSD_TEST_PAUSE": gate.at(point) if gate
                         else point})
    d.start()
    make_ct(d, "web1")
    s = connect(d.sock)
    s.send(b'{"verb":"ct.mount","args":{"id":"web1"}}')
    assert d.wait_log("test pause at " + point)
    return d, s


def test_graceful_stop_finishes_the_operation(tmp):
    gate = Gate(tmp)
    d, s = paused_mount(tmp, gate)
    assert d.journal() == ["ct-web1.json"]
    d.proc.send_signal(signal.SIGTERM)
    # Stopping: new requests are refused, the one under way is answered.
    assert d.wait_log("stopping (")
    assert "finishing 1 operation(s)" in d.logtext(), d.logtext()
    assert d.proc.poll() is None, d.logtext()    # it waits for the mount
    gate.open()
    r = reply(s)[0]
    s.close()
    # No module on the host: the mount itself fails, and is rolled back.
    expect_error(r, "system")
    assert "no tplfs filesystem in this kernel" in r["error"]["message"], r
    assert d.proc.wait(TIMEOUT) == 0, d.logtext()
    assert d.journal() == []
    assert not os.path.exists(os.path.join(d.root, "root", "web1"))
    assert not os.path.exists(d.sock)
    assert "stopped" in d.logtext()


def test_client_gone_mid_operation(tmp):
    gate = Gate(tmp)
    d, s = paused_mount(tmp, gate)
    s.close()
    gate.open()     # only now: the client is gone before the mount ends
    # The operation goes on to its end without its client.
    wait_until(lambda: d.journal() == [], "the mount's journal record to go")
    r = call(d.sock, "daemon.status")
    assert r["result"]["jobs"] == 0 and r["result"]["containers"] == [], r
    assert d.stop() == 0


def test_busy_container_refuses_a_second_operation(tmp):
    gate = Gate(tmp)
    d, s = paused_mount(tmp, gate)
    expect_error(call(d.sock, "ct.mount", {"id": "web1"}), "busy")
    # Other clients are answered while the job is still held.
    r = call(d.sock, "daemon.status")
    assert r["result"]["jobs"] == 1, r
    assert r["result"]["containers"][0]["busy"] is True, r
    gate.open()
    reply(s)
    s.close()
    assert d.stop() == 0


def test_kill9_then_restart_rolls_back(tmp):
    d, s = paused_mount(tmp)        # held forever: killed there
    d.proc.kill()
    d.proc.wait()
    s.close()
    assert d.journal() == ["ct-web1.json"]
    assert os.path.exists(d.sock)           # stale, left by the kill
    d.env.pop("TPLFSD_TEST_PAUSE")
    d.start()
    assert "recovery: ct.mount web1 had not mounted it: rolled back" in \
        d.logtext(), d.logtext()
    assert d.journal() == []
    r = call(d.sock, "daemon.status")
    assert r["result"]["recovered"] == 1, r
    assert d.stop() == 0


def test_unreadable_journal_record_is_kept(tmp):
    d = Daemon(tmp)
    os.makedirs(os.path.join(d.root, "journal"))
    with open(os.path.join(d.root, "journal", "ct-x.json"), "w") as f:
        f.write("{broken")
    d.start()
    assert "journal record ct-x is unreadable or unknown; left in place" in \
        d.logtext()
    assert d.journal() == ["ct-x.json"]
    assert d.stop() == 0


def test_second_daemon_on_the_same_socket(tmp):
    d = Daemon(tmp).start()
    d2 = Daemon(tmp)
    d2.log = os.path.join(tmp, "second.log")
    d2.start(wait=False)
    assert d2.proc.wait(TIMEOUT) == 1
    assert "another tplfsd (pid %d) holds %s/tplfsd.lock" % (
        d.proc.pid, d.root) in d2.logtext(), d2.logtext()
    # Another root, the same socket: refused too.
    d3 = Daemon(tmp)
    d3.root = os.path.join(tmp, "root3")
    d3.log = os.path.join(tmp, "third.log")
    d3.start(wait=False)
    assert d3.proc.wait(TIMEOUT) == 1
    assert "another tplfsd (pid %d) holds %s.lock" % (
        d.proc.pid, d.sock) in d3.logtext(), d3.logtext()
    assert call(d.sock, "daemon.status")["ok"]
    assert d.stop() == 0


def test_background_start(tmp):
    d = Daemon(tmp)
    # The parent returns once the daemon serves; no output stays attached
    # (start-up warnings go to the terminal, the rest to syslog).
    p = background(d)
    assert p.returncode == 0, p
    assert p.stdout == "" and only_the_module_warning(p.stderr), p
    assert "ready on" not in p.stderr, p
    stop_background(d.sock)


def background(d, **changes):
    """Start @d's daemon in the background (argv with @changes: option ->
    value): the parent's CompletedProcess."""
    argv = [a for a in d.argv() if a != "--foreground"]
    for opt, val in changes.items():
        argv[argv.index("--" + opt) + 1] = val
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=TIMEOUT, env=env)


def only_the_module_warning(text):
    """Start-up output on a host without the module: warnings only (that
    one, and RLIMIT_NOFILE's on a host whose hard limit is low)."""
    return all(ln.startswith("<4>tplfsd: ") for ln in text.splitlines())


def stop_background(sock):
    r = call(sock, "daemon.status")
    os.kill(r["result"]["pid"], signal.SIGTERM)
    wait_until(lambda: not os.path.exists(sock),
               "the stopped daemon to remove its socket")


def test_start_up_errors_reach_the_terminal(tmp):
    """Started in the background, a daemon that cannot start says why on
    stderr (it used to exit 1 with the reason in syslog only)."""
    d = Daemon(tmp).start()
    p = background(d, socket=os.path.join(tmp, "other.sock"))
    assert p.returncode == 1, p
    assert "another tplfsd (pid %d) holds" % d.proc.pid in p.stderr, p
    assert d.stop() == 0
    # --root's missing parents are made
    root = os.path.join(tmp, "a", "b", "root")
    p = background(d, root=root)
    assert p.returncode == 0 and only_the_module_warning(p.stderr), p
    assert os.path.isdir(os.path.join(root, "journal"))
    stop_background(d.sock)


def test_socket_path_that_is_not_a_socket_is_kept(tmp):
    d = Daemon(tmp)
    with open(d.sock, "w") as f:
        f.write("precious\n")
    p = background(d)
    assert p.returncode == 1, p
    assert d.sock + " exists and is not a socket: not removed" in p.stderr, p
    with open(d.sock) as f:
        assert f.read() == "precious\n"
    # a stale socket (its daemon killed) is replaced
    os.unlink(d.sock)
    d.start()
    d.proc.kill()
    d.proc.wait()
    assert stat.S_ISSOCK(os.lstat(d.sock).st_mode)
    p = background(d)
    assert p.returncode == 0, p
    stop_background(d.sock)


def test_inherited_descriptors_are_closed(tmp):
    d = Daemon(tmp)
    secret = os.path.join(tmp, "callers-file")
    fd = os.open(secret, os.O_RDWR | os.O_CREAT, 0o600)
    r, wpipe = os.pipe()
    logf = open(d.log, "ab")
    proc = subprocess.Popen(d.argv(), stdout=logf, stderr=logf,
                            pass_fds=(fd, wpipe))
    logf.close()
    os.close(fd)
    os.close(wpipe)
    d.proc = proc
    try:
        d.wait_ready()
        held = [os.readlink("/proc/%d/fd/%s" % (proc.pid, n))
                for n in os.listdir("/proc/%d/fd" % proc.pid)]
        assert secret not in held, held
        # the pipe's write end is gone: its reader sees EOF
        assert os.read(r, 1) == b""
    finally:
        os.close(r)
        assert d.stop() == 0


def test_socket_activation_and_notify(tmp):
    d = Daemon(tmp)
    notify = os.path.join(tmp, "notify.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(notify)
    ns.settimeout(TIMEOUT)
    env = dict(os.environ, NOTIFY_SOCKET=notify)
    argv = ["systemd-socket-activate", "--seqpacket", "-l", d.sock,
            "-E", "NOTIFY_SOCKET=" + notify] + \
        [a for a in d.argv() if a not in ("--socket", d.sock)]
    logf = open(d.log, "ab")
    proc = subprocess.Popen(argv, stdout=logf, stderr=logf, env=env)
    logf.close()
    try:
        wait_until(lambda: os.path.exists(d.sock) or proc.poll() is not None,
                   "systemd-socket-activate to listen on " + d.sock)
        # The first client starts the daemon.
        r = call(d.sock, "daemon.status")
        assert r["ok"], r
        assert r["result"]["pid"] == proc.pid   # exec'd in place
        msgs = ns.recv(4096).decode()
        assert "READY=1" in msgs, msgs
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(TIMEOUT) == 0, d.logtext()
        msgs = ns.recv(4096).decode()
        while "STOPPING=1" not in msgs:
            msgs = ns.recv(4096).decode()
    finally:
        if proc.poll() is None:
            proc.kill()
        ns.close()


def test_sighup_reloads_the_settings(tmp):
    """SIGHUP reads the file again: read_group (the socket's group and
    mode, and connections already open), max_clients_per_uid at once;
    root only at a restart, said in the log; a file that does not read
    changes nothing."""
    conf = os.path.join(tmp, "tplfs.conf")

    def write_conf(text):
        with open(conf + ".new", "w") as f:
            f.write(text)
        os.rename(conf + ".new", conf)

    def reload(n):
        d.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: d.logtext().count("SIGHUP: ") >= n,
                   lambda: "reload %d: %s" % (n, d.logtext()))
        return d.logtext()

    write_conf("max_clients_per_uid = 1\n")
    os.chmod(tmp, 0o755)
    d = Daemon(tmp, config=conf).start()
    assert os.stat(d.sock).st_mode & 0o777 == 0o600
    os.chmod(d.sock, 0o666)     # so that the daemon's own refusal is seen
    s = connect_as(d.sock, NOBODY)
    expect_error(served(s), "denied")
    s.close()

    write_conf("max_clients_per_uid = 1\nread_group = %d\n" % READ_GID)
    log = reload(1)
    assert "read again: read_group none -> %d" % READ_GID in log, log
    st = os.stat(d.sock)
    assert st.st_gid == READ_GID and st.st_mode & 0o777 == 0o660, st
    held = connect_as(d.sock, NOBODY)
    assert served(held)["ok"]
    s = connect_as(d.sock, NOBODY)
    m = expect_error(served(s), "busy")
    assert "max_clients_per_uid = 1" in m, m
    s.close()

    write_conf("max_clients_per_uid = 2\nroot = /elsewhere\n")
    log = reload(3)     # the warning about root, then the summary
    assert "root = /elsewhere takes effect at the next start; the daemon " \
        "keeps %s" % d.root in log, log
    assert "read again: max_clients_per_uid 1 -> 2, read_group %d -> none" \
        % READ_GID in log, log
    assert os.stat(d.sock).st_mode & 0o777 == 0o600
    # the member it let in is told at its next request, and hung up on
    expect_error(served(held), "denied")
    assert tplproto.recv(held) is None
    held.close()

    write_conf("read_group = %d\nmax_clients = lots\n" % READ_GID)
    log = reload(4)
    assert "every setting stays as it was" in log, log
    assert os.stat(d.sock).st_mode & 0o777 == 0o600
    assert served(connect(d.sock))["ok"]
    assert d.stop() == 0


def test_bad_configuration_is_refused(tmp):
    conf = os.path.join(tmp, "bad.conf")
    with open(conf, "w") as f:
        f.write("root = /x\nfrobnicate = 1\n")
    d = Daemon(tmp, config=conf)
    p = subprocess.run(d.argv(), capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert p.returncode == 1
    assert "bad.conf:2: unknown setting \"frobnicate\"" in p.stderr, p.stderr
    p = subprocess.run([d.binary, "--bogus"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert p.returncode == 2 and "Usage" in p.stderr


def test_tplctl_without_daemon(tmp):
    sock = os.path.join(tmp, "none.sock")
    p = subprocess.run([TPLCTL, "--socket", sock, "daemon", "status"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 3, p
    assert "tplfsd is not running" in p.stderr, p.stderr
    assert "systemctl start tplfsd" in p.stderr, p.stderr


# --- the systemd units ------------------------------------------------------

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))


def test_systemd_units_verify(tmp):
    """make install puts the units in place; systemd-analyze verify finds
    nothing to say about them (it prints warnings but exits 0 on many)."""
    inst = os.path.join(tmp, "inst")
    p = subprocess.run(["make", "-s", "-C", TOP, "install", "DESTDIR=",
                        "PREFIX=" + inst + "/usr",
                        "SYSTEMDUNITDIR=" + inst + "/units",
                        "MODULESLOADDIR=" + inst + "/modules-load.d",
                        "DKMSSRCDIR=" + inst + "/src", "DKMS=no"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    units = os.path.join(inst, "units")
    assert sorted(os.listdir(units)) == ["tplfs-ct@.service",
                                         "tplfsd.service", "tplfsd.socket"]
    with open(os.path.join(inst, "modules-load.d", "tplfs.conf")) as f:
        assert "tplfs" in [ln.strip() for ln in f]
    p = subprocess.run(["systemd-analyze", "verify",
                        os.path.join(units, "tplfsd.service"),
                        os.path.join(units, "tplfsd.socket"),
                        os.path.join(units, "tplfs-ct@web1.service")],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0 and not p.stderr.strip() and \
        not p.stdout.strip(), p
    with open(os.path.join(units, "tplfsd.service")) as f:
        svc = f.read()
    assert "ExecStart=%s/usr/sbin/tplfsd --foreground" % inst in svc
    assert "Type=notify" in svc
    # The unit's bounding set is exactly what the daemon keeps.
    bset = [ln.split("=", 1)[1].split() for ln in svc.splitlines()
            if ln.startswith("CapabilityBoundingSet=")][0]
    r = Daemon(tmp).start()
    kept = call(r.sock, "daemon.status")["result"]["capabilities"]
    assert r.stop() == 0
    assert sorted(c.lower() for c in bset) == sorted(kept.split(",")), \
        (bset, kept)
    with open(os.path.join(units, "tplfsd.socket")) as f:
        assert "ListenSequentialPacket=/run/tplfs/tplfsd.sock" in f.read()


def test_dkms_builds_the_module_for_both_kernels(tmp):
    """make install puts the module's sources and dkms.conf in
    /usr/src/tplfs-VERSION; dkms builds them (here against the cached
    headers of both target kernels, in a DKMS tree of the test's own)."""
    inst = os.path.join(tmp, "inst")
    p = subprocess.run(["make", "-s", "-C", TOP, "install", "DESTDIR=" + inst,
                        "PREFIX=/usr"], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    with open(os.path.join(TOP, "userspace/lib/version.h")) as f:
        version = re.search(r'TPLFS_VERSION\s+"(.*)"', f.read()).group(1)
    src = os.path.join(inst, "usr/src")
    with open(os.path.join(src, "tplfs-" + version, "dkms.conf")) as f:
        conf = f.read()
    assert 'PACKAGE_VERSION="%s"' % version in conf, conf
    for k in ("6.12", "6.1"):
        kver = subprocess.run([TOP + "/scripts/kernel-cache.sh", "kver", k],
                              capture_output=True, text=True).stdout.strip()
        kdir = subprocess.run([TOP + "/scripts/kernel-cache.sh", "kdir", k],
                              capture_output=True, text=True).stdout.strip()
        tree = os.path.join(tmp, "dkms-" + k)
        os.makedirs(tree)
        p = subprocess.run(["dkms", "build", "-m", "tplfs", "-v", version,
                            "-k", kver, "--kernelsourcedir", kdir,
                            "--sourcetree", src, "--dkmstree", tree],
                           capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, (k, p.stdout[-2000:], p.stderr[-2000:])
        ko = os.path.join(tree, "tplfs", version, kver, "x86_64", "module",
                          "tplfs.ko")
        m = subprocess.run(["modinfo", "-F", "vermagic", ko],
                           capture_output=True, text=True)
        assert m.stdout.startswith(kver + " "), (ko, m.stdout, m.stderr)


if __name__ == "__main__":
    sys.exit(tplproto.run_tests(globals(), "daemon"))
