#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A remote shell for rsync (RSYNC_RSH) that relays to the real one and
counts the bytes the remote side sends, and can cut the link or hold it
at a given count: a network cut, or a stall for a test to kill rsync in,
at a point fixed by bytes, not by time.

  RSYNC_RSH="python3 cut_relay.py --count FILE [--cut-after N |
             --hold-after N --held FILE] -- ssh -o ..."

At its end the relay appends the bytes it passed to the --count FILE, one
line a run.
  --cut-after N   after N bytes from the remote, close both ways and end
                  (rsync sees the connection lost)
  --hold-after N  after N bytes, pass nothing more, create the --held FILE
                  and wait until rsync goes away (is killed)
"""
import argparse
import os
import subprocess
import sys
import threading


def write_all(fd, b):
    """os.write until all of @b is written (a pipe may take part)."""
    view = memoryview(b)
    while view:
        view = view[os.write(fd, view):]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", required=True)
    ap.add_argument("--cut-after", type=int)
    ap.add_argument("--hold-after", type=int)
    ap.add_argument("--held")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    # rsync hands its remote shell non-blocking ends
    os.set_blocking(0, True)
    os.set_blocking(1, True)
    child = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, bufsize=0)
    limit = a.cut_after if a.cut_after is not None else a.hold_after
    passed = 0
    done = threading.Event()

    def upstream():
        """rsync's requests to the remote, as they come."""
        try:
            while True:
                b = os.read(0, 65536)
                if not b:
                    break
                write_all(child.stdin.fileno(), b)
        except OSError:
            pass
        try:
            child.stdin.close()
        except OSError:
            pass
        done.set()     # rsync's side is gone

    threading.Thread(target=upstream, daemon=True).start()
    out = child.stdout.fileno()
    stopped = False
    while True:
        b = os.read(out, 65536)
        if not b:
            break
        if limit is not None and passed + len(b) >= limit:
            b = b[:max(0, limit - passed)]
            stopped = True
        try:
            write_all(1, b)
        except OSError:
            break
        passed += len(b)
        if stopped:
            break
    if stopped and a.hold_after is not None:
        with open(a.held, "w"):
            pass
        done.wait()
    if stopped:
        child.kill()
    child.wait()
    with open(a.count, "a") as f:
        f.write("%d\n" % passed)
    os.close(1)
    sys.exit(255 if stopped or child.returncode < 0 else child.returncode)


if __name__ == "__main__":
    main()
