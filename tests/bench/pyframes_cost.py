#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What Python frames cost: the agent with and without them
(LOOPSTALL_NO_PYTHON_FRAMES=1 leaves the py_procs map empty, so BPF walks
nothing and user space names nothing), on tests/victims/py_frames_app.py.

    sudo BUILD=build tests/bench/pyframes_cost.py [--rounds 3] [--seconds 2] [PYTHON...]

Per interpreter and mode, each round:
- cpu: crunch() computes for --seconds (one CPU stall, ~1 kHz samples):
  cpu_sample's BPF run time per run (bpf_stats, enabled through the
  refcounted BPF_ENABLE_STATS while the script runs, never the sysctl) and
  the agent's CPU time (utime+stime, from attach until the stall is
  written) per CPU sample of the stall;
  and, from `record -v`, the agent's unwinding and symbolizing time per
  stack (Python frames are named as part of symbolizing);
- naps: 2 ms sleeps for --seconds (one stall of ~500 blocks, each one's
  stack read at the switch-out): cpu_switch's BPF run time per run (it also
  runs for switches that read no stack, the same in both modes).
Medians over rounds are printed; differences are the Python frames' cost.
"""
import argparse
import ctypes
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "..")
BUILD = os.environ.get("BUILD", os.path.join(SRC, "build"))
LOOPSTALL = os.environ.get("LOOPSTALL", os.path.join(BUILD, "cli", "loopstall"))
APP = os.path.join(SRC, "tests", "victims", "py_frames_app.py")
DEFAULT_PYTHONS = ["/root/.pyenv/versions/3.12.1/bin/python3", "/usr/bin/python3.11"]
BPF_ENABLE_STATS, BPF_STATS_RUN_TIME, NR_BPF = 32, 0, 321
TICK = os.sysconf("SC_CLK_TCK")


def enable_stats():
    """An fd that keeps BPF run-time stats on while open (refcounted by the kernel)."""
    libc = ctypes.CDLL(None, use_errno=True)
    attr = ctypes.create_string_buffer(128)
    ctypes.memmove(attr, ctypes.byref(ctypes.c_uint32(BPF_STATS_RUN_TIME)), 4)
    fd = libc.syscall(NR_BPF, BPF_ENABLE_STATS, attr, 128)
    if fd < 0:
        sys.exit(f"pyframes_cost: BPF_ENABLE_STATS: {os.strerror(ctypes.get_errno())}")
    return fd


def prog_stats(pid):
    """{name: (run_cnt, run_time_ns)} of the BPF programs process pid holds."""
    stats = {}
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                info = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        except OSError:
            continue
        if "prog_type" not in info or "run_cnt" not in info:
            continue
        pid_ = int(info["prog_id"])
        out = subprocess.run(["bpftool", "prog", "show", "id", str(pid_), "-j"],
                             capture_output=True, text=True)
        if out.returncode == 0:
            name = json.loads(out.stdout).get("name", str(pid_))
            stats[name] = (int(info["run_cnt"]), int(info["run_time_ns"]))
    return stats


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_line(proc, text, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = proc.stdout.readline() if proc.stdout else ""
        if text in line:
            return True
        if not line and proc.poll() is not None:
            return False
    return False


def one(python, scenario, seconds, with_python):
    env = dict(os.environ)
    if not with_python:
        env["LOOPSTALL_NO_PYTHON_FRAMES"] = "1"
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "rec.jsonl")
        victim = subprocess.Popen([python, APP, "--wait-signal", "--scenario", scenario,
                                   "--seconds", str(seconds), "--linger-ms", "3000"],
                                  stdout=subprocess.PIPE, text=True, start_new_session=True)
        try:
            assert wait_line(victim, "ready", 15), "victim not ready"
            rec = subprocess.Popen([LOOPSTALL, "record", "-v", "-p", str(victim.pid), "-o", out],
                                   stderr=subprocess.PIPE, text=True, env=env,
                                   start_new_session=True)
            while "recording" not in (rec.stderr.readline() or "recording"):
                pass
            # -v's last line says what stacks cost: read it when the recorder ends
            err_lines = []
            reader = threading.Thread(target=lambda: err_lines.extend(rec.stderr), daemon=True)
            reader.start()
            time.sleep(0.5)
            t0, s0 = cpu_ticks(rec.pid), prog_stats(rec.pid)
            victim.send_signal(signal.SIGUSR2)
            assert wait_line(victim, "end", seconds + 30), "scenario did not end"
            # the stall is resolved (unwound, named) on the agent's finisher thread
            time.sleep(2.0)
            t1, s1 = cpu_ticks(rec.pid), prog_stats(rec.pid)
            victim.wait(30)
            rec.wait(30)
            reader.join(10)
        finally:
            for p in (victim,):
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGKILL)
        stalls = [json.loads(l) for l in open(out)]
        stalls = [r for r in stalls if r["type"] == "stall"]
    costs = [l for l in err_lines if "stacks:" in l]
    m = re.search(r"(\d+) unwound \(([\d.]+) us each\), (\d+) symbolized \(([\d.]+) us each\)",
                  costs[-1] if costs else "")
    unwind_us, symbolize_us = (float(m.group(2)), float(m.group(4))) if m else (0.0, 0.0)
    prog = "cpu_sample" if scenario == "cpu" else "cpu_switch"
    runs = s1[prog][0] - s0[prog][0]
    ns = s1[prog][1] - s0[prog][1]
    samples = sum(s["cpu_samples"] for s in stalls)
    blocks = sum(sc["count"] for s in stalls for sc in s["syscalls"])
    agent_ms = (t1 - t0) * 1000.0 / TICK
    py = any(f.get("kind") == "python" for s in stalls for sc in s["syscalls"]
             for f in sc["stack"]) or any(f.get("kind") == "python" for s in stalls
                                          for c in s["cpu_stacks"] for f in c["stack"])
    return {"bpf_ns_per_run": ns / runs if runs else 0, "runs": runs, "samples": samples,
            "blocks": blocks, "agent_ms": agent_ms,
            "agent_us_per_sample": agent_ms * 1000 / samples if samples else 0,
            "python_frames": py, "unwind_us": unwind_us, "symbolize_us": symbolize_us}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("pythons", nargs="*", default=DEFAULT_PYTHONS)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("pyframes_cost: needs root (BPF)")
    stats_fd = enable_stats()
    print(f"pyframes cost - {time.strftime('%Y-%m-%d %H:%M:%S %z')}, "
          f"{args.rounds} rounds of {args.seconds} s, medians")
    for python in args.pythons:
        for scenario in ("cpu", "naps"):
            for with_python in (False, True):
                rs = [one(python, scenario, args.seconds, with_python) for _ in range(args.rounds)]
                med = {k: statistics.median(r[k] for r in rs)
                       for k in ("bpf_ns_per_run", "runs", "samples", "blocks", "agent_ms",
                                 "agent_us_per_sample", "unwind_us", "symbolize_us")}
                assert all(r["python_frames"] == with_python for r in rs), rs
                what = "with python frames" if with_python else "without          "
                if scenario == "cpu":
                    print(f"{python} cpu  {what}: cpu_sample {med['bpf_ns_per_run']:7.0f} ns/run"
                          f" ({med['runs']:.0f} runs); agent {med['agent_ms']:6.1f} ms CPU for"
                          f" {med['samples']:.0f} samples = {med['agent_us_per_sample']:6.1f}"
                          f" us/sample; unwind {med['unwind_us']:.1f} us, symbolize"
                          f" {med['symbolize_us']:.1f} us per distinct stack")
                else:
                    print(f"{python} naps {what}: cpu_switch {med['bpf_ns_per_run']:7.0f} ns/run"
                          f" ({med['runs']:.0f} runs, {med['blocks']:.0f} blocks);"
                          f" agent {med['agent_ms']:6.1f} ms CPU; symbolize"
                          f" {med['symbolize_us']:.1f} us per stack")
    os.close(stats_fd)


if __name__ == "__main__":
    main()
