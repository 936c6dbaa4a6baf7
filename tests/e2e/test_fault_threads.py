#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Threads created and destroyed fast: while the loop thread stalls 300 ms,
a helper creates and joins 1000 threads one after the other, each of which
polls once (so BPF starts tracking it and announces it) and then blocks
1 ms (so BPF keeps a stack in flight for it) before exiting.

The agent must keep running and report the loop's stall; nothing may leak:
the `threads` map holds only the live loop thread afterwards, the
`pending_stacks` map no more than the live loop threads, and the agent's
CPU-sampling perf events are back to what they were, and its RSS grows by
no more than the one-time cost of symbolizing (libc's tables: ~17 MiB
here). A loop thread started after the storm must still get its stall's
stack.
"""
import signal
import time

import faults
import lstest


def test():
    lstest.require_root()
    with lstest.Session() as s:
        target = s.start(faults.victim_argv("threads", 1000, 300), name="fault_victim")
        rec = s.record(["-p", str(target.pid)])
        time.sleep(0.5)
        maps = faults.agent_maps(rec.pid)
        assert "threads" in maps and "pending_stacks" in maps, f"agent maps: {maps}"
        perf_before = faults.fd_targets(rec.pid).count("anon_inode:[perf_event]")
        rss_before = faults.rss_kb(rec.pid)
        target.signal(signal.SIGUSR2)
        got = target.wait_line("stdout", lambda l: l.startswith("storm done"), 90)
        assert got, f"victim ended before its storm was done:\n{target.text('stderr')}"
        print(f"  victim: {got[1]}")
        time.sleep(1.0)  # let the agent drain the exits
        assert rec.p.poll() is None, f"the agent exited during the storm:\n{rec.text('stderr')}"
        threads = faults.map_entries(maps["threads"])
        pending = faults.map_entries(maps["pending_stacks"])
        perf_after = faults.fd_targets(rec.pid).count("anon_inode:[perf_event]")
        rss_after = faults.rss_kb(rec.pid)
        print(f"  after the storm: threads map {len(threads)} entries, pending_stacks"
              f" {len(pending)}, perf_event fds {perf_before} -> {perf_after},"
              f" agent RSS {rss_before} -> {rss_after} KiB")
        target.signal(signal.SIGUSR2)  # a new loop thread, then exit
        late = target.wait_line("stdout", lambda l: l.startswith("late thread"), 20)
        assert late, "no late loop thread"
        late_tid = int(late[1].split()[2])
        assert target.wait(30) == 0, f"victim failed:\n{target.text('stderr')}"
        run = s.finish(rec, target, timeout=30)
        lstest.show(run)
        lstest.check_records(run)
        failures = []
        loop = [st for st in run.stalls if st["tid"] == target.pid]
        if len(loop) != 1 or not 250 <= loop[0]["duration_ms"] <= 450:
            failures.append(f"the loop thread's 300 ms stall: got {[lstest.brief(x) for x in loop]}")
        if len(threads) > 1:
            failures.append(f"`threads` map kept {len(threads)} entries after the storm"
                            " (only the loop thread lives)")
        if perf_after > perf_before:
            failures.append(f"perf_event fds grew {perf_before} -> {perf_after}: samplers leak")
        # a storm may outrun the ring buffer: that is counted, not a leak
        print(f"  lost_events {run.summary['lost_events']}")
        if rss_after - rss_before > 64 * 1024:
            failures.append(f"agent RSS grew {rss_before} -> {rss_after} KiB over the storm")
        if len(pending) > 1:
            failures.append(
                f"BUG: `pending_stacks` holds {len(pending)} entries after the storm (max 256):"
                " loop_tracker.bpf.c never deletes a thread's entry when it exits")
        lates = [st for st in run.stalls if st["tid"] == late_tid]
        if len(lates) != 1:
            failures.append(f"late loop thread {late_tid}: {len(lates)} stalls")
        elif not lates[0]["syscalls"] or not lates[0]["syscalls"][0]["stack"]:
            failures.append(
                "BUG: the stall of a loop thread started after the storm has no stack"
                " (pending_stacks is full of dead threads' entries, so BPF cannot keep"
                f" one for it): {lstest.brief(lates[0])}")
        assert not failures, "\n".join(failures)


if __name__ == "__main__":
    lstest.main(test)
