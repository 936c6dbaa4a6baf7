#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""`loopstall record -p` on the demo service running all three scenarios.

sleep must be one blocking_syscall stall of 300 ms in clock_nanosleep, cpu
one cpu stall of 200 ms, and offload (the same sleep on a worker thread) no
stall at all. Stalls are told apart by time: each must overlap the window
between the service's `scenario NAME begin` and `end` lines.
"""
import lstest


def test():
    with lstest.Session() as s:
        run = lstest.record_pid(s, [lstest.demo_service(), "--wait-signal"])
        stalls_by = {}
        for name in ("sleep", "cpu", "offload"):
            stalls_by[name] = run.stalls_in(run.scenario_window(name))

        sleep = stalls_by["sleep"]
        assert len(sleep) == 1, f"sleep scenario: expected one stall, got {len(sleep)}"
        st = sleep[0]
        assert st["cause"] == "blocking_syscall", f"sleep: {lstest.brief(st)}"
        lstest.assert_close(st["duration_ms"], 300, 0.05, "sleep stall duration_ms")
        assert st["syscalls"], f"sleep: no syscalls: {lstest.brief(st)}"
        assert st["syscalls"][0]["name"] == "clock_nanosleep", f"sleep: {lstest.brief(st)}"

        cpu = stalls_by["cpu"]
        assert len(cpu) == 1, f"cpu scenario: expected one stall, got {len(cpu)}"
        st = cpu[0]
        lstest.check_cause(st, lstest.victim_account(run.target, "cpu"))
        lstest.assert_close(st["duration_ms"], 200, 0.10, "cpu stall duration_ms")

        assert not stalls_by["offload"], (
            "offload scenario: expected no stall, got "
            + "; ".join(lstest.brief(x) for x in stalls_by["offload"]))
        assert len(run.stalls) == 2, (
            "stalls outside the scenarios:\n" + "\n".join(lstest.brief(x) for x in run.stalls))

        loop = run.thread(run.target.pid)
        assert loop["iterations"] > 0, f"loop thread: {loop}"
        for st in run.stalls:
            assert st["tid"] == run.target.pid, f"stall on a thread other than the loop: {st['tid']}"


if __name__ == "__main__":
    lstest.main(test)
