# SPDX-License-Identifier: GPL-2.0-or-later
"""A raw client of the tplfsd protocol (doc/protocol.md), for tests: it can
send anything, including what tplctl never would."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback

MSG_MAX = 65536

# How long any wait or client call may take before the test calls it a hang.
# Only a hang ever gets there: these machines are shared and a run can be ten
# times slower than the last, so no test may depend on how fast it goes.
TIMEOUT = 300


def wait_until(cond, what, timeout=TIMEOUT, interval=0.02):
    """Poll cond() every @interval s until it returns something true, and
    return that; after @timeout s raise AssertionError naming @what (a
    string, or a function giving one, e.g. with the log as it is by then)."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= end:
            raise AssertionError("still waiting after %d s for %s" % (
                timeout, what() if callable(what) else what))
        time.sleep(interval)


class Gate:
    """A fault point that holds a job until the test opens it: the
    daemon's TPLFSD_TEST_PAUSE=POINT@FILE waits at POINT until FILE exists
    (doc/tplfsd.md, "Fault points for tests")."""

    def __init__(self, tmp, name="gate"):
        self.path = os.path.join(tmp, name)

    def at(self, point):
        """The TPLFSD_TEST_PAUSE value that holds @point at this gate."""
        return "%s@%s" % (point, self.path)

    def open(self):
        with open(self.path, "w"):
            pass


def connect(path, timeout=TIMEOUT):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(timeout)
    s.connect(path)
    return s


def send_raw(s, data):
    s.send(data)


def recv(s):
    """The next message, parsed; None when the daemon closed."""
    data = s.recv(MSG_MAX + 1)
    if not data:
        return None
    return json.loads(data)


def reply(s):
    """Skip progress messages; return (reply, [progress...])."""
    progress = []
    while True:
        m = recv(s)
        if m is None or m.get("type") == "reply":
            return m, progress
        progress.append(m)


def call(path, verb, args=None, timeout=TIMEOUT):
    with connect(path, timeout) as s:
        s.send(json.dumps({"verb": verb, "args": args or {}}).encode())
        return reply(s)[0]


class Daemon:
    """A tplfsd in the foreground on a private root, store and socket."""

    def __init__(self, tmp, env=None, config=None, binary=None):
        self.tmp = tmp
        self.root = os.path.join(tmp, "root")
        self.store = os.path.join(tmp, "store")
        self.sock = os.path.join(tmp, "tplfsd.sock")
        self.log = os.path.join(tmp, "tplfsd.log")
        self.config = config or "/dev/null"
        self.binary = binary or os.path.join(os.environ["TPLFS_BIN"], "tplfsd")
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.log_from = 0   # where the current run's log starts

    def argv(self):
        return [self.binary, "--foreground", "--config", self.config,
                "--root", self.root, "--store", self.store,
                "--socket", self.sock]

    def start(self, wait=True, preexec=None):
        logf = open(self.log, "ab")
        self.log_from = logf.tell()
        self.proc = subprocess.Popen(self.argv(), stdout=logf, stderr=logf,
                                     env=self.env, preexec_fn=preexec)
        logf.close()
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=TIMEOUT):
        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("tplfsd exited %d: %s" %
                                   (self.proc.returncode, self.logtext()))
            return "ready on" in self.logtext()
        wait_until(ready, lambda: "tplfsd to start: " + self.logtext(),
                   timeout)

    def logtext(self, whole=False):
        """The log of the current run (of every run if whole)."""
        try:
            with open(self.log, "rb") as f:
                return f.read().decode(errors="replace") if whole else \
                    f.read()[self.log_from:].decode(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, text, timeout=TIMEOUT):
        """Wait until the current run's log has @text (True); raise
        AssertionError, with the log, if it never comes."""
        return wait_until(lambda: text in self.logtext(),
                          lambda: "%r in the log of tplfsd:\n%s" % (
                              text, self.logtext()), timeout)

    def stop(self, sig=15, timeout=TIMEOUT):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("tplfsd did not stop on signal %d" % sig)
        return self.proc.returncode

    def journal(self):
        d = os.path.join(self.root, "journal")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []


def run_tests(names, label):
    """Run every test_* function of @names (argv narrows them), each in a
    fresh temporary directory; print "LABEL: N passed, N failed"."""
    tests = [(n, f) for n, f in sorted(names.items())
             if n.startswith("test_") and callable(f)]
    only = sys.argv[1:]
    passed = failed = 0
    for name, fn in tests:
        if only and name not in only:
            continue
        tmp = tempfile.mkdtemp(prefix="tplfsd-test-")
        t0 = time.monotonic()
        try:
            fn(tmp)
            passed += 1
            print("ok   %s (%.1f s)" % (name, time.monotonic() - t0))
        except Exception:
            failed += 1
            print("FAIL %s" % name)
            traceback.print_exc()
            for f in sorted(os.listdir(tmp)):
                if f.endswith(".log"):
                    with open(os.path.join(tmp, f), errors="replace") as lf:
                        print("--- %s:\n%s" % (f, lf.read()))
        finally:
            subprocess.run(["pkill", "-KILL", "-f", "--", "--root " + tmp],
                           capture_output=True)
            subprocess.run(["umount", "-R", "-l", tmp], capture_output=True)
            shutil.rmtree(tmp, ignore_errors=True)
    print("%s: %d passed, %d failed" % (label, passed, failed))
    sys.stdout.flush()
    return 1 if failed else 0
