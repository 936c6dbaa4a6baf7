#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""An idle libev loop (the demo service with --idle-ms) has no stall, and its
10 ms heartbeat shows up as iterations."""
import lstest


def test():
    with lstest.Session() as s:
        run = lstest.record_pid(s, [lstest.demo_service(), "--wait-signal", "--idle-ms", "1500"])
        assert not run.stalls, "idle loop: " + "; ".join(lstest.brief(x) for x in run.stalls)
        loop = run.thread(run.target.pid)
        assert loop["iterations"] > 50, f"idle loop: only {loop['iterations']} iterations in 1.5 s"
        assert loop["stalls"] == 0, f"idle loop: summary counts {loop['stalls']} stalls"


if __name__ == "__main__":
    lstest.main(test)
