#!/usr/bin/env python3
"""collect.py SAMPLES [options]: the benchmark document (bench/report.py
reads it) from the samples bench/guest.sh wrote, one JSON line each:
{"w": WORKLOAD, "c": CONTENDER, "r": NUMBER or a tool's JSON}. Prints the
document: each workload's median, min and max over its samples."""
import argparse
import json
import statistics
import sys
import time

CONTENDERS = ["native", "tplfs", "overlayfs", "fuse-overlayfs", "cp -a", "tar",
              "tplfs verity=on"]


def describe(w, p):
    """(group, title, unit, better, baseline, metric) of workload id w."""
    if w == "create":
        return ("1. create", "create + mount one container", "s", "lower",
                "cp -a", None)
    if w == "create_disk":
        return ("1. create", "disk used by a new container", "bytes", "lower",
                "cp -a", None)
    if w == "walk_warm":
        return ("2. metadata walk", "lstat every entry, warm cache", "s",
                "lower", "native", "seconds")
    if w == "walk_cold":
        return ("2. metadata walk", "lstat every entry after drop_caches", "s",
                "lower", "native", "seconds")
    if w == "smallfiles":
        return ("3. small files", "open, read, close every file < 64 KiB (warm)",
                "s", "lower", "native", "seconds")
    if w == "verity_cold":
        return ("9. fs-verity", "open, read, close every file < 64 KiB after "
                "drop_caches, store with fs-verity", "s", "lower", "tplfs",
                "seconds")
    if w == "seqread":
        return ("4. large file", "sequential read of %d MiB (cold)" % p["big_mib"],
                "s", "lower", "native", "seconds")
    if w == "randread":
        return ("4. large file", "%d random 4 KiB reads (cold)" % p["rand"], "s",
                "lower", "native", "seconds")
    if w == "exec":
        return ("5. exec", "%d starts of %s (chroot)" % (p["exec"], p["prog"]),
                "s", "lower", "native", "seconds")
    if w.startswith("copyup_"):
        _, size, fs = w.split("_")
        return ("6. copy-up", "first write to a %s file, %s" % (size.upper(), fs),
                "s", "lower", "native", "seconds")
    if w == "memory":
        return ("7. page cache", "growth, %d containers reading %d MiB each"
                % (p["nmem"], p["mem_mib"]), "KiB", "lower", "native", None)
    if w.startswith("daemon_rps_"):
        return ("8. daemon", "requests/s, %s clients" % w.split("_")[2], "req/s",
                "higher", None, "rps")
    if w.startswith("daemon_p99_"):
        return ("8. daemon", "p99 latency, %s clients" % w.split("_")[2], "ms",
                "lower", None, "p99_ms")
    raise ValueError("unknown workload %s" % w)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("samples")
    for opt in ("kernel", "fs", "emulator", "template", "command"):
        ap.add_argument("--" + opt, required=True)
    ap.add_argument("--template-files", type=int, required=True)
    ap.add_argument("--template-bytes", type=int, required=True)
    ap.add_argument("--smoke", type=int, default=0)
    ap.add_argument("--params", default="{}")
    a = ap.parse_args()
    params = json.loads(a.params)

    values = {}     # workload -> contender -> [numbers]
    order = []
    with open(a.samples) as f:
        for line in f:
            s = json.loads(line)
            w, c, r = s["w"], s["c"], s["r"]
            if w.startswith("daemon_"):     # one sample, two workloads
                n = w.split("_")[1]
                for k in ("rps", "p99"):
                    wid = "daemon_%s_%s" % (k, n)
                    if wid not in values:
                        order.append(wid)
                        values[wid] = {}
                    values[wid].setdefault(c, []).append(
                        r["rps"] if k == "rps" else r["p99_ms"])
                continue
            if w not in values:
                order.append(w)
                values[w] = {}
            metric = describe(w, params)[5]
            values[w].setdefault(c, []).append(r[metric] if metric else r)

    workloads = []
    for w in order:
        group, title, unit, better, baseline, _ = describe(w, params)
        results = {c: {"median": statistics.median(v), "min": min(v),
                       "max": max(v), "n": len(v)}
                   for c, v in values[w].items()}
        workloads.append({"id": w, "group": group, "title": title, "unit": unit,
                          "better": better, "baseline": baseline,
                          "results": results})
    doc = {
        "meta": {"kernel": a.kernel, "fs": a.fs, "emulator": a.emulator,
                 "template": a.template, "template_files": a.template_files,
                 "template_bytes": a.template_bytes,
                 "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "smoke": bool(a.smoke), "command": a.command},
        "contenders": CONTENDERS,
        "workloads": workloads,
    }
    json.dump(doc, sys.stdout, indent=1)
    print()


main()
