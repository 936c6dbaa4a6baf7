#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Two libev loops in two threads of one unmodified program
(tests/victims/libev_two_loops.c) under LD_PRELOAD=libprobe.so: the ingest
loop's on_ingest_batch blocks 150 ms, then the flush loop's on_flush_batch
blocks 250 ms. Each stall must be on its own loop's thread and name that
loop's callback: libprobe keeps one writer per loop in its region, and the
agent joins by thread.
"""
import re

import lstest


def test():
    exe = lstest.env_path("VICTIM_LIBEV_TWO_LOOPS")
    with lstest.Session() as s:
        run = lstest.record_pid(s, lstest.preloaded([exe, "--wait-signal"]), name="libev_two_loops")
        tids = {}
        for _, line in run.target.lines["stdout"]:
            m = re.match(r"thread (\w+) tid=(\d+)", line)
            if m:
                tids[m.group(1)] = int(m.group(2))
        assert set(tids) == {"ingest", "flush"}, run.target.text("stdout")
        for name, symbol, ms in (("ingest", "on_ingest_batch", 150), ("flush", "on_flush_batch", 250)):
            stalls = [x for x in run.stalls_in(run.scenario_window(name)) if x["tid"] == tids[name]]
            assert len(stalls) == 1, (
                f"{name}: expected one stall on thread {tids[name]}, got:\n"
                + "\n".join(lstest.brief(x) for x in run.stalls))
            lstest.assert_close(stalls[0]["duration_ms"], ms, 0.15, f"{name} stall duration_ms")
            cb = lstest.check_callback(stalls[0], symbol, "timer")
            print(f"  thread {tids[name]} ({name}): {cb['symbol']} ran {cb['duration_ms']} ms")
        for x in run.stalls:
            assert x["tid"] in tids.values(), f"stall on a thread that runs no loop: {lstest.brief(x)}"


if __name__ == "__main__":
    lstest.main(test)
