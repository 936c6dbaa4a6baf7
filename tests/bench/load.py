#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Load and soak benchmarks of `loopstall record` (root). They print numbers;
they assert nothing (see README.md, "Load and soak").

  load.py storm   [--seconds 60] [--rate 1000]   ~RATE stalls/s from one target,
                  each with a blocked stack (a 16 KiB record): agent CPU and
                  RSS, stalls written, events lost
  load.py threads [--seconds 30] [--threads 64]  64 loop threads in one process,
                  each stalling 100 ms once a second
  load.py soak    [--seconds 600] [--sample 10]  `record --duration` on 4 loop
                  threads stalling once a second: agent CPU and RSS every
                  --sample seconds, and whether RSS stays flat

Paths: --build DIR (default build) for tools/loopstall and tests/fault_victim,
or $LOOPSTALL and $VICTIM_FAULT. --json FILE also writes the numbers there.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

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
    ls = os.environ.get("LOOPSTALL") or os.path.join(args.build, "tools", "loopstall")
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
        "victim": victim_out.strip().splitlines()[-3:],
        "recorder_stderr": stderr.strip().splitlines()[-3:],
    }
    os.unlink(out)
    os.rmdir(tmp)
    return res


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
    ap.add_argument("what", choices=["storm", "threads", "soak"])
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--rate", type=int, default=1000, help="storm: stalls per second")
    ap.add_argument("--threads", type=int, default=64, help="threads: loop threads")
    ap.add_argument("--sample", type=float, help="seconds between samples")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("load.py: needs root (loopstall record loads BPF)")
    if args.what == "storm":
        secs = args.seconds or 60
        # two loop threads, each ~rate/2 iterations a second, each iteration a
        # block over the 1 ms threshold (and over the 1 ms a block needs for a stack)
        per = max(1, args.rate // 2)
        us = max(1100, int(1e6 / per) - 50)
        res = run(args, ["storm", 2, secs, us], ["--threshold", "1ms"], secs, args.sample or 5)
        report(f"storm ({args.rate}/s wanted, {us} us blocks on 2 threads)", res, secs)
    elif args.what == "threads":
        secs = args.seconds or 30
        res = run(args, ["loops", args.threads, secs], [], secs, args.sample or 5)
        report(f"{args.threads} loop threads, each stalling 100 ms once a second", res, secs)
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
