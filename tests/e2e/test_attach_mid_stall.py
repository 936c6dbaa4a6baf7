#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Attach while the loop is already stalled (issue 15): people attach
because a service hangs.

Each victim blocks its loop thread for 2 s inside a callback; the recorder
attaches 0.4 s into it. The agent reads the blocked thread's registers and
stack at attach, sees a loop's dispatcher below the call (a Task step, V8
entering JavaScript, libev's ev_invoke_pending), and starts the busy period
at once: stall_begin comes while the block lasts, and the stall, when the
loop answers again, says began_before_attach, with a duration that is the
part after attach (a lower bound) and the call it blocked in.

  python (Debian's stripped python3.11 and one with symbols): time.sleep(2)
    in a coroutine, clock_nanosleep, its stack down to the coroutine's
    Python frame (read from the blocked thread's memory); and Debian's
    python3.11 blocked in a plain call_soon callback (time.sleep itself),
    where no native frame has a name that says "callback": its Python frame
    Handle._run does
  node: child_process.execSync('sleep 2'), a nested libuv loop's epoll_pwait
  CPU stalls: a coroutine computing 2 s without awaiting (both pythons), a
    libev callback computing 2 s (the demo service): a thread on a CPU at
    attach is sampled once in its own context, and that stack is judged
  redis-server (Debian's, stripped): DEBUG SLEEP 2 from a client; the
    server's own aeProcessEvents has no symbol there, its aeMain does
  controls: the same programs attached while idle (their loop thread
    blocked in the loop's own wait) give no stall at all

Fails when the agent learns nothing at attach (no stall, or no stall_begin
while it lasts), or judges the loop's own wait a callback (a stall from
attach on an idle service)."""
import signal
import threading
import time

import lstest
from test_redis import Redis, start_redis

STALL_MS = 2000
ATTACH_AFTER_S = 0.4


def attach_mid(argv, name, scenario):
    with lstest.Session() as s:
        target = s.start(argv, name=name)
        target.signal(signal.SIGUSR2)
        assert target.wait_line("stdout", lambda l: l == f"scenario {scenario} begin", 10)
        time.sleep(ATTACH_AFTER_S)
        t_attach = time.time_ns()
        rec = s.record(["-p", str(target.pid)])
        rc = target.wait(30)
        assert rc == 0, f"{name} exited with {rc}: {target.text('stderr')}"
        run = s.finish(rec, target)
        lstest.show(run)
        lstest.check_records(run)
        return run, t_attach


def check_stall(run, t_attach, name, calls, causes=("blocking_syscall",), iterations=10):
    assert len(run.stalls) == 1, f"{name}: expected the one stall running at attach:\n" + "\n".join(
        lstest.brief(st) for st in run.stalls)
    st = run.stalls[0]
    assert st.get("began_before_attach") is True, f"{name}: not flagged: {lstest.brief(st)}"
    # it starts at attach: after the test started the recorder, before the block ended
    assert st["start_unix_ns"] >= t_attach, f"{name}: starts before the recorder ran"
    # what is left of the 2 s after attach; the recorder takes up to ~0.5 s to start
    left = STALL_MS - ATTACH_AFTER_S * 1000
    assert left - 800 <= st["duration_ms"] <= left + 50, (
        f"{name}: duration_ms {st['duration_ms']}, expected about {left:.0f} (less the start-up)")
    assert st["cause"] in causes, f"{name}: {lstest.brief(st)}"
    if calls:
        top = st["syscalls"][0]
        assert top["name"] in calls, f"{name}: top syscall {top['name']}, expected one of {calls}"
        assert top.get("stack"), f"{name}: the blocked call has no stack"
    else:
        # computing: sampled on the CPU from the attach on
        assert st["on_cpu_ms"] >= 500 and st["cpu_samples"] > 0, f"{name}: {lstest.brief(st)}"
    begins = [r for r in run.records if r["type"] == "stall_begin"
              and r["start_unix_ns"] == st["start_unix_ns"]]
    assert begins, f"{name}: no stall_begin while the stall lasted"
    assert begins[0].get("began_before_attach") is True, f"{name}: stall_begin not flagged"
    # the loop's own wait was learnt afterwards: it went on iterating, idle
    assert run.thread(run.target.pid)["iterations"] > iterations, f"{name}: {run.summary}"


def redis_mid_sleep(s):
    """Attach while redis-server runs DEBUG SLEEP 2 for a client; returns the Run."""
    server, port = start_redis(s)
    rec = s.record(["-p", str(server.pid)])
    time.sleep(0.3)
    # the control: idle until now
    idle_until = time.time_ns()
    sleeper = threading.Thread(target=lambda: Redis(port).call("DEBUG", "SLEEP", "2"))
    sleeper.start()
    time.sleep(ATTACH_AFTER_S)
    # a second recorder attaches in the middle of the sleep
    t_attach = time.time_ns()
    rec2 = s.record(["-p", str(server.pid)])
    sleeper.join(10)
    time.sleep(0.3)
    try:
        Redis(port).call("SHUTDOWN", "NOSAVE")
    except AssertionError:
        pass  # it closes the connection as it exits: there is no reply
    server.wait(10)
    run = s.finish(rec, server)
    run2 = s.finish(rec2, server)
    lstest.check_records(run2)
    return run, run2, idle_until, t_attach


def check_idle(argv, name):
    with lstest.Session() as s:
        target = s.start(argv, name=name)
        rec = s.record(["-p", str(target.pid)])
        target.signal(signal.SIGUSR2)
        rc = target.wait(30)
        assert rc == 0, f"{name} exited with {rc}: {target.text('stderr')}"
        run = s.finish(rec, target)
        lstest.check_records(run)
        assert not run.stalls, f"{name} idle: expected no stall:\n" + "\n".join(
            lstest.brief(st) for st in run.stalls)


def test():
    lstest.require_root()
    sleep = lstest.victim("py_sleep_coroutine.py")[1]
    pythons = [lstest.PYTHON, lstest.require_python_with_symbols()]
    for py in pythons:
        argv = [py, sleep, "--wait-signal", "--seconds", str(STALL_MS / 1000)]
        run, t_attach = attach_mid(argv, "py_sleep_coroutine", "sleep")
        check_stall(run, t_attach, py, {"clock_nanosleep"})
        stack = lstest.syscall_stack(run.stalls[0], "clock_nanosleep")
        assert any(f.get("symbol") == "wrong_way" and (f.get("file") or "").endswith(
            "py_sleep_coroutine.py") for f in stack), (
            f"{py}: the blocked call's stack has no Python frame of the coroutine:\n"
            + lstest.format_stack(stack))
    argv = [lstest.PYTHON, sleep, "--wait-signal", "--callback", "--seconds",
            str(STALL_MS / 1000)]
    run, t_attach = attach_mid(argv, "py_sleep_coroutine", "sleep")
    check_stall(run, t_attach, "call_soon(time.sleep)", {"clock_nanosleep"})
    node = lstest.victim("node_exec_sync.js")
    run, t_attach = attach_mid(node + ["--wait-signal", "--ms", str(STALL_MS)], "node_exec_sync",
                               "exec")
    check_stall(run, t_attach, "node execSync", {"epoll_pwait", "epoll_wait"})
    # computing at attach; on a loaded machine part of it is run-queue wait
    cpu = ("cpu", "mixed", "preempted")
    crunch = lstest.victim("py_cpu_no_yield.py")[1]
    for py in pythons:
        run, t_attach = attach_mid([py, crunch, "--wait-signal", "--ms", str(STALL_MS)],
                                   "py_cpu_no_yield", "cpu")
        check_stall(run, t_attach, py + " cpu", None, cpu)
    run, t_attach = attach_mid([lstest.demo_service(), "--scenarios", "cpu", "--cpu-ms",
                                str(STALL_MS), "--wait-signal"], "loopstall-demo-service", "cpu")
    check_stall(run, t_attach, "libev cpu", None, cpu)
    with lstest.Session() as s:
        first, run, idle_until, t_attach = redis_mid_sleep(s)
        lstest.show(run)
        # the recorder attached to the idle server saw no stall until the sleep
        assert not [st for st in first.stalls if st["start_unix_ns"] < idle_until], (
            "idle redis: " + "; ".join(lstest.brief(st) for st in first.stalls))
        # redis wakes 10 times a second when idle (hz 10)
        check_stall(run, t_attach, "redis DEBUG SLEEP", {"clock_nanosleep", "nanosleep"},
                    iterations=2)
    # controls: attached while the loop waits in its own call
    check_idle([pythons[0], sleep, "--wait-signal", "--seconds", "0"], "python")
    check_idle(node + ["--wait-signal", "--idle", "--ms", "300"], "node")


if __name__ == "__main__":
    lstest.main(test)
