# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What a report of a recording must say, computed here from the recording
itself, without the C code: the golden files are written by that code
(check.py --update), so comparing with them alone would lock in whatever it
computes. Each function returns a list of problems (empty: all agree).

The rules come from the documented contract (README, docs/records.md, and the
comment at the top of cli/report_folded.c): a stall's time is its
duration; folded stacks weigh each stall's on-CPU time shared over its CPU
stacks by samples (an "[on-CPU]" frame without samples), each syscall's
blocked time on its stack (else "[NAME]"), and "[run queue]" and
"[page fault]" pseudo frames, in whole milliseconds, lines under 0.5 ms left
out; the duration histogram has 1-2-5 bounds in ms; the worst stalls are
the longest five."""
import json
import re

import jsonschema

# a report's numbers are rounded to the microsecond (3 decimals)
EPS = 0.0015
WORST = 5


def load_fixture(path, schema_path):
    """(records, problems): every line parsed and validated against the schema."""
    with open(schema_path) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    records, problems = [], []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            try:
                rec = json.loads(line)
            except ValueError as e:
                problems.append(f"line {n}: not JSON: {e}")
                continue
            for err in v.iter_errors(rec):
                where = "/".join(str(p) for p in err.absolute_path) or "(record)"
                problems.append(f"line {n}: schema: {where}: {err.message}")
            records.append((n, rec))
    return records, problems


def stalls_of(records):
    return [(n, r) for n, r in records if r["type"] == "stall"]


def summary_of(records):
    found = [r for _, r in records if r["type"] == "summary"]
    return found[-1] if found else None


def bucket(ms):
    """(lo, hi) of the 1-2-5 series in ms holding ms: lo <= ms < hi."""
    bounds = [m * 10 ** e for e in range(8) for m in (1, 2, 5)]
    for lo, hi in zip(bounds, bounds[1:]):
        if lo <= ms < hi:
            return (lo, hi)
    return (bounds[-1], None)


def frame_name(f):
    if f.get("symbol"):
        name = f["symbol"]
    elif f.get("module"):
        name = "[" + f["module"].rsplit("/", 1)[-1] + "]"
    else:
        name = "[unknown]"
    return clean(name)


def clean(name):
    # ';' separates frames and whitespace ends the stack in the folded format
    return "".join(":" if c == ";" else " " if ord(c) < 0x20 else c for c in name)


def folded_weights(stalls):
    """{folded stack: weight in ms (not rounded)} of the stalls."""
    w = {}

    def add(frames, ms):
        w[frames] = w.get(frames, 0.0) + ms

    for _, s in stalls:
        root = clean(s["comm"])

        def stack(frames):
            return ";".join([root] + [frame_name(f) for f in reversed(frames)])
        cpu = [c for c in s.get("cpu_stacks", []) if c["stack"]]
        samples = sum(c["samples"] for c in cpu)
        if samples:
            for c in cpu:
                add(stack(c["stack"]), s["on_cpu_ms"] * c["samples"] / samples)
        else:
            add(f"{root};[on-CPU]", s["on_cpu_ms"])
        for sc in s["syscalls"]:
            add(stack(sc["stack"]) if sc["stack"] else f"{root};[{clean(sc['name'])}]",
                sc["total_ms"])
        add(f"{root};[run queue]", s["runqueue_ms"])
        add(f"{root};[page fault]", s.get("fault_blocked_ms", 0))
    return w


def check_folded(records, folded_text):
    problems = []
    stalls = stalls_of(records)
    want = {k: round(v) for k, v in folded_weights(stalls).items()}
    want = {k: v for k, v in want.items() if v > 0}
    got = {}
    for line in folded_text.splitlines():
        frames, _, weight = line.rpartition(" ")
        got[frames] = got.get(frames, 0) + int(weight)
    for k in sorted(set(want) | set(got)):
        if want.get(k) != got.get(k):
            problems.append(f"folded: {k[:120]}...: weight {got.get(k)}, the fixture says"
                            f" {want.get(k)}")
    # the whole flame graph is the stalled time, minus what no part accounts for
    total = sum(got.values())
    accounted = sum(s["on_cpu_ms"] + sum(sc["total_ms"] for sc in s["syscalls"])
                    + s["runqueue_ms"] + s.get("fault_blocked_ms", 0) for _, s in stalls)
    if abs(total - accounted) > 0.5 * len(got) + 1:
        problems.append(f"folded: weights add up to {total} ms, the stalls' parts to"
                        f" {accounted:.1f} ms")
    return problems


def close(a, b, eps=EPS):
    return abs(a - b) <= eps


def check_report_json(records, rep):
    p = []
    stalls = stalls_of(records)
    summ = summary_of(records)
    durations = [s["duration_ms"] for _, s in stalls]

    def same(what, got, want, eps=EPS):
        if isinstance(want, float) or isinstance(got, float):
            ok = got is not None and close(got, want, eps)
        else:
            ok = got == want
        if not ok:
            p.append(f"report.json {what} = {got!r}, the fixture says {want!r}")

    same("stalls", rep["stalls"], len(stalls))
    same("stalled_ms", rep["stalled_ms"], float(sum(durations)), EPS * max(1, len(stalls)))
    same("longest_ms", rep["longest_ms"], float(max(durations, default=0)))
    same("cut_short", rep["cut_short"], sum(1 for _, s in stalls if s["cut_short"]))
    if summ:
        same("recorded_ms", rep["recorded_ms"], float(summ["recorded_ms"]))
        same("threshold_ms", rep["threshold_ms"], summ["threshold_ms"])
        same("lost_events", rep["lost_events"], summ["lost_events"])
        same("summary.stalls (the recorder's own count)", summ["stalls"], len(stalls))
        threads = {t["tid"]: t for t in rep["threads"]}
        for t in summ["threads"]:
            r = threads.get(t["tid"])
            if not r:
                p.append(f"report.json: no thread {t['tid']}")
                continue
            for k in ("iterations", "stalls"):
                same(f"thread {t['tid']} {k}", r[k], t[k])
            same(f"thread {t['tid']} busy_ms", r["busy_ms"], float(t["busy_ms"]))
            for k, v in t["heartbeat_gap_ms"].items():
                same(f"thread {t['tid']} heartbeat {k}", r["heartbeat_gap_ms"][k], float(v))
            mine = sum(1 for _, s in stalls if s["tid"] == t["tid"])
            same(f"thread {t['tid']} stall records", mine, t["stalls"])

    by_cause = {}
    for _, s in stalls:
        c = by_cause.setdefault(s["cause"], [0, 0.0, 0.0])
        c[0] += 1
        c[1] += s["duration_ms"]
        c[2] = max(c[2], s["duration_ms"])
    got_causes = {c["cause"]: c for c in rep["causes"]}
    same("causes", sorted(got_causes), sorted(by_cause))
    for cause, (n, total, mx) in by_cause.items():
        c = got_causes.get(cause)
        if c:
            same(f"causes[{cause}].stalls", c["stalls"], n)
            same(f"causes[{cause}].total_ms", c["total_ms"], total, EPS * n)
            same(f"causes[{cause}].max_ms", c["max_ms"], mx)

    hist = {}
    for d in durations:
        hist[bucket(d)] = hist.get(bucket(d), 0) + 1
    got_hist = {(h["lo_ms"], h["hi_ms"]): h["stalls"] for h in rep["duration_histogram"]}
    same("duration_histogram", got_hist, hist)

    # culprits partition the stalls, cause by cause
    for cause, (n, total, _) in by_cause.items():
        cs = [c for c in rep["culprits"] if c["cause"] == cause]
        same(f"culprits of {cause}: stalls", sum(c["stalls"] for c in cs), n)
        same(f"culprits of {cause}: total_ms", sum(c["total_ms"] for c in cs), total,
             EPS * n)
    if any(c["cause"] not in by_cause for c in rep["culprits"]):
        p.append("report.json: a culprit with a cause no stall has")

    # the worst stalls: the longest, longest first, each the fixture's line
    by_line = dict(stalls)
    want_worst = sorted(durations, reverse=True)[:WORST]
    same("worst durations", [w["duration_ms"] for w in rep["worst"]], want_worst)
    for w in rep["worst"]:
        s = by_line.get(w["line"])
        if not s:
            p.append(f"report.json worst: line {w['line']} is no stall in the fixture")
            continue
        for k in ("duration_ms", "on_cpu_ms", "off_cpu_ms", "runqueue_ms"):
            same(f"worst line {w['line']} {k}", w[k], float(s[k]))
        same(f"worst line {w['line']} cause", w["cause"], s["cause"])
        same(f"worst line {w['line']} tid", w["tid"], s["tid"])
    return p


def one_decimal(x):
    return f"{x:.1f}"


def check_text(records, report_txt, doctor_txt, threshold):
    """The headline numbers of the text report and of doctor's verdict."""
    p = []
    stalls = stalls_of(records)
    summ = summary_of(records)
    n = len(stalls)
    total = sum(s["duration_ms"] for _, s in stalls)
    longest = max((s["duration_ms"] for _, s in stalls), default=0)
    line = next((l for l in report_txt.splitlines() if l.startswith("stalls ")), "")
    if n == 0:
        if "none over" not in line:
            p.append(f"report.txt: '{line}' for a recording without stalls")
    else:
        m = re.match(r"stalls +(\d+), ([\d.]+) ms in all \(([\d.]+) % of the time\),"
                     r" longest ([\d.]+) ms", line)
        if not m:
            p.append(f"report.txt: no 'stalls N, X ms in all' line: {line!r}")
        else:
            want = (str(n), one_decimal(total), one_decimal(longest))
            got = (m.group(1), m.group(2), m.group(4))
            if got != want:
                p.append(f"report.txt: '{line}': the fixture says {want}")
            if summ and summ["recorded_ms"] > 0:
                pct = one_decimal(100 * total / summ["recorded_ms"])
                if m.group(3) != pct:
                    p.append(f"report.txt: {m.group(3)} % of the time, the fixture says {pct}")
        by_cause = {}
        for _, s in stalls:
            c = by_cause.setdefault(s["cause"], [0, 0.0])
            c[0] += 1
            c[1] += s["duration_ms"]
        for cause, (k, t) in by_cause.items():
            pat = rf"^  {cause} +{k} +{re.escape(one_decimal(t))} ms "
            if not re.search(pat, report_txt, re.M):
                p.append(f"report.txt: no 'Stalls by cause' row '{cause} {k} {one_decimal(t)} ms'")
    verdict = " ".join(doctor_txt.splitlines()[1:3])
    if n == 0:
        if not verdict.startswith(f"Nothing wrong: no stall over {threshold} ms"):
            p.append(f"doctor: '{verdict[:80]}' for a recording without stalls")
    else:
        want = (f"{n} stall{'s' if n > 1 else ''} over {threshold} ms in"
                f" {summ['recorded_ms'] / 1e3:.2f} s: {one_decimal(total)} ms in all")
        if not verdict.startswith(want):
            p.append(f"doctor: '{verdict[:100]}', the fixture says '{want}'")
    return p
