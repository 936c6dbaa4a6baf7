#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""`loopstall report`/`doctor` over histories: several files, several
processes, --since/--until/--pid/--target. Built from the recordings of
real runs in tests/fixtures and checked against their golden files
(tests/golden), so "read as one" means byte for byte what one file gives:

- a rotated set (one recording split over stalls.jsonl.1, older, and
  stalls.jsonl, named newest first as a shell lists them) reports exactly as
  the whole file;
- a file holding two processes gets one section per process, each exactly
  the golden report of that process alone (text, markdown, doctor; json: an
  array of the two reports), and --pid or --target picks one of them;
- --since/--until with the fixtures' own times keep the stalls that began in
  the window (to the microsecond, as records are read); over a rotated set whose older file is 10 minutes old,
  `--since 2m --pid P` equals the report of the newer file's P alone;
- a window or pid that matches nothing: one line on stderr, exit 1; a bad
  time: exit 2.
Needs no root.

usage: check_history.py --loopstall PATH
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
TEXT = ["--color", "never", "--width", "100"]

failures = []


def fail(msg):
    failures.append(msg)
    print(f"FAIL: {msg}", file=sys.stderr)


def run(loopstall, args):
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    p = subprocess.run([loopstall, *args], capture_output=True, text=True, env=env, timeout=60)
    return p.returncode, p.stdout, p.stderr


def ok(loopstall, args):
    rc, out, err = run(loopstall, args)
    if rc != 0 or err:
        fail(f"loopstall {' '.join(args)}: exit {rc}, stderr {err.strip()!r}")
    return out


def golden(name, suffix):
    with open(os.path.join(HERE, f"{name}.{suffix}")) as f:
        return f.read()


def fixture_lines(name):
    with open(os.path.join(FIXTURES, f"{name}.jsonl")) as f:
        return f.read().splitlines(True)


def same(what, got, want):
    if got != want:
        fail(f"{what}: differs; got:\n{got[:3000]}\n--- want:\n{want[:3000]}")
    else:
        print(f"ok: {what}")


def without_lines(o):
    if isinstance(o, dict):
        return {k: without_lines(v) for k, v in o.items() if k not in ("line", "worst_line")}
    if isinstance(o, list):
        return [without_lines(v) for v in o]
    return o


def write(path, lines):
    with open(path, "w") as f:
        f.writelines(lines)
    return path


def shifted(lines, delta_ns):
    """The records with every *_unix_ns moved by delta_ns."""
    out = []
    for line in lines:
        rec = json.loads(line)
        for k in list(rec):
            if k.endswith("_unix_ns") and isinstance(rec[k], int):
                rec[k] += delta_ns
        out.append(json.dumps(rec) + "\n")
    return out


def first_pid(name):
    return json.loads(fixture_lines(name)[0])["pid"]


def stall_starts(name):
    return [json.loads(l)["start_unix_ns"] for l in fixture_lines(name)
            if json.loads(l)["type"] == "stall"]


def rotated_set(loopstall, tmp):
    lines = fixture_lines("demo_service")
    half = len(lines) // 2
    older = write(os.path.join(tmp, "stalls.jsonl.1"), lines[:half])
    newer = write(os.path.join(tmp, "stalls.jsonl"), lines[half:])
    same("rotated set: report text = the whole file's golden",
         ok(loopstall, ["report", newer, older, *TEXT]), golden("demo_service", "report.txt"))
    same("rotated set: doctor = the whole file's golden",
         ok(loopstall, ["doctor", newer, older, *TEXT]), golden("demo_service", "doctor.txt"))
    same("rotated set: folded = the whole file's golden",
         ok(loopstall, ["report", newer, older, "--format", "folded"]),
         golden("demo_service", "folded"))
    got = json.loads(ok(loopstall, ["report", newer, older, "--format", "json"]))
    want = json.loads(golden("demo_service", "report.json"))
    same("rotated set: json = the whole file's golden (line numbers aside)",
         json.dumps(without_lines(got), indent=1), json.dumps(without_lines(want), indent=1))
    # an empty current file, just rotated, is part of the set, not an error
    empty = write(os.path.join(tmp, "stalls.jsonl.empty"), [])
    same("rotated set with an empty file",
         ok(loopstall, ["report", empty, newer, older, *TEXT]),
         golden("demo_service", "report.txt"))


