#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A loop thread sharing its CPU with three busy processes: its 150 ms burst
is mostly run-queue wait, so the stall's cause is preempted and runqueue_ms
its largest part."""
import lstest


def test():
    with lstest.Session() as s:
        run = lstest.record_pid(s, lstest.victim("py_preempted.py") + ["--wait-signal"])
        assert run.stalls, "no stall at all"
        st = max(run.stalls, key=lambda x: x["duration_ms"])
        burst = next((l for _, l in run.target.lines["stderr"] if l.startswith("burst")), "?")
        detail = f"{lstest.brief(st)} (victim's own schedstat: {burst})"
        assert st["tid"] == run.target.pid, f"stall on thread {st['tid']}, not the loop thread"
        assert st["cause"] == "preempted", detail
        assert st["runqueue_ms"] > st["on_cpu_ms"] and st["runqueue_ms"] > st["off_cpu_ms"], (
            "runqueue_ms is not the largest part: " + detail)
        assert st["duration_ms"] >= 100, "the 150 ms burst looks cut: " + detail
        others = [x for x in run.stalls if x is not st]
        assert all(x["cause"] == "preempted" for x in others), (
            "other stalls: " + "; ".join(lstest.brief(x) for x in others))


if __name__ == "__main__":
    lstest.main(test)
