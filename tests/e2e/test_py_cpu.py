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
        k = lstest.victim_account(run.target, "cpu")
        print(f"  victim's schedstat: {k}")
        lstest.check_cause(st, k)
        lstest.assert_close(st["duration_ms"], 200, 0.10, "stall duration_ms")
        # the stall's split against the kernel's account of the same computation
        assert abs(st["on_cpu_ms"] - k["on_cpu_ms"]) <= 0.25 * k["on_cpu_ms"] + 10, (
            f"on_cpu_ms {st['on_cpu_ms']:.1f}, the victim was on CPU {k['on_cpu_ms']:.1f} ms")
        assert run.stalls_in(run.scenario_window("cpu")), "the stall is not in the scenario"


if __name__ == "__main__":
    lstest.main(test)
