#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What the agent's own CPU costs: to attach, per blocking stall, per CPU stall.

    sudo tests/bench/stall_cost.py [--rounds 5] [--stalls 4] [LOOPSTALL ...]

For each `loopstall` binary given (default: $LOOPSTALL, else
$BUILD/cli/loopstall; its demo service and loopstalld from the same build), in
interleaved rounds (A B A B ...: drift on a shared machine hits both), and
for each case:

- py-cpu: tests/bench/stall_loop.py --kind cpu (a pure-Python loop
  computing 300 ms, the agent samples it at its default rate), one stall
  per SIGUSR2; py-sleep: the same loop sleeping 300 ms (a blocking stall);
- demo-cpu, demo-sleep: loopstall-demo-service --wait-signal with
  --scenarios cpu (--cpu-ms 300) or sleep (--sleep-ms 300), --stalls times;
- daemon-py-cpu: loopstalld (next to the given loopstall) attached to two
  py-cpu victims at once: the first one's stalls, then the second one's,
  whose libraries the daemon has symbolized already for the first;
- py-cpu-cold: py-cpu with an empty debug-info cache (each run its own
  $LOOPSTALL_DEBUG_CACHE): the first stall as on a machine that never ran
  the agent, inflating Debian's compressed debug files.

The other cases share one debug-info cache, filled by an untimed py-cpu run
of each binary before the rounds (agents that have no such cache ignore
the variable).

