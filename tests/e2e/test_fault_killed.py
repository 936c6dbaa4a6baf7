#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The target is killed (SIGKILL) in the middle of a stall: the stall is
still written, marked cut_short, as long as it lasted until the kill; the
recorder ends by itself with exit 0 and a summary last, soon after.

The stall's stack was copied by BPF before the process died, so it should
still name the victim's functions: the agent must not need the dead
process's /proc files to symbolize it.
"""
import signal
import time

import faults
import lstest


def test():
    lstest.require_root()
    with lstest.Session() as s:
        target = s.start(faults.victim_argv("block", 5000), name="fault_victim")
        rec = s.record(["-p", str(target.pid)])
        time.sleep(0.3)
        target.signal(signal.SIGUSR2)
        blocked = faults.victim_time(target, "blocking")
        time.sleep(0.5)
        killed_ns = lstest.now_ns()
        target.signal(signal.SIGKILL)
        t0 = time.monotonic()
        run = s.finish(rec, target, timeout=20)
        took = time.monotonic() - t0
        lstest.show(run)
        lstest.check_records(run)
        print(f"  recorder ended {took * 1000:.0f} ms after the kill")
        assert took < 5, f"recorder took {took:.1f} s to notice the target died"
        stalls = run.all_stalls
        assert len(stalls) == 1, f"expected the one stall cut short, got {len(stalls)}"
        st = stalls[0]
        assert st["cut_short"] is True, f"stall not marked cut_short: {lstest.brief(st)}"
        expect_ms = (killed_ns - blocked) / 1e6
        assert abs(st["duration_ms"] - expect_ms) < 100, (
            f"cut-short stall lasted {st['duration_ms']:.1f} ms, the block lasted"
            f" {expect_ms:.1f} ms until the kill")
        assert st["cause"] == "blocking_syscall", lstest.brief(st)
        assert [sc["name"] for sc in st["syscalls"]][:1] == ["clock_nanosleep"], lstest.brief(st)
        assert run.summary["lost_events"] == 0, f"lost_events {run.summary['lost_events']}"
        th = run.thread(target.pid)
        assert th["stalls"] == 1, f"summary thread stalls {th['stalls']}"
        stack = st["syscalls"][0]["stack"]
        print("  stack:\n" + lstest.format_stack(stack))
        assert stack, "the killed target's stall has no stack at all"
        names = faults.frame_names(stack)
        assert "block_loop" in names and "clock_nanosleep" in names, (
            "BUG: the stack of a target killed mid-stall is not symbolized (the agent"
            " symbolizes after the process is gone and needs its /proc/PID/maps and"
            f" map_files); frames: {names}")


if __name__ == "__main__":
    lstest.main(test)
