#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Python asyncio, a coroutine computing 200 ms without awaiting (Example
22.1): one stall with cause cpu, mostly on-CPU time."""
import lstest


def test():
    with lstest.Session() as s:
        run = lstest.record_pid(
            s, lstest.victim("py_cpu_no_yield.py") + ["--wait-signal", "--ms", "200"])
        st = lstest.one_stall(run, "CPU-bound coroutine")
        assert st["cause"] == "cpu", lstest.brief(st)
        lstest.assert_close(st["duration_ms"], 200, 0.10, "stall duration_ms")
        assert st["on_cpu_ms"] > st["off_cpu_ms"] + st["runqueue_ms"], lstest.brief(st)
        assert run.stalls_in(run.scenario_window("cpu")), "the stall is not in the scenario"


if __name__ == "__main__":
    lstest.main(test)
