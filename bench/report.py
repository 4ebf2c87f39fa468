#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turn one benchmark results document (bench/results/<kernel>.json, written
by the guest side of `make bench`) into a Markdown table and a gnuplot chart.

    bench/report.py RESULTS.json [--md OUT.md] [--png OUT.png] [--no-png]
                    [--gnuplot-dir DIR]

--md and --png default to RESULTS's path with .md and .png. --gnuplot-dir
keeps the self-contained gnuplot script (data inline) there; otherwise it is
written to a temporary directory and removed. The environment variable
GNUPLOT names the gnuplot program (default: gnuplot).

Exit status: 0 done; 1 a malformed or unreadable document (every problem is
printed with the field it is in), gnuplot missing or failing; 2 usage.

The document's contract is checked field by field (see validate()):
meta {kernel, fs, emulator, template, date, command: strings;
template_files, template_bytes: integers >= 0; smoke: boolean},
contenders [unique strings], workloads [{id, group, title, unit, better,
baseline, results {contender: {median, min, max, n}}, note?}].
A contender absent from a workload's results is "not applicable".
ratio = median / the baseline's median (for every workload; no baseline,
no ratio).
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

PROG = "report.py"
UNITS = ("s", "ms", "bytes", "KiB", "count", "req/s")
BETTER = ("lower", "higher")
META_STR = ("kernel", "fs", "emulator", "template", "date", "command")
META_INT = ("template_files", "template_bytes")
SUBJECT = "tplfs"            # the contender "Reading it" is about
COMPARE_TO = ("native", "overlayfs")

# One colour per contender, the same in every chart; others take the spares.
COLOURS = {
    "native": "#4d4d4d",
    "tplfs": "#d62728",
    "overlayfs": "#1f77b4",
    "fuse-overlayfs": "#17becf",
    "cp -a": "#ff7f0e",
    "tar": "#bcbd22",
}
SPARE_COLOURS = ("#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#aec7e8", "#ffbb78", "#98df8a")


class Malformed(Exception):
    pass


# ---------------------------------------------------------------- validation

