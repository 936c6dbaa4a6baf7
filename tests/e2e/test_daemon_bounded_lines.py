#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""loopstalld's records stay under output_max_line, and read as the full ones.

Three daemons watch the same four wait_loop victims (copies under a name of
this test's own), each sleeping 150 ms on its loop thread 40 to 64 calls of
1 KiB frames deep (--depth; stack_bytes 32K), so every stall has a deep
stack: `full` writes lines as long as they are (output_max_line = off),
`bounded` with the default bound (16K), `tight` under 2K. The daemons see
the same kernel events, so they write the same stalls:

- every line of `bounded` and `tight` is within its bound and valid against
  the schema; every stack_ref names a stack record earlier in the same file,
  and each stack is written once in it;
- `bounded`'s stalls, their stack_refs resolved, are `full`'s: the same
  causes, calls and stacks, frame for frame (durations agree within 1 ms:
  each daemon's BPF programs read the clock themselves);
- one run in both forms: `full`'s file rewritten bounded (bound_lines, the
  daemon's code) holds the very stack ids `bounded` wrote, and `loopstall
  report` (text and json) and `doctor` print the same bytes on both;
- `tight` had to cut frames (frames_cut), and still names the same stalls,
  causes, innermost frames and culprits; report says frames were left out.
It prints each file's average and longest line and its records per MB.
"""
import json
import os
import secrets
import shutil
import signal
import subprocess

import lstest

VICTIMS = 4
DEPTHS = (40, 50, 60, 64)
BOUNDS = {"full": None, "bounded": 16384, "tight": 2048}


def lines_of(out):
    with open(os.path.join(out, "stalls.jsonl"), "rb") as f:
        return f.read().splitlines(keepends=True)


def resolve(records):
    """Stalls with each stack_ref replaced by its stack's frames (from records before it)."""
    stacks, stalls = {}, []
    for r in records:
        if r["type"] == "stack":
            assert r["id"] not in stacks, f"stack {r['id']} written twice in one file"
            stacks[r["id"]] = r
        elif r["type"] == "stall":
            for e in r.get("syscalls", []) + r.get("cpu_stacks", []):
                if "stack_ref" in e:
                    assert e["stack"] == [], e
                    assert e["stack_ref"] in stacks, f"stack_ref {e['stack_ref']} before its stack"
                    e["stack"] = stacks[e["stack_ref"]]["frames"]
                    del e["stack_ref"]
            stalls.append(r)
    return stalls, stacks


def run(*args):
    p = subprocess.run([lstest.loopstall(), *args], capture_output=True, timeout=60)
    assert p.returncode == 0, f"loopstall {' '.join(args)}: {p.returncode}\n{p.stderr.decode()}"
    return p.stdout


def same_stall(a, b, whole):
    """What two daemons must agree on (their BPF programs read the clock each on
    its own, and sample the CPU each on its own): the stall and its blocking calls
    with their stacks; whole: every frame, else the innermost one."""
    if (a["pid"], a["tid"], a["cause"], len(a["syscalls"])) != (
            b["pid"], b["tid"], b["cause"], len(b["syscalls"])):
        return False
    if abs(a["duration_ms"] - b["duration_ms"]) > 1:
        return False
    for x, y in zip(a["syscalls"], b["syscalls"]):
        if (x["name"], x["count"], x["target"]) != (y["name"], y["count"], y["target"]):
            return False
        if (x["stack"] != y["stack"]) if whole else (x["stack"][:1] != y["stack"][:1]):
            return False
    return True


def no_lines(o):
    for k in ("line", "worst_line"):
        if k in o and "file" not in o:
            del o[k]
    return o


def culprits(report):
    """The call sites report's "Top culprits" names."""
    text = report.decode()
    part = text.split("Top culprits", 1)[1].split("Worst stalls", 1)[0]
    return [l.strip() for l in part.splitlines() if l.startswith("        ")]


def sizes(name, lines):
    n = len(lines)
    total = sum(len(l) for l in lines)
    print(f"  {name}: {n} lines, {total} bytes, average {total / n:.0f} B, "
          f"longest {max(len(l) for l in lines)} B, {n * 1048576 / total:.0f} records per MB")


def test():
    lstest.require_root()
    with lstest.Session() as s:
        tag = secrets.token_hex(3)
        exe = os.path.join(s.dir, f"lsdbound-{tag}")
        shutil.copy(lstest.env_path("VICTIM_WAIT_LOOP"), exe)
        daemons, outs = {}, {}
        for name, bound in BOUNDS.items():
            outs[name] = os.path.join(s.dir, name)
            conf = os.path.join(s.dir, f"{name}.conf")
            with open(conf, "w") as f:
                f.write(f"output = {outs[name]}\nscan_interval = 100ms\nthreshold = 50ms\n"
                        f"stack_bytes = 32K\nmatch = deep={os.path.basename(exe)}\n"
                        f"output_max_line = {bound or 'off'}\n")
            daemons[name] = lstest.start_daemon(s, ["--config", conf], name=f"loopstalld {name}")
        victims = [s.start([exe, "ppoll", "sleep", "--ms", "150", "--linger-ms", "200",
                            "--depth", str(d)], name=f"wait_loop --depth {d}")
                   for d in DEPTHS]
        for name, d in daemons.items():
            lstest.wait_for(f"{name}: {VICTIMS} targets attached", lambda d=d: lstest.metric(
                lstest.scrape(d), "loopstall_targets") == VICTIMS, 10)
        for v in victims:
            v.signal(signal.SIGUSR2)
            assert v.wait_line("stdout", lambda l: l.startswith("done"), 10), v.text("stderr")
        for v in victims:
            v.wait(5)
        for name, d in daemons.items():
            lstest.wait_for(f"{name}: the targets' exits seen", lambda d=d: lstest.metric(
                lstest.scrape(d), "loopstall_targets") == 0, 10)
            d.signal(signal.SIGTERM)
            assert d.wait(10) == 0, d.text("stderr")

        v = lstest.validator()
        lines, recs, stalls = {}, {}, {}
        for name, bound in BOUNDS.items():
            lines[name] = lines_of(outs[name])
            recs[name] = [json.loads(l) for l in lines[name]]
            for r in recs[name]:
                v.validate(r)
            if bound:
                longest = max(len(l) for l in lines[name])
                assert longest <= bound, f"{name}: a line of {longest} bytes over {bound}"
            stalls[name], stacks = resolve(recs[name])
            assert len(stalls[name]) == VICTIMS, (
                f"{name}: {len(stalls[name])} stalls, not {VICTIMS}: "
                f"{[lstest.brief(r) for r in stalls[name]]}")
            if bound:
                assert len(stacks) >= VICTIMS, f"{name}: {len(stacks)} stack records"
            sizes(name, lines[name])
        deepest = max(len(sc["stack"]) for r in stalls["full"] for sc in r["syscalls"])
        assert deepest >= 30, f"the deepest syscall stack has {deepest} frames, not 30 or more"
        assert max(len(l) for l in lines["full"]) > 2048

        key = lambda r: (r["pid"], r["start_unix_ns"] // 10**7)
        full = sorted(stalls["full"], key=key)
        for name in ("bounded", "tight"):
            for t, f in zip(sorted(stalls[name], key=key), full):
                assert same_stall(t, f, whole=name == "bounded"), (
                    f"{name}: {lstest.brief(t)} is not full's {lstest.brief(f)}")

        # one run in both forms: the full daemon's file, and that file bounded
        f_path = os.path.join(outs["full"], "stalls.jsonl")
        b_path = os.path.join(s.dir, "full-bounded.jsonl")
        with open(f_path, "rb") as src, open(b_path, "wb") as dst:
            subprocess.run([lstest.env_path("BOUND_LINES"), "16K"], stdin=src, stdout=dst,
                           check=True, timeout=60)
        with open(b_path) as f:
            ids = {json.loads(l)["id"] for l in f if '"type":"stack"' in l}
        # ids are the frames' hash: the daemon wrote the very same stacks
        assert ids == {r["id"] for r in recs["bounded"] if r["type"] == "stack"}, ids
        for args in (["report"], ["doctor"]):
            a, b = run(*args, f_path), run(*args, b_path)
            assert a == b, (f"loopstall {' '.join(args)} differs on the bounded records:\n"
                            f"--- full\n{a.decode()}\n--- bounded\n{b.decode()}")
        # json says where in its file each stall is: stack records before it move it down
        a, b = (json.loads(run("report", "--format", "json", p), object_hook=no_lines)
                for p in (f_path, b_path))
        assert a == b, "loopstall report --format json differs on the bounded records"
        print("  report and doctor: the same bytes on both forms; report --format json: "
              "the same but for the line numbers")

        # under 2K the stacks are cut and counted, and the culprits stay the same
        cut = [r for r in recs["tight"] if r["type"] == "stack" and r.get("frames_cut")]
        assert cut, "no stack record under a 2K bound says frames_cut"
        where = [culprits(run("report", os.path.join(outs[n], "stalls.jsonl")))
                 for n in ("full", "tight")]
        assert where[0] and where[0] == where[1], f"culprits differ under 2K: {where}"
        tight_report = run("report", os.path.join(outs["tight"], "stalls.jsonl")).decode()
        assert "left out to fit the line bound" in tight_report, tight_report

if __name__ == "__main__":
    lstest.main(test)
