#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The control plane on the host (no module, no guest): requests per second
and latency of tplfsd's read verbs at many clients, with 100 and then 1000
containers, measured by build/bench/ctl-load against a tplfsd on a
private root. With --base REV, the tplfsd of commit REV (built in a git
worktree) is measured the same way in the same run, before this tree's.

  bench/host-ctl.py [--clients N] [--seconds S] [--containers A,B]
                    [--base REV] [--out FILE.md]

--containers: the two sizes (default 100,1000): every verb at the first,
the listings at the second.

Prints one JSON object a row and, with --out, writes the Markdown table.
Needs root (tplfsd's store is root's)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "host"))
from tplproto import Daemon, call, connect  # noqa: E402

LOAD = os.path.join(TOP, "build", "bench", "ctl-load")


def tiny_tree(root):
    """A template of a few files: the control plane is measured, not I/O."""
    os.makedirs(os.path.join(root, "etc"))
    os.makedirs(os.path.join(root, "usr", "bin"))
    for name, data in (("etc/hostname", b"template\n"),
                       ("etc/os-release", b"NAME=bench\n"),
                       ("usr/bin/tool", b"\x7fELF" + b"x" * 4000)):
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)


def reply_bytes(sock, verb, args):
    """The size of the reply, or None if none comes (before the catalogue,
    a ct.list over one message was dropped)."""
    with connect(sock, timeout=30) as s:
        s.send(json.dumps({"verb": verb, "args": args}).encode())
        try:
            return len(s.recv(1 << 20))
        except TimeoutError:
            return None


def cpu_s(pid):
    """User + system CPU seconds of process @pid so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ensure(d, n):
    have = len(call(d.sock, "ct.list")["result"]["containers"])
    for i in range(have, n):
        r = call(d.sock, "ct.create", {"id": "c%04d" % i, "template": "os@1"})
        assert r["ok"], r


def measure(label, binary, tmp, clients, seconds, sizes):
    rows = []
    d = Daemon(tmp, binary=binary).start()
    try:
        src = os.path.join(tmp, "src")
        tiny_tree(src)
        r = call(d.sock, "template.import", {"template": "os@1", "from": src})
        assert r["ok"], r
        for ncts in sizes:
            ensure(d, ncts)
            cases = [("ct.list", {}), ("template.list", {})]
            if ncts == sizes[0]:
                cases = [("daemon.status", {}),
                         ("ct.status", {"id": "c0001"})] + cases
            for verb, args in cases:
                size = reply_bytes(d.sock, verb, args)
                if size is None:
                    row = dict(tplfsd=label, verb=verb, containers=ncts,
                               clients=clients, rps=0, p50_ms=0, p99_ms=0,
                               reply_bytes=0, mb_per_s=0, errors=-1)
                    print(json.dumps(row), flush=True)
                    rows.append(row)
                    continue
                cpu0 = cpu_s(d.proc.pid)
                out = subprocess.run(
                    [LOAD, d.sock, str(clients), str(seconds), verb,
                     json.dumps(args)], capture_output=True, text=True,
                    check=True).stdout
                cpu = cpu_s(d.proc.pid) - cpu0
                row = json.loads(out)
                # the daemon's own cost, apart from the clients' parsing
                row["daemon_us"] = round(cpu * 1e6 / max(row["requests"], 1), 1)
                row.update(tplfsd=label, containers=ncts, reply_bytes=size)
                row["mb_per_s"] = round(row["rps"] * row["reply_bytes"] / 1e6, 1)
                print(json.dumps(row), flush=True)
                rows.append(row)
    finally:
        d.stop()
    return rows


def build_base(rev, tmp):
    wt = os.path.join(tmp, "base")
    subprocess.run(["git", "-C", TOP, "worktree", "add", "-q", "--detach",
                    wt, rev], check=True)
    subprocess.run(["make", "-s", "-C", wt, "userspace"], check=True,
                   stdout=subprocess.DEVNULL)
    return wt, os.path.join(wt, "build", "bin", "tplfsd")


def table(rows, cmd):
    lines = ["Host control plane (`%s`): tplfsd on the host, no module;"
             " `build/bench/ctl-load`, each row one verb sent back to back"
             " by every client for the given seconds." % cmd, "",
             "| tplfsd | verb | containers | clients | req/s | p50 ms |"
             " p99 ms | reply bytes | MB/s of replies | tplfsd CPU µs/request |"
             " tplfsd CPU ns/byte | errors |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        if r["errors"] < 0:
            lines.append("| %s | `%s` | %d | %d | no reply | | | | | | | |"
                         % (r["tplfsd"], r["verb"], r["containers"], r["clients"]))
            continue
        lines.append("| %s | `%s` | %d | %d | %.0f | %.3f | %.3f | %d | %.1f | %.1f | %.2f | %d |"
                     % (r["tplfsd"], r["verb"], r["containers"], r["clients"],
                        r["rps"], r["p50_ms"], r["p99_ms"], r["reply_bytes"],
                        r["mb_per_s"], r["daemon_us"],
                        r["daemon_us"] * 1000 / r["reply_bytes"], r["errors"]))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=256)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--containers", default="100,1000")
    ap.add_argument("--base", help="also measure the tplfsd of this commit")
    ap.add_argument("--out", help="write the Markdown table here")
    a = ap.parse_args()
    if not os.access(LOAD, os.X_OK):
        sys.exit("host-ctl: no %s: make userspace first" % LOAD)
    sizes = [int(n) for n in a.containers.split(",")]
    if len(sizes) != 2 or not 2 <= sizes[0] <= sizes[1]:
        sys.exit("host-ctl: --containers A,B with 2 <= A <= B")
    rows = []
    with tempfile.TemporaryDirectory(prefix="tplfs-host-ctl.") as tmp:
        if a.base:
            wt, binary = build_base(a.base, tmp)
            try:
                os.mkdir(os.path.join(tmp, "b"))
                rows += measure(a.base, binary, os.path.join(tmp, "b"),
                                a.clients, a.seconds, sizes)
            finally:
                subprocess.run(["git", "-C", TOP, "worktree", "remove",
                                "--force", wt])
        os.mkdir(os.path.join(tmp, "t"))
        rows += measure("this tree", os.path.join(TOP, "build", "bin", "tplfsd"),
                        os.path.join(tmp, "t"), a.clients, a.seconds, sizes)
    if a.out:
        with open(a.out, "w") as f:
            f.write(table(rows, " ".join(["bench/host-ctl.py"] + sys.argv[1:])))


if __name__ == "__main__":
    main()
