#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A stall still in progress is on disk as `stall_begin` while the loop is
blocked (docs/records.md: within 10 ms after it crosses the threshold).

The victim blocks its loop for 1 s; this test polls the output file every
millisecond and notes when the stall_begin record appears. The latency is
measured against start_unix_ns + threshold (the moment the busy period
became a stall) on CLOCK_REALTIME, and the test asserts a coarse 50 ms bound
(the 10 ms target is printed, not asserted, to stay robust on a loaded
machine). Five rounds; the median and the worst are printed.
"""
import signal
import statistics
import time

import faults
import lstest

ROUNDS = 5
BOUND_MS = 50.0
TARGET_MS = 10.0


def one_round(s, i):
    target = s.start(faults.victim_argv("block", 1000), name="fault_victim")
    rec = s.record(["-p", str(target.pid)])
    time.sleep(0.3)
    target.signal(signal.SIGUSR2)
    _, begin = faults.wait_record(rec.out, lambda r: r["type"] == "stall_begin", 5)
    seen_ns = lstest.now_ns()
    unblocked = [line for _, line in target.lines["stdout"] if line.startswith("unblocked")]
    assert not unblocked, "stall_begin appeared only after the victim unblocked"
    crossed_ns = begin["start_unix_ns"] + begin["threshold_ms"] * 1e6
    latency_ms = (seen_ns - crossed_ns) / 1e6
    assert begin["pid"] == target.pid and begin["elapsed_ms"] >= begin["threshold_ms"], begin
    print(f"  round {i}: stall_begin on disk {latency_ms:.1f} ms after the threshold was"
          f" crossed (record says elapsed_ms {begin['elapsed_ms']:.1f})")
    assert target.wait(10) == 0
    run = s.finish(rec, target, timeout=15)
    lstest.check_records(run)
    st = lstest.one_stall(run, "1 s block")
    assert st["start_unix_ns"] == begin["start_unix_ns"], "stall and stall_begin disagree"
    return latency_ms


def test():
    lstest.require_root()
    with lstest.Session() as s:
        lat = [one_round(s, i) for i in range(ROUNDS)]
    med, worst = statistics.median(lat), max(lat)
    print(f"stall_begin latency: median {med:.1f} ms, worst {worst:.1f} ms over {ROUNDS} rounds"
          f" (DESIGN target {TARGET_MS:.0f} ms; asserted bound {BOUND_MS:.0f} ms)")
    assert worst < BOUND_MS, f"stall_begin took {worst:.1f} ms (> {BOUND_MS} ms)"


if __name__ == "__main__":
    lstest.main(test)
