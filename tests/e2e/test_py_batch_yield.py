#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Python asyncio, 1 s of batch work yielding with asyncio.sleep(0) every few
milliseconds (Example 22.3): busy but never stalled at the default 50 ms
threshold, the false-positive check."""
import lstest


def test():
    with lstest.Session() as s:
        run = lstest.record_pid(s, lstest.victim("py_batch_yield.py") + ["--wait-signal"])
        assert not run.stalls, "batch with yields: " + "; ".join(
            lstest.brief(x) for x in run.stalls)
        loop = run.thread(run.target.pid)
        assert loop["iterations"] > 200, f"only {loop['iterations']} iterations: were the yields seen?"
        assert loop["max_busy_ms"] < 50, f"max_busy_ms {loop['max_busy_ms']} without a stall"


if __name__ == "__main__":
    lstest.main(test)
