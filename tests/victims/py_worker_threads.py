#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Threads that run no loop beside an asyncio loop, and two that start one late.

From the start the process has four workers that wake every 2 ms (no loop:
they sleep in clock_nanosleep), two threads parked on an Event, and an
"idle loop thread": an asyncio loop with nothing to do, blocked in
epoll_wait. loopstall follows a thread's context switches only while that
can matter: once the workers and the parked threads have been known for a
while without running a loop, their context-switch events are closed; the
idle loop keeps its event. On the scenario's start, long after that, the
idle loop is handed a callback that blocks in time.sleep(--seconds) (its
first callback since loopstall came must be seen whole), and the two parked
threads start loops:
 - "asyncio thread": an asyncio loop (epoll_wait, a call already hooked for
   the main loop) that blocks in time.sleep(--seconds) after twenty 10 ms
   iterations, --stalls times;
 - "poll thread": a loop in poll(2) (select.poll, 20 ms timeouts), a call no
   loop used before, that blocks the same way after ten iterations, --stalls
   times plus three (the agent finds that call by reading /proc, which may
   take it a second or so).
"""
import asyncio
import select
import threading
import time

import victim_common as vc

stop = threading.Event()
go = threading.Event()


def worker():
    while not stop.is_set():
        time.sleep(0.002)


def asyncio_thread(args):
    async def iterations():
        for _ in range(args.stalls):
            for _ in range(20):
                await asyncio.sleep(0.01)
            time.sleep(args.seconds)  # blocks this thread's loop
        await asyncio.sleep(0.01)

    go.wait()
    asyncio.run(iterations())


def poll_thread(args):
    go.wait()
    p = select.poll()
    for _ in range(args.stalls + 3):
        for _ in range(10):
            p.poll(20)
        time.sleep(args.seconds)  # blocks the poll loop
    p.poll(20)


def idle_loop_thread(loop):
    asyncio.set_event_loop(loop)
    loop.run_forever()


async def scenario(args):
    idle_loop.call_soon_threadsafe(time.sleep, args.seconds)  # blocks the idle loop
    go.set()
    await asyncio.get_running_loop().run_in_executor(None, late[0].join)
    await asyncio.get_running_loop().run_in_executor(None, late[1].join)
    idle_loop.call_soon_threadsafe(idle_loop.stop)
    stop.set()


def main():
    p = vc.parser(__doc__)
    p.add_argument("--stalls", type=int, default=3)
    p.add_argument("--seconds", type=float, default=0.3)
    args = p.parse_args()
    workers = [threading.Thread(target=worker, daemon=True) for _ in range(4)]
    for t in workers:
        t.start()
    late.append(threading.Thread(target=asyncio_thread, args=(args,), daemon=True))
    late.append(threading.Thread(target=poll_thread, args=(args,), daemon=True))
    for t in late:
        t.start()
    idle = threading.Thread(target=idle_loop_thread, args=(idle_loop,), daemon=True)
    idle.start()
    vc.say("workers " + ",".join(str(t.native_id) for t in workers))
    vc.say(f"idle loop thread {idle.native_id}")
    vc.say(f"asyncio thread {late[0].native_id}")
    vc.say(f"poll thread {late[1].native_id}")
    vc.run(args, "worker_threads", scenario)


late = []
idle_loop = asyncio.new_event_loop()

if __name__ == "__main__":
    main()
