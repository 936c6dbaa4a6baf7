#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Load and soak benchmarks of `loopstall record` (root). They print numbers;
they assert nothing (see README.md, "Load and soak").

  load.py storm   [--seconds 60] [--rate 1000] [--block-us 1300] [--ring-size SIZE]
                  RATE stalls/s from one target (two loop threads on a fixed
                  schedule), each with a blocked stack (a 16 KiB record):
                  agent CPU and RSS, stalls written, events lost
  load.py threads [--seconds 30] [--threads 64]  64 loop threads in one process,
                  each stalling 100 ms once a second
  load.py soak    [--seconds 600] [--sample 10]  `record --duration` on 4 loop
                  threads stalling once a second: agent CPU and RSS every
                  --sample seconds, and whether RSS stays flat
  load.py churn   [--procs 100] [--gap 0.15] [--scan-interval 250ms]
                  loopstalld --match following PROCS short-lived processes
                  (0.5-2 s each, a new one every GAP s, one 100 ms stall
                  each): how many were attached and how soon, their stalls
                  written, loopstalld's CPU and RSS as processes come and go

Paths: --build DIR (default build) for cli/loopstall, daemon/loopstalld and
tests/fault_victim, or $LOOPSTALL, $LOOPSTALLD and $VICTIM_FAULT. --json FILE
also writes the numbers there.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_kb(pid, field="VmRSS"):
    """VmRSS, or RssAnon (the heap: file pages the kernel may drop and map
    again, such as the ELF files the symbolizer maps, do not count)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def paths(args):
    ls = os.environ.get("LOOPSTALL") or os.path.join(args.build, "cli", "loopstall")
    victim = os.environ.get("VICTIM_FAULT") or os.path.join(args.build, "tests", "fault_victim")
    for p in (ls, victim):
        if not os.access(p, os.X_OK):
            sys.exit(f"load.py: {p}: not found (build first, or give --build)")
    return ls, victim


def wait_line(proc, prefix, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith(prefix):
            return line.strip()
    raise SystemExit(f"load.py: the victim never said {prefix!r}")


def run(args, victim_args, record_opts, seconds, sample_s):
    """Starts the victim and the recorder, starts the scenario, samples the
    recorder every sample_s seconds until both end. Returns the numbers."""
    ls, victim = paths(args)
    tmp = tempfile.mkdtemp(prefix="loopstall-bench-")
    out = os.path.join(tmp, "records.jsonl")
    vic = subprocess.Popen([victim, *map(str, victim_args)], stdout=subprocess.PIPE, text=True)
    wait_line(vic, "ready", 10)
    rec = subprocess.Popen([ls, "record", "-p", str(vic.pid), "-o", out, *record_opts],
                           stderr=subprocess.PIPE, text=True)
    while True:
        line = rec.stderr.readline()
        if not line or "recording" in line:
            break
    time.sleep(1)
    cpu0, t0 = cpu_s(rec.pid), time.monotonic()
    samples = [(0.0, 0.0, rss_kb(rec.pid), rss_kb(rec.pid, "RssAnon"))]
    vic.send_signal(signal.SIGUSR2)
    next_sample = t0 + sample_s
    while rec.poll() is None and vic.poll() is None:
        time.sleep(min(0.2, max(0.0, next_sample - time.monotonic())))
        now = time.monotonic()
        if now >= next_sample:
            sample = (now - t0, cpu_s(rec.pid) - cpu0, rss_kb(rec.pid), rss_kb(rec.pid, "RssAnon"))
            next_sample += sample_s
            if not sample[2]:
                break  # the recorder is gone (exiting)
            samples.append(sample)
            print(f"  t={now - t0:6.1f} s  agent CPU {sample[1]:7.2f} s"
                  f" ({100 * sample[1] / (now - t0):5.1f} %)  RSS {sample[2] / 1024:6.1f} MiB"
                  f" (anon {sample[3] / 1024:6.1f} MiB)", flush=True)
    if rec.poll() is not None and vic.poll() is None:
        vic.terminate()  # --duration ended the recording first
    vic.wait(timeout=seconds + 120)
    victim_out = vic.stdout.read()
    if rec.poll() is None:
        # the recorder ends with its target; give it the time to write the summary
        try:
            rec.wait(timeout=120)
        except subprocess.TimeoutExpired:
            rec.send_signal(signal.SIGINT)
            rec.wait(timeout=60)
    wall = time.monotonic() - t0
    stderr = rec.stderr.read()
    recs = [json.loads(l) for l in open(out)]
    summary = recs[-1] if recs and recs[-1]["type"] == "summary" else {}
    written = sum(1 for r in recs if r["type"] == "stall")
    counted = sum(t["stalls"] for t in summary.get("threads", []))
    cpu = samples[-1][1]
    res = {
        "wall_s": round(wall, 2),
        "agent_cpu_s": round(cpu, 2),
        "agent_cpu_pct": round(100 * cpu / samples[-1][0], 2) if samples[-1][0] else None,
        "rss_kb_start": samples[0][2],
        "rss_kb_max": max(s[2] for s in samples),
        "rss_kb_end": samples[-1][2],
        "rss_anon_kb_start": samples[0][3],
        "rss_anon_kb_max": max(s[3] for s in samples),
        "rss_anon_kb_end": samples[-1][3],
        "stalls_written": written,
        "stalls_counted_by_bpf": counted,
        "lost_events": summary.get("lost_events"),
        "recorder_exit": rec.returncode,
        "samples": samples,
        "victim": victim_out.strip().splitlines()[-6:],
        "recorder_stderr": stderr.strip().splitlines()[-3:],
    }
    os.unlink(out)
    os.rmdir(tmp)
    return res


class Daemon:
    """loopstalld with its stderr lines collected, each with the monotonic
    time it was read (the daemon writes them unbuffered)."""

    def __init__(self, argv):
        self.lines = []
        self.cond = threading.Condition()
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True, errors="replace")
        self.pid = self.p.pid
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stderr:
            with self.cond:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
                self.cond.notify_all()

    def wait_line(self, pred, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, line in self.lines:
                    if pred(line):
                        return t, line
                left = deadline - time.monotonic()
                if left <= 0 or self.p.poll() is not None:
                    text = "\n".join(l for _, l in self.lines)
                    raise SystemExit(f"load.py: loopstalld did not say what was expected:\n{text}")
                self.cond.wait(min(left, 0.1))

    def metrics(self):
        """{name: value} of the label-less samples /metrics serves now."""
        with urllib.request.urlopen(self.url, timeout=5) as r:
            text = r.read().decode()
        return {m.group(1): float(m.group(2))
                for m in re.finditer(r"^(loopstall_[a-z_]+) (\S+)$", text, re.M)}


def churn(args):
    """loopstalld --match following args.procs short-lived copies of the
    fault victim, each living 0.5-2 s with one 100 ms stall."""
    daemon = os.environ.get("LOOPSTALLD") or os.path.join(args.build, "daemon", "loopstalld")
    _, victim = paths(args)
    if not os.access(daemon, os.X_OK):
        sys.exit(f"load.py: {daemon}: not found (build first, or give --build)")
    rng = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix="loopstall-bench-")
    # a name of its own, within a comm's 15 bytes: nothing else on the machine matches
    name = f"lschurn-{os.getpid() % 100000:05d}"
    exe = os.path.join(tmp, name)
    shutil.copy(victim, exe)
    out = os.path.join(tmp, "out")
    argv = [daemon, "--match", f"churn={name}", "--output", out, "--metrics-addr", "127.0.0.1:0"]
    if args.scan_interval:
        # a configuration-file key only
        conf = os.path.join(tmp, "loopstalld.conf")
        with open(conf, "w") as f:
            f.write(f"scan_interval = {args.scan_interval}\n")
        argv += ["--config", conf]
    d = Daemon(argv)
    _, line = d.wait_line(lambda l: "serving metrics on" in l, 30)
    d.url = line.split("serving metrics on ", 1)[1].strip()
    d.wait_line(lambda l: l.startswith("loopstalld: running"), 30)
    time.sleep(1)
    cpu0 = cpu_s(d.pid)
    t0 = time.monotonic()
    samples = [(0, 0.0, 0.0, rss_kb(d.pid), rss_kb(d.pid, "RssAnon"))]

    # lives and stall times fixed by the seed; the stall ends >= 100 ms before the exit
    plan = []
    for i in range(args.procs):
        life = rng.uniform(0.5, 2.0)
        at = rng.uniform(args.stall_after, life - args.block_ms / 1e3 - 0.1)
        plan.append((i * args.gap, life, at))
    started, running = {}, []
    every = max(1, args.procs // 20)
    for i, (when, life, at) in enumerate(plan):
        while time.monotonic() - t0 < when:
            time.sleep(0.005)
        t_start = time.monotonic()
        p = subprocess.Popen([exe, "life", f"{life * 1e3:.0f}", f"{at * 1e3:.0f}",
                              str(args.block_ms)],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        started[p.pid] = (t_start, life, at)
        running.append(p)
        running = [q for q in running if q.poll() is None]
        if (i + 1) % every == 0:
            now = time.monotonic()
            samples.append((i + 1, now - t0, cpu_s(d.pid) - cpu0, rss_kb(d.pid),
                            rss_kb(d.pid, "RssAnon")))
            if (i + 1) % (2 * every) == 0:
                print(f"  {i + 1:4d} started ({len(running)} alive) t={now - t0:5.1f} s"
                      f"  loopstalld CPU {samples[-1][2]:5.2f} s"
                      f"  RSS {samples[-1][3] / 1024:5.1f} MiB"
                      f" (anon {samples[-1][4] / 1024:5.1f} MiB)", flush=True)
    for p in running:
        p.wait(timeout=30)
    # the last exits are seen and detached
    time.sleep(1.0)
    wall = time.monotonic() - t0
    samples.append((args.procs, wall, cpu_s(d.pid) - cpu0, rss_kb(d.pid),
                    rss_kb(d.pid, "RssAnon")))
    m = d.metrics()
    d.p.send_signal(signal.SIGTERM)
    rc = d.p.wait(timeout=30)
    d.reader.join(5)

    attached = {}
    for t, line in d.lines:
        a = re.match(r"loopstalld: attached to pid (\d+) ", line)
        if a and int(a.group(1)) in started:
            attached[int(a.group(1))] = t
    detached = sum(1 for _, l in d.lines
                   if re.match(r"loopstalld: detached from pid (\d+) .*it exited", l)
                   and int(l.split()[4]) in started)
    latency = sorted((attached[pid] - started[pid][0]) * 1e3 for pid in attached)
    recs = []
    for f in sorted(os.listdir(out), reverse=True):
        with open(os.path.join(out, f)) as fh:
            recs += [json.loads(l) for l in fh]
    stalls = [r for r in recs if r["type"] == "stall" and r["pid"] in started]
    known = [r for r in stalls if 0.9 * args.block_ms <= r["duration_ms"] <= 2 * args.block_ms
             and not r["cut_short"]]
    summary = next((r for r in recs if r["type"] == "summary"), {})
    pct = lambda q: latency[min(len(latency) - 1, int(q * len(latency)))] if latency else None  # noqa: E731
    res = {
        "procs": args.procs,
        "attached": len(attached),
        "detached_on_exit": detached,
        "stalls_written": len(stalls),
        "stalls_of_known_length": len(known),
        "procs_with_their_stall": len({r["pid"] for r in known}),
        "attach_latency_ms": {"min": latency[0] if latency else None, "p50": pct(0.5),
                              "p90": pct(0.9), "max": latency[-1] if latency else None},
        "wall_s": round(wall, 2),
        "agent_cpu_s": round(samples[-1][2], 2),
        "rss_kb": [(n, r) for n, _, _, r, _ in samples],
        "rss_anon_kb": [(n, a) for n, _, _, _, a in samples],
        "lost_events": m.get("loopstall_lost_events_total"),
        "summary_lost_events": summary.get("lost_events"),
        "targets_after": m.get("loopstall_targets"),
        "daemon_exit": rc,
        "samples": samples,
    }
    shutil.rmtree(tmp, ignore_errors=True)
    return res


def report_churn(res, args):
    lat = res["attach_latency_ms"]
    fmt = lambda v: "-" if v is None else f"{v:.0f}"  # noqa: E731
    rss, anon = res["rss_kb"], res["rss_anon_kb"]
    n = res["procs"]
    # the heap rises and falls as the unwinder builds and evicts processes' symbol
    # tables (16 at most): compare peaks once its cache had time to fill
    early = max((a for k, a in anon[1:-1] if n / 3 < k <= 2 * n / 3), default=0)
    late = max((a for k, a in anon[1:] if k > 2 * n / 3), default=0)
    print(f"churn: {res['procs']} processes of 0.5-2 s, one every {args.gap} s, each stalling"
          f" {args.block_ms} ms once; loopstalld --match, scan_interval"
          f" {args.scan_interval or '250ms (default)'}")
    print(f"  attached {res['attached']}/{res['procs']} (detached at exit {res['detached_on_exit']}),"
          f" attach latency after the process started: min {fmt(lat['min'])}, p50 {fmt(lat['p50'])},"
          f" p90 {fmt(lat['p90'])}, max {fmt(lat['max'])} ms")
    print(f"  stalls written {res['stalls_written']}, of the known length"
          f" {res['stalls_of_known_length']} (from {res['procs_with_their_stall']} processes),"
          f" lost_events {res['lost_events']:.0f}, loopstall_targets after {res['targets_after']:.0f},"
          f" loopstalld exit {res['daemon_exit']}")
    print(f"  loopstalld CPU {res['agent_cpu_s']} s over {res['wall_s']} s"
          f" ({100 * res['agent_cpu_s'] / res['wall_s']:.1f} % of one CPU,"
          f" {1e3 * res['agent_cpu_s'] / res['procs']:.1f} ms per process)")
    print(f"  RSS {rss[0][1] / 1024:.1f} MiB before the first process,"
          f" {rss[-1][1] / 1024:.1f} MiB after the last (max {max(r for _, r in rss) / 1024:.1f});"
          f" RssAnon {anon[0][1] / 1024:.1f} -> {anon[-1][1] / 1024:.1f} MiB"
          f" (max {max(a for _, a in anon) / 1024:.1f})")
    print(f"  RssAnon peak while the second third started {early / 1024:.1f} MiB, the last third"
          f" {late / 1024:.1f} MiB ({late - early:+d} KiB):"
          f" {'GROWING' if late - early > 1024 else 'flat'}")


def report(name, res, seconds):
    print(f"{name}: agent CPU {res['agent_cpu_s']} s over {seconds} s"
          f" ({res['agent_cpu_pct']} % of one CPU), RSS {res['rss_kb_start'] / 1024:.1f} ->"
          f" max {res['rss_kb_max'] / 1024:.1f} -> end {res['rss_kb_end'] / 1024:.1f} MiB"
          f" (anon {res['rss_anon_kb_start'] / 1024:.1f} -> max {res['rss_anon_kb_max'] / 1024:.1f}"
          f" -> end {res['rss_anon_kb_end'] / 1024:.1f} MiB)")
    print(f"  stalls written {res['stalls_written']} ({res['stalls_written'] / seconds:.0f}/s),"
          f" counted by BPF {res['stalls_counted_by_bpf']}, lost_events {res['lost_events']},"
          f" recorder exit {res['recorder_exit']}")


def rss_trend(samples):
    """Least-squares slope of RssAnon over time (KiB per minute), after the first minute."""
    pts = [(t, a) for t, _, _, a in samples if t >= 60] or [(t, a) for t, _, _, a in samples]
    if len(pts) < 2:
        return 0.0
    n = len(pts)
    mt = sum(t for t, _ in pts) / n
    mr = sum(r for _, r in pts) / n
    var = sum((t - mt) ** 2 for t, _ in pts)
    return 60 * sum((t - mt) * (r - mr) for t, r in pts) / var if var else 0.0


def rss_growth(samples, window=120):
    """Peak RssAnon of the last `window` seconds minus that of the `window`
    seconds after the first minute (KiB). The kernel splits huge pages under
    memory pressure, so RssAnon also drops now and then: peaks, not ends."""
    end = samples[-1][0]
    early = [a for t, _, _, a in samples if 60 <= t < 60 + window]
    late = [a for t, _, _, a in samples if t > end - window]
    return max(late) - max(early) if early and late else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["storm", "threads", "soak", "churn"])
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--rate", type=int, default=1000, help="storm: stalls per second")
    ap.add_argument("--block-us", type=int, default=1300,
                    help="storm: how long each stall blocks (threshold 1 ms)")
    ap.add_argument("--ring-size", help="storm: record --ring-size")
    ap.add_argument("--threads", type=int, default=64, help="threads: loop threads")
    ap.add_argument("--sample", type=float, help="seconds between samples")
    ap.add_argument("--procs", type=int, default=100, help="churn: processes")
    ap.add_argument("--gap", type=float, default=0.15, help="churn: seconds between starts")
    ap.add_argument("--block-ms", type=int, default=100, help="churn: each process's stall")
    ap.add_argument("--stall-after", type=float, default=0.3,
                    help="churn: earliest stall, seconds after a process starts")
    ap.add_argument("--scan-interval", help="churn: loopstalld's scan_interval")
    ap.add_argument("--seed", type=int, default=1, help="churn: lives and stall times")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("load.py: needs root (loopstall record loads BPF)")
    if args.what == "storm":
        secs = args.seconds or 60
        # two loop threads whose iterations start on a fixed schedule, rate/2
        # a second each; each iteration blocks --block-us, over the 1 ms
        # threshold and over the 1 ms a block needs for a stack. Sleeping a
        # fixed time per iteration instead lost every wake-up's latency and
        # made ~905/s of 1,000 (see README.md).
        opts = ["--threshold", "1ms"]
        if args.ring_size:
            opts += ["--ring-size", args.ring_size]
        res = run(args, ["storm", 2, secs, args.block_us, args.rate], opts, secs,
                  args.sample or 5)
        iterations = next((int(l.split()[2]) for l in res["victim"]
                           if l.startswith("storm iterations")), None)
        res["victim_iterations"] = iterations
        report(f"storm ({args.rate}/s wanted, {args.block_us} us blocks on 2 threads)", res, secs)
        if iterations is not None:
            print(f"  the victim made {iterations} stalling iterations"
                  f" ({iterations / secs:.0f}/s over its {secs:.0f} s)")
    elif args.what == "threads":
        secs = args.seconds or 30
        res = run(args, ["loops", args.threads, secs], [], secs, args.sample or 5)
        report(f"{args.threads} loop threads, each stalling 100 ms once a second", res, secs)
    elif args.what == "churn":
        res = churn(args)
        report_churn(res, args)
    else:
        secs = args.seconds or 600
        res = run(args, ["loops", 4, secs + 30], ["--duration", f"{int(secs)}s"], secs,
                  args.sample or 10)
        report(f"soak, record --duration {int(secs)}s", res, secs)
        slope = rss_trend(res["samples"])
        growth = rss_growth(res["samples"])
        res["rss_anon_slope_kb_per_min"] = round(slope, 1)
        res["rss_anon_growth_kb"] = growth
        print(f"  RssAnon after the first minute: trend {slope:+.1f} KiB/min, last two minutes'"
              f" peak {growth:+d} KiB against the two after the first minute:"
              f" {'GROWING' if slope > 64 or growth > 1024 else 'flat'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
