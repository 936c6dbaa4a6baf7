#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A loop thread sharing its CPU with three busy processes: its 150 ms burst
is mostly run-queue wait, so the stall's cause is preempted and runqueue_ms
its largest part, within 25 % of the run-queue wait the victim's own
schedstat counts over the same work."""
import lstest


def test():
    with lstest.Session() as s:
        run = lstest.record_pid(s, lstest.victim("py_preempted.py") + ["--wait-signal"])
        assert run.stalls, "no stall at all"
        st = max(run.stalls, key=lambda x: x["duration_ms"])
        k = lstest.victim_account(run.target, "burst")
        detail = f"{lstest.brief(st)} (victim's own schedstat: {k})"
        print(f"  {detail}")
        assert st["tid"] == run.target.pid, f"stall on thread {st['tid']}, not the loop thread"
        assert st["cause"] == "preempted", detail
        assert st["runqueue_ms"] > st["on_cpu_ms"] and st["runqueue_ms"] > st["off_cpu_ms"], (
            "runqueue_ms is not the largest part: " + detail)
        assert st["duration_ms"] >= 100, "the 150 ms burst looks cut: " + detail
        # the kernel's run-queue wait of the forks and the burst, which the
        # busy period holds (plus the reaping after it: a few ms at most)
        lstest.assert_close(st["runqueue_ms"], k["runqueue_ms"], 0.25,
                            "runqueue_ms against the victim's schedstat")
        others = [x for x in run.stalls if x is not st]
        assert all(x["cause"] == "preempted" for x in others), (
            "other stalls: " + "; ".join(lstest.brief(x) for x in others))


if __name__ == "__main__":
    lstest.main(test)