The victim starts first; `loopstall record -p PID -o FILE` attaches to it.
The agent's CPU time is the sum of its threads' run time
(/proc/PID/task/*/schedstat: ns, user and system). Reported:
- attach: CPU from exec until it is ready to report a stall (1 s after its
  "recording pid" line: the first loop iteration's preparation included),
  minus the idle rate over that second;
- idle: CPU per second with nothing stalling (subtracted below);
- per stall: CPU from the signal until the stall's record is in the file and
  the agent is idle again (+200 ms), minus the idle rate over that time
  (demo service: its stalls come from one signal, 300 ms apart: from one
  record to the next); the first stall (it reads the debug info) and the
  median of the others.
Medians over rounds, with the range. Results also in $OUT (stall_cost.json).
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("BUILD", os.path.join(SRC, "build"))
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
STALL_MS = 300
CASES = ("py-cpu", "py-sleep", "demo-cpu", "demo-sleep", "daemon-py-cpu", "py-cpu-cold")


def log(msg):
    print(f"stall_cost: {msg}", file=sys.stderr, flush=True)


def agent_cpu_ns(pid):
    """Run time of every live thread of pid, ns (user + system)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError):
            pass  # a thread that just exited
    return total


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.01)
    raise RuntimeError(f"timed out waiting for {what}")


def count_stalls(path):
    try:
        with open(path) as f:
            return sum(1 for line in f if line.startswith('{"type":"stall"'))
    except OSError:
        return 0


def read_line(proc, what, timeout=20):
    # the victims print one line per event: readline blocks at most until it
    end = time.monotonic() + timeout
    line = proc.stdout.readline()
    if not line or time.monotonic() > end:
        raise RuntimeError(f"victim ended before {what}")
    return line.strip()


def beside(loopstall, name, folder):
    """A program of the same build as loopstall: in its folder (tools/ before
    the layout of folders per program), else in the build's FOLDER."""
    here = os.path.dirname(os.path.abspath(loopstall))
    for path in (os.path.join(here, name), os.path.join(here, "..", folder, name)):
        if os.access(path, os.X_OK):
            return path
    raise RuntimeError(f"no {name} next to {loopstall}")


def victim_argv(case, loopstall, stalls):
    kind = case.split("-")[1]
    if case.startswith("py"):
        return [PYTHON, os.path.join(HERE, "stall_loop.py"), "--kind", kind,
                "--ms", str(STALL_MS)]
    demo = beside(loopstall, "loopstall-demo-service", "examples")
    return [demo, "--wait-signal", "--scenarios", kind, f"--{kind}-ms", str(STALL_MS),
            "--repeat", str(stalls), "--gap-ms", "300", "--linger-ms", "100000"]


def run_case(loopstall, case, stalls, tmp):
    """One recorder on one victim: {attach_ms, idle_ms_per_s, stalls_ms: [...]}."""
    out = os.path.join(tmp, "out.jsonl")
    err = os.path.join(tmp, "err.txt")
    env = dict(os.environ, LOOPSTALL_DEBUG_CACHE=os.path.join(tmp, "debuginfo"))
    if case.endswith("-cold"):
        env["LOOPSTALL_DEBUG_CACHE"] = tempfile.mkdtemp(prefix="cold-", dir=tmp)
        case = case[:-len("-cold")]
    victim = subprocess.Popen(victim_argv(case, loopstall, stalls), stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    rec = None
    try:
        if case.startswith("py"):
            if read_line(victim, "ready") != "ready":
                raise RuntimeError("victim did not say ready")
        else:
            time.sleep(0.3)
        with open(err, "w") as ef:
            rec = subprocess.Popen([loopstall, "record", "-p", str(victim.pid), "-o", out],
                                   stdout=subprocess.DEVNULL, stderr=ef, env=env)
        wait_for(lambda: "recording pid" in open(err).read(), 30, "the recorder to attach")
        time.sleep(1.0)
        attach = agent_cpu_ns(rec.pid)
        t0 = time.monotonic()
        time.sleep(1.0)
        idle_rate = (agent_cpu_ns(rec.pid) - attach) / (time.monotonic() - t0)
        res = {"attach_ms": (attach - idle_rate * 1.0) / 1e6, "idle_ms_per_s": idle_rate / 1e6,
               "stalls_ms": []}
        if case.startswith("py"):
            for k in range(1, stalls + 1):
                c0, t0 = agent_cpu_ns(rec.pid), time.monotonic()
                victim.send_signal(signal.SIGUSR2)
                read_line(victim, f"stall {k} end")
                wait_for(lambda: count_stalls(out) >= k, 10, f"stall {k} in the output")
                time.sleep(0.2)
                c1, t1 = agent_cpu_ns(rec.pid), time.monotonic()
                res["stalls_ms"].append((c1 - c0 - idle_rate * (t1 - t0)) / 1e6)
        else:
            # one signal starts them all: each stall's share runs until its record is written
            c0, t0 = agent_cpu_ns(rec.pid), time.monotonic()
            victim.send_signal(signal.SIGUSR2)
            for k in range(1, stalls + 1):
                wait_for(lambda: count_stalls(out) >= k, 30, f"stall {k} in the output")
                if k == stalls:
                    time.sleep(0.2)
                c1, t1 = agent_cpu_ns(rec.pid), time.monotonic()
                res["stalls_ms"].append((c1 - c0 - idle_rate * (t1 - t0)) / 1e6)
                c0, t0 = c1, t1
        res["frames"] = frames_of(out)
        return res
    finally:
        if rec:
            rec.send_signal(signal.SIGINT)
            rec.wait(30)
        victim.kill()
        victim.wait()


def daemon_case(loopstall, stalls, tmp):
    """loopstalld -p A -p B: attach (both), A's stalls, then B's."""
    daemon = beside(loopstall, "loopstalld", "daemon")
    outdir = os.path.join(tmp, "daemon")
    os.makedirs(outdir, exist_ok=True)
    out = os.path.join(outdir, "stalls.jsonl")
    if os.path.exists(out):
        os.unlink(out)
    victims = [subprocess.Popen(victim_argv("py-cpu", loopstall, stalls), stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, start_new_session=True)
               for _ in range(2)]
    d = None
    err = os.path.join(tmp, "daemon.err")
    try:
        for v in victims:
            if read_line(v, "ready") != "ready":
                raise RuntimeError("victim did not say ready")
        with open(err, "w") as ef:
            d = subprocess.Popen([daemon, "-p", str(victims[0].pid), "-p", str(victims[1].pid),
                                  "--metrics-addr", "off", "--output", outdir],
                                 stdout=subprocess.DEVNULL, stderr=ef,
                                 env=dict(os.environ,
                                          LOOPSTALL_DEBUG_CACHE=os.path.join(tmp, "debuginfo")))
        wait_for(lambda: open(err).read().count("attached to pid") >= 2, 30,
                 "the daemon to attach")
        time.sleep(1.0)
        attach = agent_cpu_ns(d.pid)
        t0 = time.monotonic()
        time.sleep(1.0)
        idle_rate = (agent_cpu_ns(d.pid) - attach) / (time.monotonic() - t0)
        res = {"attach_ms": (attach - idle_rate * 1.0) / 1e6, "idle_ms_per_s": idle_rate / 1e6,
               "stalls_ms": [], "second_ms": []}
        seen = 0
        for v, key in ((victims[0], "stalls_ms"), (victims[1], "second_ms")):
            for k in range(1, stalls + 1):
                c0, t0 = agent_cpu_ns(d.pid), time.monotonic()
                v.send_signal(signal.SIGUSR2)
                read_line(v, f"stall {k} end")
                seen += 1
                wait_for(lambda: count_stalls(out) >= seen, 10, f"stall {seen} in the output")
                time.sleep(0.2)
                c1, t1 = agent_cpu_ns(d.pid), time.monotonic()
                res[key].append((c1 - c0 - idle_rate * (t1 - t0)) / 1e6)
        res["frames"] = frames_of(out)
        return res
    finally:
        if d:
            d.send_signal(signal.SIGTERM)
            d.wait(30)
        for v in victims:
            v.kill()
            v.wait()


def frames_of(out):
    """Frames per stall (a check that both builds saw full stacks)."""
    n = []
    with open(out) as f:
        for line in f:
            r = json.loads(line)
            if r.get("type") != "stall":
                continue
            stacks = [c["stack"] for c in r.get("cpu_stacks") or []]
            stacks += [s["stack"] for s in r.get("syscalls") or [] if s.get("stack")]
            n.append(max((len(s) for s in stacks), default=0))
    return n


def summary(xs):
    if not xs:
        return "n/a"
    return f"{statistics.median(xs):7.1f} ms ({min(xs):.1f}..{max(xs):.1f})"


def measure(bins, cases, rounds, stalls):
    """bins: [(label, loopstall path)]; rounds interleave them (A B, B A, ...).
    Returns {label: {case: [one result per round]}}."""
    results = {label: {c: [] for c in cases} for label, _ in bins}
    with tempfile.TemporaryDirectory(prefix="stall-cost-") as tmp:
        # every round then finds the debug-info cache as a machine that ran the agent before
        # (each build: one without the cache leaves it empty)
        for label, b in {b: (label, b) for label, b in bins}.values():
            res = run_case(b, "py-cpu", 1, tmp)
            log(f"warm-up py-cpu {label}: first stall {res['stalls_ms'][0]:.1f} ms")
        for r in range(rounds):
            for c in cases:
                for label, b in (bins if r % 2 == 0 else bins[::-1]):
                    res = (daemon_case(b, stalls, tmp) if c.startswith("daemon")
                           else run_case(b, c, stalls, tmp))
                    log(f"round {r + 1} {c} {label}: attach {res['attach_ms']:.1f} ms, idle "
                        f"{res['idle_ms_per_s']:.2f} ms/s, stalls "
                        + " ".join(f"{x:.1f}" for x in res["stalls_ms"])
                        + (" 2nd process " + " ".join(f"{x:.1f}" for x in res["second_ms"])
                           if "second_ms" in res else "")
                        + f" ms, frames {res['frames']}")
                    results[label][c].append(res)
    return results


def series(rs, case):
    """{row: [per-round value, ms]} of one binary's rounds of one case."""
    out = {"attach": [x["attach_ms"] for x in rs],
           "idle per second": [x["idle_ms_per_s"] for x in rs]}
    out["first stall"] = [x["stalls_ms"][0] for x in rs]
    out["each later stall"] = [statistics.median(x["stalls_ms"][1:]) for x in rs
                               if len(x["stalls_ms"]) > 1]
    if case.startswith("daemon"):
        out["2nd process, first stall"] = [x["second_ms"][0] for x in rs]
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--stalls", type=int, default=4)
    p.add_argument("--cases", default=",".join(CASES))
    p.add_argument("loopstall", nargs="*")
    a = p.parse_args()
    if os.geteuid() != 0:
        sys.exit("stall_cost: needs root (loopstall record attaches BPF programs)")
    paths = a.loopstall or [os.environ.get("LOOPSTALL") or os.path.join(BUILD, "cli", "loopstall")]
    bins = [(f"{chr(ord('A') + i)} {b}", b) for i, b in enumerate(paths)]
    cases = [c for c in a.cases.split(",") if c]
    for c in cases:
        if c not in CASES:
            sys.exit(f"stall_cost: unknown case {c!r} (one of {', '.join(CASES)})")
    results = measure(bins, cases, a.rounds, a.stalls)
    print(f"agent CPU (sum of its threads' run time), {a.rounds} rounds, median (range); "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {os.getloadavg()[0]:.2f}")
    for c in cases:
        print(f"{c}: {STALL_MS} ms stalls")
        for label, _ in bins:
            print(f"  {label}")
            for row, xs in series(results[label][c], c).items():
                print(f"    {row:26} {summary(xs)}")
    with open(os.environ.get("OUT", "stall_cost.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
