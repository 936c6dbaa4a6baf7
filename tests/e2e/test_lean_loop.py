#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A loop that wakes thousands of times a second runs lean, and its stalls
are still whole.

A loop thread's context-switch event costs it ~400 ns per wake-up: a fifth
of an iteration that does little. Once such a loop has iterated fast for a
second with no long busy period, the agent closes the event (lean.h) and
BPF times each period from the task's counters; when a period reaches the
follow line (a tenth of the threshold, 1..5 ms), the agent opens the event
again and a task iterator reads the block the thread is in
(follow_seed).

Checked from outside, before each step: the recorder's perf-event fds come
down to the hooked wait calls alone (the loop thread lean, the ping-pong
thread retired as no loop). Then, each step starting lean:
 - idle: the loop waits 500 ms in epoll_wait with nothing to do: no stall
   (a follow that took the idle wait for a block would report one);
 - sleep: one 300 ms stall, blocked in clock_nanosleep for nearly all of
   it, with the sleep's stack down to the Python callback that slept: the
   block was in progress when the agent followed the thread, and no
   switch-out of it was ever seen;
 - cpu: one 300 ms stall, on the CPU;
 - sleeps: one 300 ms stall made of 15 sleeps of 20 ms, blocked for all of
   it: the first sleep is in progress at the follow (unless the agent is
   late by more than 20 ms, when it is in the blocked total only), the
   others are seen one by one.
"""
import signal
import time

import lstest


def wait_lean(rec, timeout=8.0):
    """Waits until the recorder holds no perf event but the hooked calls'."""
    deadline = time.monotonic() + timeout
    while True:
        lines = lstest.hooked_lines(rec)
        hooked = 0 if not lines or lines[-1] == "none" else len(lines[-1].split(","))
        fds = lstest.perf_event_fds(rec.pid)
        if hooked and fds == hooked:
            return
        assert time.monotonic() < deadline, (
            f"the loop never ran lean: {fds} perf events open, {hooked} hooked calls")
        time.sleep(0.1)


def step_stall(run, step):
    stalls = run.stalls_in(run.scenario_window(step), slack_ms=20)
    assert len(stalls) == 1, (f"{step}: expected one stall, got:\n"
                              + "\n".join(lstest.brief(x) for x in run.stalls))
    return stalls[0]


def test():
    lstest.require_root()
    steps = ["idle", "sleep", "cpu", "sleeps"]
    with lstest.Session() as s:
        target = s.start(lstest.victim("py_fast_loop.py") + ["--steps", ",".join(steps)])
        rec = s.record(["-p", str(target.pid)], ["-v", "--threshold", "100ms"])
        for step in steps:
            wait_lean(rec)
            target.signal(signal.SIGUSR2)
            target.wait_line("stdout", lambda l, st=step: l == f"scenario {st} end", 10)
        assert target.wait(20) == 0, target.text("stderr")
        run = s.finish(rec, target)
        lstest.show(run)
        lstest.check_records(run)

        assert not run.stalls_in(run.scenario_window("idle"), slack_ms=0), (
            "the loop's idle wait was reported as a stall:\n"
            + "\n".join(lstest.brief(x) for x in run.stalls))

        st = step_stall(run, "sleep")
        lstest.assert_close(st["duration_ms"], 300, 0.1, "sleep stall duration_ms")
        assert st["cause"] == "blocking_syscall", lstest.brief(st)
        sc = st["syscalls"][0]
        assert sc["name"] == "clock_nanosleep" and sc["total_ms"] >= 270, (
            f"the sleep in progress at the follow is not in the stall's calls: {st['syscalls']}")
        stack = lstest.syscall_stack(st, "clock_nanosleep")
        print("  clock_nanosleep stack:\n" + lstest.format_stack(stack))
        assert any((f.get("module") or "").split("/")[-1].startswith("libc") for f in stack), (
            "the sleep's stack does not reach the C library")
        # its Python frames, read from the blocked thread's memory
        assert any((f.get("file") or "").endswith("py_fast_loop.py")
                   and f.get("symbol") == "main.<locals>.answer" for f in stack), (
            "the sleep's stack has no Python frame of the callback that slept")

        st = step_stall(run, "cpu")
        lstest.assert_close(st["duration_ms"], 300, 0.1, "cpu stall duration_ms")
        assert st["cause"] == "cpu", lstest.brief(st)

        st = step_stall(run, "sleeps")
        lstest.assert_close(st["duration_ms"], 300, 0.15, "sleeps stall duration_ms")
        sc = st["syscalls"][0]
        assert sc["name"] == "clock_nanosleep" and 14 <= sc["count"] <= 15, (
            f"15 sleeps, but the stall counts {st['syscalls']}")
        # unseen or not, a sleep is no CPU time: the kernel's totals decide
        assert st["cause"] == "blocking_syscall" and st["on_cpu_ms"] < 15, lstest.brief(st)

        assert len(run.stalls) == 3, "\n".join(lstest.brief(x) for x in run.stalls)
        t = run.thread(target.pid)
        assert t["iterations"] > 20000, f"the loop iterated {t['iterations']} times only"


if __name__ == "__main__":
    lstest.main(test)
