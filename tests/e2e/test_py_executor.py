#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Python asyncio, the sleep moved to run_in_executor (Example 22.2, right
way): the loop keeps iterating, no stall."""
import lstest


def test():
    with lstest.Session() as s:
        run = lstest.record_pid(
            s, lstest.victim("py_executor.py") + ["--wait-signal", "--seconds", "1"])
        assert not run.stalls, "executor: " + "; ".join(lstest.brief(x) for x in run.stalls)
        loop = run.thread(run.target.pid)
        # The heartbeat went on during the 1 s sleep on the worker thread.
        assert loop["iterations"] > 50, f"loop thread: only {loop['iterations']} iterations"


if __name__ == "__main__":
    lstest.main(test)
