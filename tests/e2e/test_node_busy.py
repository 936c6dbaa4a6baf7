#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Node.js (libuv), a 300 ms synchronous busy loop in a setTimeout callback:
one stall with cause cpu of about 300 ms on the main thread."""
import lstest


def test():
    with lstest.Session() as s:
        run = lstest.record_pid(s, lstest.victim("node_busy.js") + ["--wait-signal", "--ms", "300"])
        st = lstest.one_stall(run, "busy loop")
        assert st["tid"] == run.target.pid, f"stall on thread {st['tid']}, not node's main thread"
        lstest.check_cause(st, lstest.victim_account(run.target, "busy"))
        lstest.assert_close(st["duration_ms"], 300, 0.10, "stall duration_ms")
        assert run.stalls_in(run.scenario_window("busy")), "the stall is not in the scenario"


if __name__ == "__main__":
    lstest.main(test)
