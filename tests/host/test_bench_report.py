#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Tests of bench/report.py, the reporting side of `make bench`: a sample
results document (the guest's contract) through report.py into a temporary
directory; the Markdown's header, ratios, "—" for contenders that do not
apply, the best of each row in bold, pipes escaped; the chart (if gnuplot is
installed); malformed documents and usage errors; and bench/host-ctl.py, the host
rows, at a tiny size (that one needs root: it runs a tplfsd). Runnable alone (python3 tests/host/test_bench_report.py [TEST...]);
ends with "bench: N passed, N failed"."""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tplproto  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
REPORT = os.path.join(TOP, "bench", "report.py")
CONTENDERS = ["native", "tplfs", "overlayfs", "fuse-overlayfs", "cp -a", "tar"]


def r(median, lo, hi, n=10):
    return {"median": median, "min": lo, "max": hi, "n": n}


def sample():
    """A realistic document: two or three workloads of each kind (times,
    sizes, counts, a baseline of cp -a, of native, of overlayfs, none)."""
    return {
        "meta": {
            "kernel": "6.12.117+deb12-amd64", "fs": "ext4",
            "emulator": "qemu-system-x86_64 7.2.11, TCG, 2 vCPUs, 4096 MiB",
            "template": "debian-12-minbase", "template_files": 9876,
            "template_bytes": 261234567, "date": "2026-11-22T10:00:00Z",
            "smoke": False, "command": "make bench",
        },
        "contenders": list(CONTENDERS),
        "workloads": [
            {"id": "create", "group": "1. create",
             "title": "create one container", "unit": "s",
             "better": "lower", "baseline": "cp -a",
             "results": {"tplfs": r(0.12, 0.10, 0.2, 100),
                         "overlayfs": r(0.05, 0.04, 0.09, 100),
                         "cp -a": r(24.0, 22.5, 27.1, 5),
                         "tar": r(19.2, 18.0, 21.3, 5)}},
            {"id": "create_disk", "group": "1. create",
             "title": "disk per container", "unit": "bytes",
             "better": "lower", "baseline": "cp -a",
             "results": {"tplfs": r(1310720, 1310720, 1310720, 5),
                         "overlayfs": r(16384, 16384, 16384, 5),
                         "cp -a": r(274726912, 274726912, 274726912, 5),
                         "tar": r(274726912, 274726912, 274726912, 5)}},
            {"id": "walk_warm", "group": "2. metadata walk",
             "title": "stat every file, warm cache", "unit": "s",
             "better": "lower", "baseline": "native",
             "results": {"native": r(0.25, 0.24, 0.27),
                         "tplfs": r(0.5, 0.45, 0.61),
                         "overlayfs": r(0.31, 0.30, 0.35),
                         "fuse-overlayfs": r(1.9, 1.7, 2.4)}},
            {"id": "walk_cold", "group": "2. metadata walk",
             "title": "stat every file, cold cache", "unit": "s",
             "better": "lower", "baseline": "native",
             "results": {"native": r(1.8, 1.7, 2.0),
                         "tplfs": r(2.4, 2.2, 2.9),
                         "overlayfs": r(2.2, 2.0, 2.5),
                         "fuse-overlayfs": r(6.1, 5.5, 7.0)}},
            {"id": "inodes", "group": "1. create",
             "title": "inodes per container", "unit": "count",
             "better": "lower", "baseline": "cp -a",
             "results": {"tplfs": r(9876, 9876, 9876, 5),
                         "overlayfs": r(3, 3, 3, 5),
                         "cp -a": r(9876, 9876, 9876, 5),
                         "tar": r(9876, 9876, 9876, 5)}},
            {"id": "page_cache_10", "group": "3. shared page cache",
             "title": "page cache, 10 containers read /usr", "unit": "KiB",
             "better": "lower", "baseline": "cp -a",
             "note": "cache | dropped before; Cached: from /proc/meminfo",
             "results": {"tplfs": r(131072, 130000, 132000, 3),
                         "overlayfs": r(131500, 130500, 132600, 3),
                         "fuse-overlayfs": r(262144, 260000, 270000, 3),
                         "cp -a": r(1310720, 1300000, 1320000, 3)}},
            {"id": "copyup_first", "group": "4. copy-up",
             "title": "first write to a 1 MiB file", "unit": "ms",
             "better": "lower", "baseline": "overlayfs",
             "results": {"tplfs": r(4.2, 3.9, 5.0),
                         "overlayfs": r(3.5, 3.1, 4.4),
                         "fuse-overlayfs": r(9.8, 8.7, 12.0)}},
            {"id": "read_throughput", "group": "3. shared page cache",
             "title": "read /usr, warm, 4 readers", "unit": "req/s",
             "better": "higher", "baseline": "native",
             "results": {"native": r(50000, 48000, 52000),
                         "tplfs": r(45000, 44000, 47000),
                         "overlayfs": r(47000, 45500, 48000),
                         "fuse-overlayfs": r(12000, 11000, 13000)}},
            {"id": "daemon_rps_1", "group": "8. daemon",
             "title": "requests/s, 1 client", "unit": "req/s",
             "better": "higher", "baseline": None,
             "results": {"tplfs": r(2150, 2000, 2300, 5)}},
            {"id": "daemon_rps_16", "group": "8. daemon",
             "title": "requests/s, 16 clients", "unit": "req/s",
             "better": "higher", "baseline": None,
             "results": {"tplfs": r(15400, 14800, 16000, 5)}},
            {"id": "daemon_p99", "group": "8. daemon",
             "title": "p99 latency, 16 clients", "unit": "ms",
             "better": "lower", "baseline": None,
             "results": {"tplfs": r(3.1, 2.8, 4.0, 5)}},
        ],
    }


def run(tmp, doc, *args, env=None, name="results.json"):
    """report.py on @doc (a dict, or text written as is); returns
    (exit status, stdout, stderr, path of the JSON)."""
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(doc if isinstance(doc, str) else json.dumps(doc, indent=1))
    p = subprocess.run([sys.executable, REPORT, path] + list(args),
                       capture_output=True, text=True, timeout=120,
                       env=env)
    return p.returncode, p.stdout, p.stderr, path


def have_gnuplot():
    """As report.py finds it: $GNUPLOT, or gnuplot in PATH."""
    return shutil.which(os.environ.get("GNUPLOT", "gnuplot")) is not None


def report_md(tmp, doc=None, *args):
    """The Markdown of @doc (the sample by default), without a chart."""
    rc, out, err, path = run(tmp, doc or sample(), "--no-png", *args)
    assert rc == 0, (rc, out, err)
    with open(path[:-5] + ".md") as f:
        return f.read()


def split_row(line):
    """A Markdown table row into its cells, honouring escaped pipes."""
    assert line.startswith("|") and line.endswith("|"), line
    cells = re.split(r"(?<!\\)\|", line[1:-1])
    return [c.strip() for c in cells]


def table(md):
    """{workload id: {column: cell}} of the report's one table."""
    lines = [ln for ln in md.splitlines() if ln.startswith("|")]
    head = split_row(lines[0])
    assert re.fullmatch(r"(\| *:?-+:? *)+\|", lines[1]), lines[1]
    rows = {}
    for ln in lines[2:]:
        cells = split_row(ln)
        assert len(cells) == len(head), (ln, head)
        m = re.search(r"`([^`]+)`", cells[head.index("workload")])
        assert m, ln
        rows[m.group(1)] = dict(zip(head, cells))
    return head, rows


# ---------------------------------------------------------------- tests

def test_header(tmp):
    md = report_md(tmp)
    for text in ("6.12.117+deb12-amd64", "ext4",
                 "qemu-system-x86_64 7.2.11, TCG, 2 vCPUs, 4096 MiB",
                 "debian-12-minbase", "9,876 files", "249 MiB",
                 "2026-11-22T10:00:00Z", "`make bench`"):
        assert text in md, text
    assert md.startswith("# tplfs benchmarks: 6.12.117+deb12-amd64, ext4\n")
    assert "TCG" in md and "Only ratios between contenders" in md
    assert "Smoke run" not in md
    doc = sample()
    doc["meta"]["smoke"] = True
    assert "Smoke run" in report_md(tmp, doc)


def test_columns_and_groups(tmp):
    head, rows = table(report_md(tmp))
    assert head == ["group", "workload", "n"] + CONTENDERS, head
    ids = list(rows)
    # grouped in the order groups first appear; inodes joins 1. create
    assert ids == ["create", "create_disk", "inodes", "walk_warm",
                   "walk_cold", "page_cache_10", "read_throughput",
                   "copyup_first", "daemon_rps_1", "daemon_rps_16",
                   "daemon_p99"], ids
    assert rows["create"]["group"] == "**1. create**"
    assert rows["create_disk"]["group"] == ""
    assert rows["walk_warm"]["group"] == "**2. metadata walk**"
    assert rows["create"]["n"] == "5–100", rows["create"]["n"]
    assert rows["walk_warm"]["n"] == "10"


def test_ratios(tmp):
    _, rows = table(report_md(tmp))
    w = rows["walk_warm"]
    assert w["tplfs"] == "500 ms (450–610)<br>×2.00", w["tplfs"]  # .5/.25
    assert w["fuse-overlayfs"].endswith("<br>×7.60"), w["fuse-overlayfs"]
    assert w["overlayfs"].endswith("<br>×1.24"), w["overlayfs"]
    assert w["native"].endswith("<br>*baseline*"), w["native"]
    c = rows["create"]
    assert c["tplfs"].endswith("<br>×0.005"), c["tplfs"]          # 0.12/24
    assert c["tar"].endswith("<br>×0.80"), c["tar"]
    assert rows["read_throughput"]["tplfs"].endswith("×0.90")  # higher: too
    # no baseline: no ratio at all
    d = rows["daemon_rps_16"]["tplfs"]
    assert "×" not in d and "baseline" not in d, d


def test_units(tmp):
    _, rows = table(report_md(tmp))
    assert rows["create"]["cp -a"].startswith("24.0 s (22.5–27.1)")
    assert rows["create"]["tplfs"].startswith("120 ms (100–200)")
    assert rows["create_disk"]["tplfs"].startswith("1.25 MiB<br>")   # min=max
    assert rows["create_disk"]["cp -a"].startswith("262 MiB")
    assert rows["create_disk"]["overlayfs"].startswith("**16.0 KiB**")
    assert rows["inodes"]["tplfs"].startswith("9,876<br>")
    assert rows["page_cache_10"]["tplfs"].startswith("**128 MiB** (127–129)")
    assert rows["copyup_first"]["tplfs"].startswith("4.20 ms (3.90–5.00)")
    assert rows["daemon_p99"]["tplfs"] == "3.10 ms (2.80–4.00)"
    assert rows["daemon_rps_16"]["tplfs"] == "15.4 k req/s (14.8–16.0)"
    assert rows["daemon_rps_1"]["tplfs"] == "2150 req/s (2000–2300)"


def test_absent_is_dash(tmp):
    _, rows = table(report_md(tmp))
    for wid, c in (("create", "native"), ("create", "fuse-overlayfs"),
                   ("walk_warm", "cp -a"), ("walk_warm", "tar"),
                   ("copyup_first", "native"), ("daemon_rps_1", "overlayfs")):
        assert rows[wid][c] == "—", (wid, c, rows[wid][c])
    assert rows["walk_warm"]["tplfs"] != "—"


def test_best_bold(tmp):
    _, rows = table(report_md(tmp))

    def bold(wid):
        return sorted(c for c in CONTENDERS if "**" in rows[wid][c])
    assert bold("walk_warm") == ["native"], bold("walk_warm")
    assert rows["walk_warm"]["native"].startswith("**250 ms** (240–270)")
    assert bold("create") == ["overlayfs"], bold("create")
    assert rows["create"]["overlayfs"].endswith("<br>**×0.0021**")
    assert bold("read_throughput") == ["native"]        # higher is better
    assert bold("copyup_first") == ["overlayfs"]
    assert bold("inodes") == ["overlayfs"]
    assert bold("daemon_rps_1") == []                   # alone: no contest
    doc = sample()                                      # a tie: both bold
    doc["workloads"][2]["results"]["tplfs"] = r(0.25, 0.2, 0.3)
    _, rows = table(report_md(tmp, doc))
    assert bold("walk_warm") == ["native", "tplfs"], bold("walk_warm")


def test_escaping(tmp):
    doc = sample()
    doc["workloads"][2]["title"] = "stat | every *file*"
    doc["contenders"].append("a|b")
    doc["workloads"][2]["results"]["a|b"] = r(0.3, 0.3, 0.3)
    md = report_md(tmp, doc)
    head, rows = table(md)          # the cell counts hold: pipes escaped
    assert head[-1] == "a\\|b", head
    assert "stat \\| every \\*file\\*" in rows["walk_warm"]["workload"]
    assert rows["walk_warm"]["a\\|b"] == "300 ms<br>×1.20"
    assert rows["create"]["a\\|b"] == "—"
    # the note, with its pipe, under the table and marked in the row
    assert "[1]" in rows["page_cache_10"]["workload"]
    assert "1. `page_cache_10`: cache \\| dropped before" in md


def test_reading_it(tmp):
    md = report_md(tmp)
    part = md.split("## Reading it", 1)[1]
    lines = [ln for ln in part.splitlines() if ln.startswith("- ")]
    assert [ln.split("**")[1] for ln in lines] == [
        "1. create", "2. metadata walk", "3. shared page cache",
        "4. copy-up", "8. daemon"], lines
    walk = lines[1]
    assert ("stat every file, warm cache: tplfs 2.00× native (slower), "
            "1.61× overlayfs (slower)") in walk, walk
    assert "cold cache: tplfs 1.33× native (slower), 1.09× overlayfs" in walk
    create = lines[0]
    assert "create one container: tplfs 0.005× cp -a (faster), " \
           "2.40× overlayfs (slower)" in create, create
    assert "inodes per container: tplfs 1.00× cp -a (on par)" in create
    assert "0.90× native (slower)" in lines[2], lines[2]      # req/s
    assert "requests/s, 16 clients: tplfs 15.4 k req/s" in lines[4], lines[4]


def test_png(tmp):
    if not have_gnuplot():
        print("skip test_png: gnuplot is not installed")
        return
    rc, out, err, path = run(tmp, sample())
    assert rc == 0, (rc, out, err)
    png = path[:-5] + ".png"
    with open(png, "rb") as f:
        data = f.read()
    assert data.startswith(b"\x89PNG\r\n\x1a\n"), data[:16]
    # 1400 wide, taller than 700 (IHDR: width, height big-endian)
    w = int.from_bytes(data[16:20], "big")
    h = int.from_bytes(data[20:24], "big")
    assert w == 1400 and h >= 700, (w, h)
    with open(path[:-5] + ".md") as f:
        md = f.read()
    assert "![ratios to each row's baseline](results.png)" in md
    assert "lower panel shows the workloads without a baseline" in md
    assert not [f for f in os.listdir(tmp) if f.endswith(".part")]
    # reproducible: the same document gives the same chart script
    d1, d2 = os.path.join(tmp, "gp1"), os.path.join(tmp, "gp2")
    for d in (d1, d2):
        rc, out, err, _ = run(tmp, sample(), "--png",
                              os.path.join(tmp, "x.png"), "--gnuplot-dir", d)
        assert rc == 0, (rc, out, err)
    with open(d1 + "/chart.gp") as f1, open(d2 + "/chart.gp") as f2:
        assert f1.read() == f2.read()
    with open(os.path.join(tmp, "x.png"), "rb") as f:
        assert f.read() == data          # and the same PNG, byte for byte


def test_png_shapes(tmp):
    """Charts of documents with only ratios, only absolute numbers, zeros."""
    if not have_gnuplot():
        print("skip test_png_shapes: gnuplot is not installed")
        return
    full = sample()
    docs = {
        "ratios": [w for w in full["workloads"] if w["baseline"]],
        "absolute": [w for w in full["workloads"] if not w["baseline"]],
        "one": [full["workloads"][2]],
    }
    for name, ws in docs.items():
        doc = sample()
        doc["workloads"] = ws
        rc, out, err, path = run(tmp, doc, name=name + ".json")
        assert rc == 0, (name, rc, out, err)
        with open(path[:-5] + ".png", "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n", name
        assert "gnuplot said" not in err, (name, err)
    doc = sample()
    doc["workloads"][1]["results"]["tplfs"] = r(0, 0, 0)    # no place on log
    rc, out, err, path = run(tmp, doc)
    assert rc == 0, (rc, out, err)
    with open(path[:-5] + ".md") as f:
        md = f.read()
    _, rows = table(md)
    assert rows["create_disk"]["tplfs"] == "**0 B**<br>**×0**", \
        rows["create_disk"]["tplfs"]
    assert "Not in the chart" in md and "create_disk/tplfs" in md, md


def test_lost_baseline(tmp):
    """A baseline with no result in its row (the contender failed, or a
    smoke run left it out): that row has no ratios, the rest of the report
    stands."""
    doc = sample()
    del doc["workloads"][2]["results"]["native"]
    rc, out, err, path = run(tmp, doc, "--no-png")
    assert rc == 0, (rc, out, err)
    assert "warning: walk_warm: no ratios, its baseline (native)" in err, err
    with open(path[:-5] + ".md") as f:
        md = f.read()
    assert "`walk_warm`: no ratios, its baseline (native) has no result." \
        in md, md
    _, rows = table(md)
    assert rows["walk_warm"]["native"] == "—"
    assert rows["walk_warm"]["tplfs"] == "500 ms (450–610)", rows
    assert rows["walk_cold"]["tplfs"].endswith("×1.33")
    if have_gnuplot():
        rc, out, err, path = run(tmp, doc)
        assert rc == 0, (rc, out, err)


def test_negative(tmp):
    """A growth can be negative (memory given back): shown, not refused."""
    doc = sample()
    doc["workloads"][5]["results"]["tplfs"] = r(-2048, -4096, 1024, 3)
    doc["workloads"][9]["results"]["tplfs"] = r(-5, -6, -4, 3)
    _, rows = table(report_md(tmp, doc))
    assert rows["page_cache_10"]["tplfs"] == \
        "**-2.00 MiB** (-4.00–1.00)<br>**×-0.0016**", rows["page_cache_10"]
    if have_gnuplot():
        rc, out, err, path = run(tmp, doc)
        assert rc == 0, (rc, out, err)
        assert "gnuplot said" not in err, err


def test_zero_baseline(tmp):
    doc = sample()
    doc["workloads"][2]["results"]["native"] = r(0, 0, 0)
    _, rows = table(report_md(tmp, doc))
    assert rows["walk_warm"]["tplfs"].endswith("<br>×—"), rows["walk_warm"]
    assert rows["walk_warm"]["native"].startswith("**0 ms**")


def test_out_paths(tmp):
    if not have_gnuplot():
        print("skip test_out_paths: gnuplot is not installed")
        return
    os.mkdir(tmp + "/out")
    rc, out, err, _ = run(tmp, sample(), "--md", tmp + "/out/r.md",
                          "--png", tmp + "/out/chart one.png")
    assert rc == 0, (rc, out, err)
    assert sorted(os.listdir(tmp + "/out")) == ["chart one.png", "r.md"]
    with open(tmp + "/out/r.md") as f:
        assert "](chart%20one.png)" in f.read()
    assert not os.path.exists(tmp + "/results.md")


def test_no_gnuplot(tmp):
    env = dict(os.environ, GNUPLOT="/nonexistent/gnuplot")
    rc, out, err, path = run(tmp, sample(), env=env)
    assert rc == 1, (rc, out, err)
    assert "gnuplot not found" in err and "--no-png" in err, err
    assert not os.path.exists(path[:-5] + ".md")
    assert not os.path.exists(path[:-5] + ".png")
    rc, out, err, path = run(tmp, sample(), "--no-png", env=env)
    assert rc == 0, (rc, out, err)
    assert os.path.exists(path[:-5] + ".md")
    assert not os.path.exists(path[:-5] + ".png")
    with open(path[:-5] + ".md") as f:
        assert "![" not in f.read()


def malformed(tmp, doc, *expect):
    """report.py must refuse @doc: exit 1, each of @expect in the message,
    nothing written."""
    rc, out, err, path = run(tmp, doc, "--no-png")
    assert rc == 1, (rc, out, err)
    for e in expect:
        assert e in err, (e, err)
    assert not os.path.exists(path[:-5] + ".md"), err
    return err


def test_malformed(tmp):
    doc = sample()
    del doc["meta"]
    malformed(tmp, doc, "meta: missing")

    doc = sample()
    del doc["workloads"][2]["results"]["tplfs"]["median"]
    malformed(tmp, doc, 'workloads[2].results["tplfs"].median: missing',
              '(workload "walk_warm")')

    doc = sample()
    doc["workloads"][3]["results"]["native"]["median"] = "1.8"
    malformed(tmp, doc, 'workloads[3].results["native"].median: expected a '
              'finite number, got a string')

    doc = sample()
    doc["workloads"][0]["results"]["tar"]["max"] = True
    malformed(tmp, doc, 'workloads[0].results["tar"].max: expected a finite '
              'number, got a boolean')

    doc = sample()
    doc["meta"]["template_files"] = "9876"
    doc["meta"]["smoke"] = "no"
    del doc["meta"]["kernel"]
    err = malformed(tmp, doc, "meta.template_files: expected an integer",
                    "meta.smoke: expected a boolean", "meta.kernel: missing")
    assert len(err.strip().splitlines()) == 4, err     # all of them, at once

    doc = sample()
    doc["workloads"][2]["baseline"] = "zfs"
    malformed(tmp, doc, 'workloads[2].baseline: "zfs" is not one of the '
              'contenders')

    doc = sample()
    del doc["workloads"][8]["baseline"]
    malformed(tmp, doc, "workloads[8].baseline: missing")

    doc = sample()
    doc["workloads"][1]["unit"] = "furlongs"
    doc["workloads"][1]["better"] = "faster"
    malformed(tmp, doc, 'workloads[1].unit: "furlongs" is not one of',
              'workloads[1].better: "faster"')

    doc = sample()
    doc["workloads"][2]["results"]["zfs"] = r(1, 1, 1)
    malformed(tmp, doc, 'workloads[2].results["zfs"]: not one of the '
              'contenders')

    doc = sample()
    doc["workloads"][2]["results"]["tplfs"] = r(0.5, 0.6, 0.7)
    malformed(tmp, doc, "min <= median <= max")

    doc = sample()
    doc["workloads"][2]["results"]["tplfs"]["n"] = 2.5
    malformed(tmp, doc, 'workloads[2].results["tplfs"].n: expected an integer')

    doc = sample()
    doc["workloads"][4]["id"] = "create"
    malformed(tmp, doc, 'workloads[4].id: "create" used twice')

    doc = sample()
    doc["workloads"] = {}
    malformed(tmp, doc, "workloads: expected an array, got an object")

    malformed(tmp, json.dumps(sample()).replace("0.25", "NaN", 1),
              "median: expected a finite number, got a non-finite number")
    malformed(tmp, "[1, 2]", "expected an object, got an array")
    malformed(tmp, '{"meta": ', "not a JSON document")


def test_usage(tmp):
    for args in ([], ["--bogus", "x.json"], ["a.json", "b.json"],
                 ["x.json", "--no-png", "--png", "x.png"]):
        p = subprocess.run([sys.executable, REPORT] + args,
                           capture_output=True, text=True, cwd=tmp)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert "usage:" in p.stderr, p.stderr
    p = subprocess.run([sys.executable, REPORT, tmp + "/none.json"],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "cannot read" in p.stderr, p.stderr



def test_host_control_plane_rows(tmp):
    """bench/host-ctl.py (make bench's host rows) measures every verb and
    writes its table; tiny here: 4 clients, 5 and 12 containers."""
    out = os.path.join(tmp, "host.md")
    p = subprocess.run([os.path.join(TOP, "bench", "host-ctl.py"),
                        "--clients", "4", "--seconds", "0.3",
                        "--containers", "5,12", "--out", out],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert [(x["verb"], x["containers"]) for x in rows] == [
        ("daemon.status", 5), ("ct.status", 5), ("ct.list", 5),
        ("template.list", 5), ("ct.list", 12), ("template.list", 12)], rows
    assert all(x["errors"] == 0 and x["requests"] > 0 for x in rows), rows
    with open(out) as f:
        md = f.read()
    assert md.count("| this tree |") == 6 and "--containers 5,12" in md, md


def test_host_store_rows(tmp):
    """bench/host-store.py at a tiny size: every contender timed, the
    ratios to tar -x and cp -al, the table written."""
    out = os.path.join(tmp, "store.md")
    p = subprocess.run([os.path.join(TOP, "bench", "host-store.py"),
                        "--files", "300", "--mib", "1",
                        "--dir", os.path.join(tmp, "tree"), "--out", out],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert [(x["workload"], x["contender"]) for x in rows] == [
        ("import (cold)", "tar -x"),
        ("import (cold)", "tar -c of the tree to /dev/null (reading it)"),
        ("import (cold)", "cp -a of the tree"),
        ("import (cold)", "tplfs template import of the tree"),
        ("import (cold)", "tplfs template import of the tarball"),
        ("create", "cp -al"), ("create", "tplfs ct create"),
        ("create", "cp -a"),
        ("update a container", "cp -al of the updated tree"),
        ("update a container",
         "tplfs ct create from the update (its changes lost)"),
        ("update a container",
         "tplfs ct rebase onto the update (its changes kept)"),
        ("update a container",
         "rsync of the updated tree into a copy of the old")], rows
    assert all(x["seconds"] > 0 for x in rows), rows
    firsts = (0, 5, 8)
    assert all("ratio" not in x for i, x in enumerate(rows) if i in firsts)
    assert all("ratio" in x for i, x in enumerate(rows) if i not in firsts)
    assert len(os.listdir(os.path.join(tmp, "tree"))) == 3   # 100 a directory
    # the update: a twentieth rewritten, a hundredth gone, a hundredth new
    upd = os.path.join(tmp, "tree-update")
    names = sorted(n for _, _, ns in os.walk(upd) for n in ns)
    assert len(names) == 300 and sum(n.endswith(".new") for n in names) == 3
    with open(out) as f:
        assert f.read().count("\n| ") == 14   # header, rule, 12 rows


if __name__ == "__main__":
    sys.exit(tplproto.run_tests(globals(), "bench"))
