#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The loop thread is starved by other processes on its CPU.

The loop thread is pinned to one CPU. Its scenario forks --hogs busy child
processes pinned to the same CPU for --ms, then runs a short CPU burst of
--spin-ms measured in wall time. A burst that had the CPU to itself would
finish in --spin-ms of CPU time; sharing the CPU with the hogs, the loop
thread is runnable but waiting in the run queue for most of that wall time,
so that busy period is dominated by run-queue wait: loopstall must report a
stall with cause preempted. The thread's own schedstat from before the forks
to the end of the burst is printed (`schedstat burst ...` on stdout) for the
test to hold runqueue_ms against.
"""
import asyncio
import os
import sys
import time

import victim_common as vc


def schedstat():
    # /proc/thread-self/schedstat: on-CPU ns, run-queue wait ns, timeslices
    with open("/proc/thread-self/schedstat") as f:
        on_cpu, runq, _ = (int(x) for x in f.read().split())
    return on_cpu, runq


def spin(seconds):
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return n


def start_hog(cpu, seconds):
    pid = os.fork()
    if pid == 0:
        # Child: never return into the parent's event loop.
        try:
            os.sched_setaffinity(0, {cpu})
            spin(seconds)
        finally:
            os._exit(0)
    return pid


async def starve(args):
    # measured from before the forks: the busy period holds them too, and the
    # loop thread may already wait for the CPU behind the first hog
    on0, rq0 = schedstat()
    t0 = time.monotonic()
    hogs = [start_hog(args.cpu, args.ms / 1000.0) for _ in range(args.hogs)]
    spin(args.spin_ms / 1000.0)
    wall = time.monotonic() - t0
    on1, rq1 = schedstat()
    print(f"burst: wall {wall * 1e3:.1f} ms, on-CPU {(on1 - on0) / 1e6:.1f} ms, "
          f"run-queue {(rq1 - rq0) / 1e6:.1f} ms", file=sys.stderr, flush=True)
    vc.say(f"schedstat burst wall_ms={wall * 1e3:.1f} on_cpu_ms={(on1 - on0) / 1e6:.1f}"
           f" runqueue_ms={(rq1 - rq0) / 1e6:.1f}")
    # Reap the hogs without blocking the loop.
    while hogs:
        for pid in list(hogs):
            if os.waitpid(pid, os.WNOHANG)[0]:
                hogs.remove(pid)
        if hogs:
            await asyncio.sleep(0.02)


def main():
    p = vc.parser(__doc__)
    p.add_argument("--ms", type=float, default=300.0, help="how long the hogs run")
    p.add_argument("--hogs", type=int, default=3)
    p.add_argument("--spin-ms", type=float, default=150.0)
    args = p.parse_args()
    # Pin the (only) thread, the loop thread, to the last CPU it may use.
    args.cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {args.cpu})
    vc.run(args, "preempted", starve)


if __name__ == "__main__":
    main()