def _is_num(v):
    return (isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(v))


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _tname(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number" if math.isfinite(v) else "a non-finite number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def validate(doc):
    """Return a list of "field: problem" strings; empty if @doc keeps the
    contract."""
    errs = []

    def need(obj, key, where, check, what):
        """obj[key] must pass check(); record an error naming the field."""
        field = "%s.%s" % (where, key) if where else key
        if key not in obj:
            errs.append("%s: missing" % field)
            return None
        v = obj[key]
        if not check(v):
            errs.append("%s: expected %s, got %s" % (field, what, _tname(v)))
            return None
        return v

    if not isinstance(doc, dict):
        return ["(document): expected an object, got %s" % _tname(doc)]

    meta = need(doc, "meta", "", lambda v: isinstance(v, dict), "an object")
    if meta is not None:
        for k in META_STR:
            need(meta, k, "meta", lambda v: isinstance(v, str), "a string")
        for k in META_INT:
            v = need(meta, k, "meta", _is_int, "an integer")
            if v is not None and v < 0:
                errs.append("meta.%s: must be >= 0, got %d" % (k, v))
        need(meta, "smoke", "meta", lambda v: isinstance(v, bool),
             "a boolean")

    contenders = need(doc, "contenders", "", lambda v: isinstance(v, list),
                      "an array")
    known = set()
    if contenders is not None:
        if not contenders:
            errs.append("contenders: empty")
        for i, c in enumerate(contenders):
            if not isinstance(c, str) or not c:
                errs.append("contenders[%d]: expected a non-empty string, "
                            "got %s" % (i, _tname(c)))
            elif c in known:
                errs.append("contenders[%d]: %s listed twice"
                            % (i, json.dumps(c)))
            else:
                known.add(c)

    workloads = need(doc, "workloads", "", lambda v: isinstance(v, list),
                     "an array")
    if workloads is None:
        return errs
    if not workloads:
        errs.append("workloads: empty")
    ids = set()
    for i, w in enumerate(workloads):
        where = "workloads[%d]" % i
        if not isinstance(w, dict):
            errs.append("%s: expected an object, got %s" % (where, _tname(w)))
            continue
        n0 = len(errs)
        wid = need(w, "id", where, lambda v: isinstance(v, str) and v,
                   "a non-empty string")
        if wid is not None:
            if wid in ids:
                errs.append("%s.id: %s used twice" % (where, json.dumps(wid)))
            ids.add(wid)
        for k in ("group", "title"):
            need(w, k, where, lambda v: isinstance(v, str) and v,
                 "a non-empty string")
        unit = need(w, "unit", where, lambda v: isinstance(v, str), "a string")
        if unit is not None and unit not in UNITS:
            errs.append("%s.unit: %s is not one of %s"
                        % (where, json.dumps(unit), ", ".join(UNITS)))
        better = need(w, "better", where, lambda v: isinstance(v, str),
                      "a string")
        if better is not None and better not in BETTER:
            errs.append("%s.better: %s is not \"lower\" or \"higher\""
                        % (where, json.dumps(better)))
        if "note" in w and not isinstance(w["note"], str):
            errs.append("%s.note: expected a string, got %s"
                        % (where, _tname(w["note"])))
        results = need(w, "results", where, lambda v: isinstance(v, dict),
                       "an object")
        if results is not None:
            if not results:
                errs.append("%s.results: empty" % where)
            for c, r in results.items():
                rw = "%s.results[%s]" % (where, json.dumps(c))
                if contenders is not None and c not in known:
                    errs.append("%s: not one of the contenders" % rw)
                if not isinstance(r, dict):
                    errs.append("%s: expected an object, got %s"
                                % (rw, _tname(r)))
                    continue
                vals = {}
                for k in ("median", "min", "max"):
                    v = need(r, k, rw, _is_num, "a finite number")
                    if v is not None:
                        vals[k] = v         # may be < 0: a growth, a delta
                n = need(r, "n", rw, _is_int, "an integer")
                if n is not None and n < 1:
                    errs.append("%s.n: must be >= 1, got %d" % (rw, n))
                if len(vals) == 3 and not (vals["min"] <= vals["median"]
                                           <= vals["max"]):
                    errs.append("%s: min <= median <= max does not hold "
                                "(%r, %r, %r)" % (rw, vals["min"],
                                                  vals["median"], vals["max"]))
        if "baseline" not in w:
            errs.append("%s.baseline: missing (null for none)" % where)
        else:
            b = w["baseline"]
            if b is not None and not isinstance(b, str):
                errs.append("%s.baseline: expected a string or null, got %s"
                            % (where, _tname(b)))
            elif b is not None and contenders is not None and b not in known:
                errs.append("%s.baseline: %s is not one of the contenders"
                            % (where, json.dumps(b)))
            # a contender with no result (it failed, or a smoke run left it
            # out) is not malformed: see lost_baselines()
        if wid is not None:
            # name the workload too: "workloads[3]" alone is hard to find
            for j in range(n0, len(errs)):
                errs[j] += " (workload %s)" % json.dumps(wid)
    return errs


def lost_baselines(doc):
    """Workloads whose baseline has no result lose their ratios (rather than
    the whole report): baseline becomes null, and the notes say why."""
    notes = []
    for w in doc["workloads"]:
        b = w["baseline"]
        if b is not None and b not in w["results"]:
            w["baseline"] = None
            notes.append("%s: no ratios, its baseline (%s) has no result."
                         % (md_code(w["id"]), md_text(b)))
    return notes


# ---------------------------------------------------------------- numbers

def num(x):
    """About three significant digits, never an exponent for the usual
    magnitudes."""
    ax = abs(x)
    if ax == 0:
        return "0"
    if ax >= 100:
        return "%.0f" % x
    if ax >= 10:
        return "%.1f" % x
    if ax >= 1:
        return "%.2f" % x
    if ax >= 0.001:
        return "%.3g" % x
    return "%.2e" % x


def scale(unit, ref):
    """(factor, unit label) to show values of @unit, chosen for @ref (in the
    document's unit)."""
    ref = abs(ref)
    if unit in ("s", "ms"):
        secs = ref / 1000 if unit == "ms" else ref
        f = 1e-3 if unit == "ms" else 1
        if secs != 0 and secs < 1e-3:
            return f * 1e6, "µs"
        if secs < 1:
            return f * 1e3, "ms"
        return f, "s"
    if unit in ("bytes", "KiB"):
        b = ref * 1024 if unit == "KiB" else ref
        f = 1024 if unit == "KiB" else 1
        for i, name in enumerate(("B", "KiB", "MiB", "GiB", "TiB")):
            if b < 1024 ** (i + 1) or name == "TiB":
                return f / 1024 ** i, name
    if unit == "req/s":
        if ref >= 1e6:
            return 1e-6, "M req/s"
        if ref >= 1e4:
            return 1e-3, "k req/s"
        return 1, "req/s"
    return 1, ""                 # count


def fmt_scaled(v, unit, factor, label):
    if unit == "count" and float(v).is_integer():
        return "{:,}".format(int(v))
    if label == "B":
        return "%.0f" % v
    return num(v * factor)


def fmt_value(v, unit):
    """One value with its unit: 0.12 s -> "120 ms"."""
    factor, label = scale(unit, v)
    s = fmt_scaled(v, unit, factor, label)
    return "%s %s" % (s, label) if label else s


def fmt_result(r, unit):
    """ "median unit (min–max)", min and max in the median's unit."""
    m = r["median"]
    factor, label = scale(unit, m if m else r["max"])
    s = fmt_scaled(m, unit, factor, label)
    if label:
        s += " " + label
    if r["n"] > 1 and r["min"] != r["max"]:
        s += " (%s–%s)" % (fmt_scaled(r["min"], unit, factor, label),
                           fmt_scaled(r["max"], unit, factor, label))
    return s


def fmt_ratio(r):
    if r is None:
        return "—"
    if r < 0:
        return "-" + fmt_ratio(-r)
    if r == 0:
        return "0"
    if r >= 100:
        return "%.0f" % r
    if r >= 10:
        return "%.1f" % r
    if r >= 0.1:
        return "%.2f" % r
    # two significant digits, positional: 0.0048, 0.00006
    return ("%f" % float("%.2g" % r)).rstrip("0") if r >= 1e-6 else "%.1e" % r


def ratio(w, c):
    """@c's median over the baseline's, or None (no baseline, no result,
    a zero baseline)."""
    b = w["baseline"]
    if b is None or c not in w["results"]:
        return None
    bm = w["results"][b]["median"]
    if bm <= 0:
        return None
    return w["results"][c]["median"] / bm


def best(w):
    """The contenders with the best median (ties all win); none if fewer
    than two results."""
    res = w["results"]
    if len(res) < 2:
        return set()
    pick = min if w["better"] == "lower" else max
    b = pick(r["median"] for r in res.values())
    return {c for c, r in res.items() if r["median"] == b}


# Words for a ratio below / above 1, by unit (independent of "better").
WORDS = {
    "s": ("faster", "slower"), "ms": ("faster", "slower"),
    "bytes": ("smaller", "larger"), "KiB": ("smaller", "larger"),
    "count": ("fewer", "more"), "req/s": ("slower", "faster"),
}


def judge(r, unit):
    if 0.95 <= r <= 1.05:
        return "on par"
    return WORDS[unit][0 if r < 1 else 1]


# ---------------------------------------------------------------- Markdown

def md_text(s):
    """Text from the document, safe in a Markdown table cell or paragraph:
    one line, pipes and the characters of emphasis, code, links and HTML
    escaped (an underscore inside a word, as in x86_64, is left alone)."""
    s = " ".join(str(s).split())
    out = []
    for i, ch in enumerate(s):
        if ch == "_" and 0 < i < len(s) - 1 and s[i - 1].isalnum() \
                and s[i + 1].isalnum():
            out.append(ch)
        elif ch in "\\`*_[]<>|":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def md_code(s):
    s = " ".join(str(s).split())
    ticks = "`"
    while ticks in s:
        ticks += "`"
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return "%s%s%s%s%s" % (ticks, pad, s, pad, ticks)


def grouped(workloads):
    """[(group, [workload...])] in order of each group's first appearance."""
    groups = {}
    for w in workloads:
        groups.setdefault(w["group"], []).append(w)
    return list(groups.items())


def n_text(w):
    ns = sorted({r["n"] for r in w["results"].values()})
    return str(ns[0]) if len(ns) == 1 else "%d–%d" % (ns[0], ns[-1])


def cell(w, c, winners):
    if c not in w["results"]:
        return "—"
    r = w["results"][c]
    top = c in winners
    v = fmt_result(r, w["unit"])
    if top:
        # bold the median with its unit, not the range
        head, sep, rng = v.partition(" (")
        v = "**%s**%s%s" % (head, sep, rng)
    if w["baseline"] is None:
        return v
    if c == w["baseline"]:
        rt = "*baseline*"
    else:
        rt = "×" + fmt_ratio(ratio(w, c))
        if top:
            rt = "**%s**" % rt
    return "%s<br>%s" % (v, rt)


def reading_it(doc):
    """One line per group: how tplfs compares with native, overlayfs and
    the row's baseline."""
    lines = []
    for g, ws in grouped(doc["workloads"]):
        parts = []
        for w in ws:
            res = w["results"]
            title = md_text(w["title"])
            if SUBJECT not in res:
                continue
            others = [c for c in COMPARE_TO if c in res and c != SUBJECT]
            b = w["baseline"]
            if b and b != SUBJECT and b not in others:
                others.insert(0, b)
            cmp = []
            for o in others:
                om = res[o]["median"]
                if om <= 0:
                    continue
                r = res[SUBJECT]["median"] / om
                cmp.append("%s× %s (%s)" % (fmt_ratio(r), md_text(o),
                                            judge(r, w["unit"])))
            if cmp:
                parts.append("%s: %s %s" % (title, SUBJECT, ", ".join(cmp)))
            else:
                alone = "" if len(res) > 1 else ", no other contender"
                parts.append("%s: %s %s%s" % (
                    title, SUBJECT, fmt_value(res[SUBJECT]["median"],
                                              w["unit"]), alone))
        if parts:
            lines.append("- **%s**: %s." % (md_text(g), "; ".join(parts)))
        else:
            lines.append("- **%s**: no %s result." % (md_text(g), SUBJECT))
    return lines


def markdown(doc, png_link=None, more_notes=()):
    meta = doc["meta"]
    contenders = doc["contenders"]
    out = []
    out.append("# tplfs benchmarks: %s, %s"
               % (md_text(meta["kernel"]), md_text(meta["fs"])))
    out.append("")
    out.append("- **kernel**: %s" % md_text(meta["kernel"]))
    out.append("- **filesystem**: %s" % md_text(meta["fs"]))
    out.append("- **emulator**: %s" % md_text(meta["emulator"]))
    out.append("- **template**: %s, %s files, %s" % (
        md_text(meta["template"]), "{:,}".format(meta["template_files"]),
        fmt_value(meta["template_bytes"], "bytes")))
    out.append("- **date**: %s" % md_text(meta["date"]))
    out.append("- **command**: %s" % md_code(meta["command"]))
    out.append("")
    if meta["smoke"]:
        out.append("> **Smoke run**: reduced sizes and repetitions, to check "
                   "that the benchmarks run; its numbers mean nothing.")
        out.append("")
    out.append("> The guest runs under emulation (qemu TCG): absolute times "
               "are not those of real hardware. Only ratios between "
               "contenders of this one run mean anything; do not compare "
               "numbers across runs or kernels.")
    out.append("")
    out.append("Each cell: median (min–max) over n runs, then ×ratio = "
               "median / the row's baseline median. ↓ lower is better, "
               "↑ higher is better; the best of each row is in bold; "
               "— not applicable.")
    out.append("")
    out.append("| group | workload | n | %s |"
               % " | ".join(md_text(c) for c in contenders))
    out.append("| --- | --- | ---: | %s |"
               % " | ".join("---" for _ in contenders))
    notes = []
    for g, ws in grouped(doc["workloads"]):
        first = True
        for w in ws:
            title = "%s %s" % (md_text(w["title"]),
                               "↓" if w["better"] == "lower" else "↑")
            if w.get("note"):
                notes.append((w["id"], md_text(w["note"])))
                title += " [%d]" % len(notes)
            title += "<br>`%s`" % w["id"].replace("`", "'").replace("|", "\\|")
            winners = best(w)
            out.append("| %s | %s | %s | %s |" % (
                "**%s**" % md_text(g) if first else "", title, n_text(w),
                " | ".join(cell(w, c, winners) for c in contenders)))
            first = False
    out.append("")
    if notes:
        out.append("Notes:")
        out.append("")
        for i, (wid, note) in enumerate(notes, 1):
            out.append("%d. %s: %s" % (i, md_code(wid), note))
        out.append("")
    for n in more_notes:
        out.append(n)
        out.append("")
    if png_link:
        out.append("![ratios to each row's baseline](%s)"
                   % urllib.parse.quote(png_link))
        out.append("")
    out.append("## Reading it")
    out.append("")
    out.append("%s's median against the others' (ratio, below 1: %s's is "
               "smaller), workload by workload:" % (SUBJECT, SUBJECT))
    out.append("")
    out.extend(reading_it(doc))
    out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------- gnuplot

def gp_str(s):
    """A gnuplot single-quoted string (no escapes but '' for ')."""
    return "'%s'" % str(s).replace("'", "''").replace("\n", " ")


def colours(contenders):
    col, spare = {}, iter(SPARE_COLOURS * 4)
    for c in contenders:
        col[c] = COLOURS.get(c) or next(spare, "#000000")
    return col


def chart(doc):
    """The gnuplot script (data inline) and notes on what it leaves out."""
    meta = doc["meta"]
    col = colours(doc["contenders"])
    notes = []
    ratio_ws = [w for _, ws in grouped(doc["workloads"]) for w in ws
                if w["baseline"] is not None]
    abs_ws = [w for _, ws in grouped(doc["workloads"]) for w in ws
              if w["baseline"] is None]
    in_main = [c for c in doc["contenders"]
               if any(c in w["results"] for w in ratio_ws)]
    by_unit = {}
    for w in abs_ws:
        by_unit.setdefault(w["unit"], []).append(w)

    title = "tplfs benchmarks: %s, %s; %s" % (meta["kernel"], meta["fs"],
                                              meta["emulator"])
    if meta["smoke"]:
        title += " (SMOKE RUN)"
    height = 950 if by_unit and ratio_ws else 800
    s = []
    s.append("# bench/report.py: the chart of %s" % meta["kernel"])
    s.append("set encoding utf8")
    s.append("if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {")
    s.append("  set terminal pngcairo size 1400,%d noenhanced font 'Sans,10'"
             % height)
    s.append("} else {")
    s.append("  set terminal png size 1400,%d noenhanced" % height)
    s.append("}")
    s.append("set output OUT")
    s.append("set multiplot title %s font ',13'" % gp_str(title))
    s.append("set style fill solid 0.9 border lc rgb '#333333'")
    s.append("set grid ytics lc rgb '#dddddd'")
    s.append("set lmargin 12")
    s.append("set rmargin 4")

    # main panel: ratio to the row's baseline, log scale
    k = max(len(in_main), 1)
    width = min(0.8 / k, 0.3)
    lo, hi = 1.0, 1.0
    data = {c: [] for c in in_main}
    marks = {c: [] for c in in_main}
    skipped = []
    for i, w in enumerate(ratio_ws):
        for j, c in enumerate(in_main):
            if c not in w["results"]:
                continue
            x = i - width * k / 2 + width * (j + 0.5)
            r = ratio(w, c)
            if r is None or r <= 0:
                skipped.append("%s/%s" % (w["id"], c))
                continue
            bm = w["results"][w["baseline"]]["median"]
            rmin = w["results"][c]["min"] / bm
            rmax = w["results"][c]["max"] / bm
            if c == w["baseline"]:
                marks[c].append((x, 1.0))
            else:
                data[c].append((x, r, x - width / 2, x + width / 2,
                                min(r, 1.0), max(r, 1.0),
                                rmin if rmin > 0 else r, rmax))
            lo = min(lo, r, rmin if rmin > 0 else r)
            hi = max(hi, r, rmax)
    if skipped:
        notes.append("Not in the chart (a ratio of zero, or a zero "
                     "baseline, has no place on a log scale): %s."
                     % md_text(", ".join(skipped)))
    if abs_ws:
        notes.append("The chart's %s the workloads without a baseline (%s) "
                     "in their own units."
                     % ("lower panel shows" if ratio_ws else "panels show",
                        md_text(", ".join(w["id"] for w in abs_ws))))
    for c in in_main:
        s.append("$r%d << EOD" % in_main.index(c))
        for row in data[c] or [(-10, 1, -10, -10, 1, 1, 1, 1)]:
            s.append(" ".join(repr(float(v)) for v in row))
        s.append("EOD")
        s.append("$m%d << EOD" % in_main.index(c))
        for row in marks[c] or [(-10, 1)]:
            s.append(" ".join(repr(float(v)) for v in row))
        s.append("EOD")
    if ratio_ws:
        ylo = 10 ** math.floor(math.log10(lo / 1.3))
        yhi = 10 ** math.ceil(math.log10(hi * 1.3))
        if by_unit:
            s.append("set size 1,0.68")
            s.append("set origin 0,0.30")
        else:
            s.append("set size 1,0.90")
            s.append("set origin 0,0.04")
        s.append("set logscale y")
        s.append("set yrange [%r:%r]" % (ylo, yhi))
        s.append("set format y '%g'")
        s.append("set ylabel \"ratio: median / the row's baseline (log)\"")
        s.append("set xrange [-0.6:%r]" % (len(ratio_ws) - 0.4))
        tics = ", ".join(
            "%s %d" % (gp_str(w["id"] + (" ↑" if w["better"] == "higher"
                                          else "")), i)
            for i, w in enumerate(ratio_ws))
        s.append("set xtics (%s) rotate by -30 left nomirror" % tics)
        s.append("set mytics 10")
        s.append("set key outside top center horizontal samplen 1.5 spacing 1")
        # group separators and names
        start = 0
        for gi, (g, ws) in enumerate(grouped(ratio_ws)):
            end = start + len(ws)
            if gi:
                s.append("set arrow from %r, graph 0 to %r, graph 1 nohead "
                         "dt 2 lc rgb '#888888'" % (start - 0.5, start - 0.5))
            s.append("set label %s at %r, graph 0.97 center font ',10' "
                     "tc rgb '#444444'" % (gp_str(g), (start + end - 1) / 2))
            start = end
        s.append("set label \"↓ rows: below 1 is better than the baseline; "
                 "↑ rows: above 1. Bars grow from 1; whiskers min–max; "
                 "◆ the baseline.\" at graph 0.0, screen %s left font ',9' "
                 "tc rgb '#444444'" % ("0.305" if by_unit else "0.02"))
        plots = []
        for c in in_main:
            j = in_main.index(c)
            plots.append("$r%d using 1:2:3:4:5:6 with boxxyerror lc rgb '%s' "
                         "title %s" % (j, col[c], gp_str(c)))
            plots.append("$r%d using 1:7:(0):($8-$7) with vectors nohead lw 1 "
                         "lc rgb '#222222' notitle" % j)
            plots.append("$m%d using 1:2 with points pt 13 ps 1.6 lc rgb '%s' "
                         "notitle" % (j, col[c]))
        plots.append("1 with lines lw 1.5 lc rgb 'black' notitle")
        s.append("plot " + ", \\\n     ".join(plots))
        s.append("unset arrow")
        s.append("unset label")

    # lower panels: workloads without a baseline, one panel per unit
    units = list(by_unit.items())
    for ui, (unit, ws) in enumerate(units):
        present = [c for c in doc["contenders"]
                   if any(c in w["results"] for w in ws)]
        kk = max(len(present), 1)
        wd = min(0.8 / kk, 0.3)
        ref = max(r["max"] for w in ws for r in w["results"].values())
        low = min(r["min"] for w in ws for r in w["results"].values())
        factor, label = scale(unit, max(ref, -low))
        ytop = ref * factor * 1.15 if ref > 0 else 1
        ybot = low * factor * 1.15 if low < 0 else 0
        for c in present:
            j = present.index(c)
            s.append("$a%d_%d << EOD" % (ui, j))
            rows = 0
            for i, w in enumerate(ws):
                if c not in w["results"]:
                    continue
                r = w["results"][c]
                x = i - wd * kk / 2 + wd * (j + 0.5)
                s.append("%r %r %r %r" % (x, r["median"] * factor,
                                          r["min"] * factor,
                                          r["max"] * factor))
                rows += 1
            if not rows:
                s.append("-10 0 0 0")
            s.append("EOD")
        pw = 1.0 / len(units)
        s.append("set size %r,%s" % (pw, "0.28" if ratio_ws else "0.92"))
        s.append("set origin %r,0" % (ui * pw))
        s.append("unset logscale y")
        s.append("set yrange [%r:%r]" % (ybot, ytop))
        s.append("set format y '%g'")
        s.append("set ylabel %s" % gp_str(label or unit))
        s.append("set xrange [-0.6:%r]" % (len(ws) - 0.4))
        tics = ", ".join("%s %d" % (gp_str(w["id"]), i)
                         for i, w in enumerate(ws))
        s.append("set xtics (%s) norotate center nomirror" % tics)
        s.append("unset mytics")
        if all(c in in_main for c in present):
            s.append("unset key")           # the colours of the main legend
        else:
            s.append("set key outside right top vertical")
        s.append("set boxwidth %r absolute" % wd)
        s.append("set title %s font ',10'"
                 % gp_str("no baseline: %s" % (label or unit)))
        plots = []
        for c in present:
            j = present.index(c)
            plots.append("$a%d_%d using 1:2 with boxes lc rgb '%s' "
                         "title %s" % (ui, j, col[c], gp_str(c)))
            plots.append("$a%d_%d using 1:3:(0):($4-$3) with vectors nohead "
                         "lc rgb '#222222' notitle" % (ui, j))
        s.append("plot " + ", \\\n     ".join(plots))
        s.append("unset title")
    s.append("unset multiplot")
    s.append("set output")
    return "\n".join(s) + "\n", notes


def find_gnuplot():
    prog = os.environ.get("GNUPLOT", "gnuplot")
    if os.sep in prog:
        return prog if os.access(prog, os.X_OK) else None
    return shutil.which(prog)


def run_gnuplot(gnuplot, script, png, keep_dir):
    tmp = keep_dir or tempfile.mkdtemp(prefix="bench-report-")
    try:
        os.makedirs(tmp, exist_ok=True)
        gp = os.path.join(tmp, "chart.gp")
        with open(gp, "w", encoding="utf-8") as f:
            f.write(script)
        part = png + ".part"
        p = subprocess.run([gnuplot, "-e", "OUT=%s" % gp_str(part), gp],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0 or not os.path.exists(part):
            try:
                os.unlink(part)
            except FileNotFoundError:
                pass
            raise RuntimeError("gnuplot failed (exit %d):\n%s"
                               % (p.returncode, p.stderr.strip()))
        os.replace(part, png)
        if p.stderr.strip():
            sys.stderr.write("%s: gnuplot said:\n%s\n"
                             % (PROG, p.stderr.strip()))
    finally:
        if not keep_dir:
            shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- main

def write_atomic(path, text):
    tmp = path + ".part"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv):
    ap = argparse.ArgumentParser(
        prog=PROG,
        description="Turn bench/results/<kernel>.json into a Markdown table "
        "and a gnuplot chart.",
        epilog="Exit status: 0 done; 1 a malformed or unreadable document "
        "(each problem named by its field), or gnuplot missing or failing; "
        "2 usage. $GNUPLOT names the gnuplot program (default: gnuplot).")
    ap.add_argument("results", metavar="RESULTS.json")
    ap.add_argument("--md", metavar="OUT.md",
                    help="the Markdown (default: RESULTS with .md)")
    ap.add_argument("--png", metavar="OUT.png",
                    help="the chart (default: RESULTS with .png)")
    ap.add_argument("--no-png", action="store_true",
                    help="no chart (and no need for gnuplot)")
    ap.add_argument("--gnuplot-dir", metavar="DIR",
                    help="keep the gnuplot script (data inline) in DIR")
    a = ap.parse_args(argv)
    if a.no_png and (a.png or a.gnuplot_dir):
        ap.error("--no-png with --png or --gnuplot-dir")

    base = a.results[:-5] if a.results.endswith(".json") else a.results
    md_path = a.md or base + ".md"
    png_path = None if a.no_png else (a.png or base + ".png")

    def fail(msg):
        sys.stderr.write("%s: %s\n" % (PROG, msg))
        return 1

    try:
        with open(a.results, encoding="utf-8") as f:
            doc = json.load(f, parse_constant=lambda c: float(c))
    except OSError as e:
        return fail("cannot read %s: %s" % (a.results, e.strerror or e))
    except (ValueError, UnicodeDecodeError) as e:
        return fail("%s: not a JSON document: %s" % (a.results, e))
    errs = validate(doc)
    if errs:
        sys.stderr.write("%s: %s: malformed results document:\n"
                         % (PROG, a.results))
        for e in errs:
            sys.stderr.write("  %s\n" % e)
        return 1

    gnuplot = None
    if png_path:
        gnuplot = find_gnuplot()
        if not gnuplot:
            return fail("gnuplot not found (%s): install it (apt-get install "
                        "gnuplot-nox, or scripts/deps.sh --packages), or "
                        "pass --no-png" % os.environ.get("GNUPLOT", "gnuplot"))

    lost = lost_baselines(doc)
    for n in lost:
        sys.stderr.write("%s: warning: %s\n" % (PROG, n.replace("`", "")))
    script, notes = chart(doc)
    link = None
    if png_path:
        link = os.path.relpath(os.path.abspath(png_path),
                               os.path.dirname(os.path.abspath(md_path)))
        try:
            run_gnuplot(gnuplot, script, png_path, a.gnuplot_dir)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
            return fail("%s: no chart: %s" % (png_path, e))
    else:
        notes = []
    try:
        write_atomic(md_path, markdown(doc, link, lost + notes))
    except OSError as e:
        return fail("cannot write %s: %s" % (md_path, e.strerror or e))
    print("%s: wrote %s%s" % (PROG, md_path,
                              " and " + png_path if png_path else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
