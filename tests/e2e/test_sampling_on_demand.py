#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A loop thread's CPU-sampling event (task-clock) is open only while one of
its busy periods runs long: none while the demo service's loop idles, one
during its 500 ms CPU-bound callback (which gets its CPU samples), none again
once the loop idles. A perf event on a thread, even a disabled one, makes
each of its context switches dearer: kept open, it costs a loop that wakes
on every request at every iteration (tests/bench section 1c).

The recorder's sampling events are told from its other perf events by the
fdinfo of their BPF links (link_type perf, a software event with config 1,
PERF_COUNT_SW_TASK_CLOCK; context switches are config 3).
"""
import os
import re
import signal
import threading
import time

import lstest

TASK_CLOCK = "1"
CONTEXT_SWITCHES = "3"


def perf_links(pid):
    """Configs of the perf-event BPF links `pid` holds; None once it is gone."""
    configs = []
    try:
        fds = os.listdir(f"/proc/{pid}/fdinfo")
    except OSError:
        return None
    for fd in fds:
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                info = f.read()
        except OSError:
            continue
        if not re.search(r"^link_type:\s+perf$", info, re.M):
            continue
        if not re.search(r"^event_type:\s+event$", info, re.M):
            continue
        m = re.search(r"^config:\s+(\d+)$", info, re.M)
        if m:
            configs.append(m.group(1))
    return configs


def test():
    with lstest.Session() as s:
        target = s.start([lstest.demo_service(), "--wait-signal", "--scenarios", "cpu",
                          "--cpu-ms", "500", "--linger-ms", "600"])
        rec = s.record(["-p", str(target.pid)])
        recording = lstest.now_ns()
        seen = []  # (time_ns, sampling links, switch links)
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                configs = perf_links(rec.pid)
                if configs is None:
                    return
                seen.append((lstest.now_ns(), configs.count(TASK_CLOCK),
                             configs.count(CONTEXT_SWITCHES)))
                time.sleep(0.005)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        # the idle loop (its heartbeat) makes the thread a known loop thread meanwhile
        time.sleep(0.8)
        signalled = lstest.now_ns()
        target.signal(signal.SIGUSR2)
        rc = target.wait(60)
        assert rc == 0, f"demo service exited with {rc}:\n{target.text('stderr')}"
        exited = lstest.now_ns()
        run = s.finish(rec, target, timeout=20)
        stop.set()
        watcher.join(5)
        lstest.show(run)
        lstest.check_records(run)

        begin, end = run.scenario_window("cpu")
        ms = 1_000_000
        # the fdinfo is read as expected: the loop thread's switches are followed
        assert any(sw for _, _, sw in seen), (
            f"no context-switch perf link seen in the recorder's fdinfo ({len(seen)} reads)")
        idle_before = [n for t, n, _ in seen if recording + 300 * ms <= t <= signalled]
        busy = [n for t, n, _ in seen if begin + 100 * ms <= t <= end - 50 * ms]
        idle_after = [n for t, n, _ in seen if end + 200 * ms <= t <= exited - 50 * ms]
        print(f"  sampling links: idle before {sorted(set(idle_before))} ({len(idle_before)} reads),"
              f" busy {sorted(set(busy))} ({len(busy)}), idle after {sorted(set(idle_after))}"
              f" ({len(idle_after)})")
        assert idle_before and busy and idle_after, "too few fdinfo reads in a window"
        assert max(idle_before) == 0, "a sampling event was open while the loop idled"
        assert max(busy) == 1, (
            f"expected the loop thread's sampling event open during its 500 ms callback,"
            f" saw {sorted(set(busy))}")
        assert max(idle_after) == 0, "the sampling event stayed open after the long busy period"

        stalls = run.stalls_in((begin, end))
        assert len(stalls) == 1, (
            "expected one stall in the scenario, got:\n"
            + "\n".join(lstest.brief(x) for x in run.stalls))
        assert stalls[0]["cpu_samples"] >= 100, (
            f"cpu_samples = {stalls[0]['cpu_samples']} for a 500 ms CPU-bound callback")


if __name__ == "__main__":
    lstest.main(test)