def two_processes(loopstall, tmp):
    a, b = "demo_service", "py_sleep"
    both = write(os.path.join(tmp, "two.jsonl"), fixture_lines(a) + fixture_lines(b))
    same("two processes: report text = a section per process",
         ok(loopstall, ["report", both, *TEXT]),
         golden(a, "report.txt") + "\n" + golden(b, "report.txt"))
    same("two processes: markdown = a section per process",
         ok(loopstall, ["report", both, "--format", "markdown"]),
         golden(a, "report.md") + "\n" + golden(b, "report.md"))
    same("two processes: doctor = a section per process",
         ok(loopstall, ["doctor", both, *TEXT]),
         golden(a, "doctor.txt") + "\n" + golden(b, "doctor.txt"))
    got = json.loads(ok(loopstall, ["report", both, "--format", "json"]))
    want = [json.loads(golden(a, "report.json")), json.loads(golden(b, "report.json"))]
    same("two processes: json = an array of the two reports",
         json.dumps(without_lines(got), indent=1), json.dumps(without_lines(want), indent=1))
    folded = ok(loopstall, ["report", both, "--format", "folded"])
    same("two processes: folded = both flame graphs in one",
         "".join(sorted(folded.splitlines(True))),
         "".join(sorted((golden(a, "folded") + golden(b, "folded")).splitlines(True))))
    for name in (a, b):
        same(f"two processes: --pid {first_pid(name)} = {name} alone",
             ok(loopstall, ["report", both, "--pid", str(first_pid(name)), *TEXT]),
             golden(name, "report.txt"))
    comm = json.loads(fixture_lines(b)[0])["comm"]
    same(f"two processes: --target {comm} = {b} alone",
         ok(loopstall, ["doctor", both, "--target", comm, *TEXT]), golden(b, "doctor.txt"))
    rc, out, err = run(loopstall, ["report", both, "--pid", "4000000"])
    if rc != 1 or out or len(err.splitlines()) != 1 or "no record matches" not in err:
        fail(f"--pid of no process: exit {rc}, stdout {out[:100]!r}, stderr {err!r}")
    else:
        print(f"ok: --pid of no process: {err.strip()}")


def window(loopstall, tmp):
    fixture = os.path.join(FIXTURES, "demo_service.jsonl")
    first, second = stall_starts("demo_service")[:2]
    mid = (first + second) // 2
    for args, stalls in ((["--since", str(mid)], 1), (["--until", str(mid)], 1),
                         (["--since", str(first)], 2), (["--since", str(first + 1000)], 1),
                         (["--since", str(first), "--until", str(second)], 1)):
        got = json.loads(ok(loopstall, ["report", fixture, "--format", "json", *args]))
        n = got.get("stalls")
        if isinstance(n, dict):
            n = n.get("count")
        if n != stalls:
            fail(f"report {' '.join(args)}: {n} stalls, want {stalls}")
        else:
            print(f"ok: report {' '.join(args)}: {stalls} stall(s)")
    # RFC 3339 for the same instant as the unix time
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(mid // 10**9))
    frac = f"{mid % 10**9:09d}"
    same("--since RFC 3339 = --since unix ns",
         ok(loopstall, ["report", fixture, "--since", f"{t}.{frac}Z", *TEXT]),
         ok(loopstall, ["report", fixture, "--since", str(mid), *TEXT]))
    rc, out, err = run(loopstall, ["report", fixture, "--since", "5m"])
    if rc != 1 or out or len(err.splitlines()) != 1:
        fail(f"--since 5m on an old recording: exit {rc}, stderr {err!r}")
    else:
        print(f"ok: --since 5m on an old recording: {err.strip()}")
    for bad in (["--since", "5 minutes"], ["--until", "2026-12-07T18:20:00"],
                ["--since", "1m", "--until", "2m"]):
        rc, out, err = run(loopstall, ["report", fixture, *bad])
        if rc != 2 or out or len(err.splitlines()) != 1:
            fail(f"report {' '.join(bad)}: exit {rc}, stderr {err!r}; want exit 2, one line")
        else:
            print(f"ok: report {' '.join(bad)}: {err.strip()}")


def recent_rotated(loopstall, tmp):
    """--since 2m --pid P over a rotated set whose older file is 10 minutes old."""
    a, b = "demo_service", "py_sleep"
    now = time.time_ns()

    def moved(name, end_ago_s):
        lines = fixture_lines(name)
        end = max(json.loads(l).get("end_unix_ns", 0) for l in lines)
        return shifted(lines, now - end_ago_s * 10**9 - end)

    older = write(os.path.join(tmp, "r.jsonl.1"), moved(a, 600) + moved(b, 600))
    newer = write(os.path.join(tmp, "r.jsonl"), moved(a, 30) + moved(b, 30))
    pid = str(first_pid(a))
    same("rotated set, --since 2m --pid P = the newer file's P alone",
         ok(loopstall, ["report", newer, older, "--since", "2m", "--pid", pid, *TEXT]),
         ok(loopstall, ["report", newer, "--pid", pid, *TEXT]))
    whole = json.loads(ok(loopstall, ["report", newer, older, "--pid", pid, "--format", "json"]))
    n = whole.get("stalls")
    n = n.get("count") if isinstance(n, dict) else n
    if n != 2 * len(stall_starts(a)):
        fail(f"rotated set, --pid {pid}: {n} stalls, want both files' {2 * len(stall_starts(a))}")
    else:
        print(f"ok: rotated set, --pid {pid}: {n} stalls from both files")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loopstall", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="loopstall-history-")
    try:
        rotated_set(args.loopstall, tmp)
        two_processes(args.loopstall, tmp)
        window(args.loopstall, tmp)
        recent_rotated(args.loopstall, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failure(s)", file=sys.stderr)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
