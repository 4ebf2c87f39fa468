#!/usr/bin/env python3
"""check-doc.py RESULTS.json: every workload of bench/guest.sh ran, for every
contender it is for. Exit 1 naming what is missing. (bench/run, and the
smoke run of make check: tests/vm/t/bench_smoke.sh)"""
import json
import sys

doc = json.load(open(sys.argv[1]))
got = {w["id"]: set(w["results"]) for w in doc["workloads"]}
access = {"native", "tplfs", "overlayfs", "fuse-overlayfs"}
creators = {"tplfs", "overlayfs", "fuse-overlayfs", "cp -a", "tar"}
want = {"create": creators, "create_disk": creators,
        "walk_warm": access, "walk_cold": access, "smallfiles": access,
        "seqread": access, "randread": access, "exec": access,
        "memory": access | {"cp -a"}}
# 6.1 cannot mount verity=on: no fs-verity row there
if not doc["meta"]["kernel"].startswith("6.1."):
    want["verity_cold"] = {"tplfs", "tplfs verity=on"}
for fs in (doc["meta"]["fs"], "xfs"):
    want["copyup_4k_" + fs] = access
missing = ["%s (%s)" % (w, ", ".join(sorted(want[w] - got.get(w, set()))))
           for w in want if not want[w] <= got.get(w, set())]
for k in ("rps", "p99"):
    if not any(w.startswith("daemon_%s_" % k) for w in got):
        missing.append("daemon_%s" % k)
if missing:
    sys.exit("check-doc: workloads missing or incomplete: " + "; ".join(missing))
print("check-doc: all %d workloads there" % len(got))
