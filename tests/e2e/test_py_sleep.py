#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Python asyncio, time.sleep(1) in a coroutine (Example 22.2, wrong way):
one blocking_syscall stall of 1 s in clock_nanosleep."""
import lstest


def test():
    with lstest.Session() as s:
        run = lstest.record_pid(
            s, lstest.victim("py_sleep_coroutine.py") + ["--wait-signal", "--seconds", "1"])
        st = lstest.one_stall(run, "time.sleep(1)")
        assert st["tid"] == run.target.pid, f"stall on thread {st['tid']}, not the loop thread"
        assert st["cause"] == "blocking_syscall", lstest.brief(st)
        lstest.assert_close(st["duration_ms"], 1000, 0.05, "stall duration_ms")
        assert st["syscalls"] and st["syscalls"][0]["name"] == "clock_nanosleep", lstest.brief(st)
        assert run.stalls_in(run.scenario_window("sleep")), "the stall is not in the scenario"


if __name__ == "__main__":
    lstest.main(test)
