#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""PID reuse: a traced process exits and an unrelated process gets its pid.

The kernel hands out pids in order, so reuse is forced through
/proc/sys/kernel/ns_last_pid (root): write PID - 1 and fork at once (retried
when another process on the machine took the pid first).

  -p PID:       the recorder stops when its target exits (within 2 s), so
                it cannot record another process under the pid;
  loopstalld -p A -p B: A exits while the daemon goes on tracing B, and an
                unrelated process gets A's pid and stalls: it must not be
                traced;
  -- COMMAND:   the command's children are followed; one exits while the
                command goes on, and an unrelated process (started by this
                test, not by the command) gets its pid: it must not be traced.
"""
import os
import signal
import sys
import time

import faults
import lstest

PARENT = r"""
import subprocess, sys, time
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True)
assert child.stdout.readline().startswith("ready")
time.sleep(0.3)
child.send_signal(12)
for line in child.stdout:
    if line.strip() == "done":
        break
child.wait()
print("child exited", child.pid, time.time_ns(), flush=True)
time.sleep(6)
print("parent done", flush=True)
"""


def start_with_pid(s, pid, argv, attempts=200):
    """A Proc for argv whose pid is pid, or None when it could not be had."""
    for _ in range(attempts):
        if os.path.exists(f"/proc/{pid}"):
            return None
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(pid - 1))
        p = lstest.Proc(argv, "reused")
        s.procs.append(p)
        if p.pid == pid:
            got = p.wait_line("stdout", lambda l: l.startswith("ready"), 10)
            assert got, f"reused-pid victim did not start: {p.text('stderr')}"
            return p
        p.kill()
        time.sleep(0.01)
    return None


def stalls_of(run, pid, after_ns):
    return [st for st in run.all_stalls if st["pid"] == pid and st["start_unix_ns"] > after_ns]


def attach_by_pid(s):
    target = s.start(faults.victim_argv("block", 100), name="fault_victim")
    rec = s.record(["-p", str(target.pid)])
    time.sleep(0.3)
    target.signal(signal.SIGUSR2)
    assert target.wait(10) == 0
    t0 = time.monotonic()
    run = s.finish(rec, target, timeout=10)
    took = time.monotonic() - t0
    print(f"  recorder ended {took * 1000:.0f} ms after its target exited")
    # the recorder gone, no other process can be recorded under the pid
    assert took < 2, f"recorder ran {took:.1f} s after its target exited"
    lstest.check_records(run)
    assert len(run.stalls) == 1, f"expected the target's one stall, got {len(run.stalls)}"


def daemon_pids(s):
    """loopstalld -p A -p B: A exits while B keeps the daemon tracing, and an
    unrelated process gets A's pid and stalls; the daemon dropped A when it
    exited, so no stall of the newcomer may be written."""
    out_dir = os.path.join(s.dir, "daemon-out")
    first = s.start(faults.victim_argv("block", 100), name="fault_victim A")
    keeper = s.start(faults.victim_argv("block", 100), name="fault_victim B")
    d = lstest.start_daemon(s, ["-p", str(first.pid), "-p", str(keeper.pid),
                                "--output", out_dir, "--metrics-addr", "off"])
    first.signal(signal.SIGUSR2)
    assert first.wait(10) == 0
    exited = lstest.now_ns()
    other = start_with_pid(s, first.pid, faults.victim_argv("block", 300))
    if not other:
        lstest.skip(f"could not get pid {first.pid} again (the machine forks too much)")
    print(f"  pid {first.pid}: traced by loopstalld, exited, reused by an unrelated process")
    other.signal(signal.SIGUSR2)
    assert other.wait(10) == 0
    assert d.p.poll() is None, f"loopstalld exited early:\n{d.text('stderr')}"
    d.signal(signal.SIGTERM)
    assert d.wait(10) == 0, d.text("stderr")
    records = lstest.read_records(os.path.join(out_dir, "stalls.jsonl"))
    stalls = [r for r in records if r["type"] == "stall"]
    mine = [r for r in stalls if r["pid"] == first.pid and r["start_unix_ns"] < exited]
    assert len(mine) == 1, (
        f"A's own 100 ms stall: expected 1 record, got {len(mine)} (the daemon must trace it)")
    wrong = [r for r in stalls if r["pid"] == first.pid and r["start_unix_ns"] > exited]
    assert not wrong, (
        "loopstalld traced an unrelated process that reused the pid of an exited target: "
        + "; ".join(lstest.brief(x) for x in wrong))


def follow_forks(s):
    cmd = [sys.executable, "-c", PARENT, *faults.victim_argv("block", 100)]
    rec = s.record(["--", *cmd], wait_recording=False)
    got = rec.wait_line("stdout", lambda l: l.startswith("child exited"), 30)
    assert got, f"command did not report its child; stderr:\n{rec.text('stderr')}"
    child_pid, exited = got[1].split()[2:4]
    child_pid, exited = int(child_pid), int(exited)
    other = start_with_pid(s, child_pid, faults.victim_argv("block", 300))
    if not other:
        lstest.skip(f"could not get pid {child_pid} again (the machine forks too much)")
    print(f"  pid {child_pid}: the command's child exited, an unrelated process got the pid")
    other.signal(signal.SIGUSR2)
    assert other.wait(10) == 0
    run = s.finish(rec, rec, timeout=30)
    lstest.show(run)
    lstest.check_records(run)
    mine = [st for st in run.all_stalls if st["pid"] == child_pid and st["start_unix_ns"] < exited]
    assert len(mine) == 1, f"the command's child stalled once; recorded {len(mine)}"
    wrong = stalls_of(run, child_pid, exited)
    assert not wrong, (
        "BUG: the recorder traced an unrelated process that reused the pid of the command's"
        " exited child (the `targets` map keeps a followed child's pid after it exits:"
        " loop_tracker.bpf.c sched_process_exit never deletes it). Its stalls: "
        + "; ".join(lstest.brief(x) for x in wrong))


def test():
    lstest.require_root()
    failures = []
    with lstest.Session() as s:
        for name, case in (("-p PID", attach_by_pid), ("loopstalld -p A -p B", daemon_pids),
                           ("-- COMMAND, followed child", follow_forks)):
            try:
                case(s)
                print(f"ok: {name}")
            except AssertionError as e:
                print(f"FAILED: {name}: {e}")
                failures.append(f"{name}: {e}")
    assert not failures, f"{len(failures)} case(s) failed:\n" + "\n".join(failures)


if __name__ == "__main__":
    lstest.main(test)
