#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A second loop that starts after loopstall attached, and waits in another call.

The asyncio loop waits in epoll_wait, so loopstall hooks that call alone. The
scenario starts a thread whose loop waits in poll(2) (select.poll, 20 ms
timeouts) and, --stalls times, blocks it in time.sleep(--seconds) after ten
iterations: loopstall must notice the new wait call, hook it, and report each
of those stalls on the new thread. With --epoll-first the thread first
loops in epoll_wait for ten iterations (a loop thread the agent knows),
closes that epoll fd (its loop is over) and then moves to poll.
"""
import asyncio
import select
import threading
import time

import victim_common as vc


def poll_loop(args):
    if args.epoll_first:
        ep = select.epoll()
        for _ in range(10):
            ep.poll(0.02)
        # that loop is over: a loop that ends closes its epoll fd
        ep.close()
    p = select.poll()
    for _ in range(args.stalls):
        for _ in range(10):
            p.poll(20)
        time.sleep(args.seconds)  # blocks the poll loop
    p.poll(20)


async def second_loop(args):
    t = threading.Thread(target=poll_loop, args=(args,), name="poll-loop")
    t.start()
    vc.say(f"poll thread {t.native_id}")
    await asyncio.get_running_loop().run_in_executor(None, t.join)


def main():
    p = vc.parser(__doc__)
    p.add_argument("--stalls", type=int, default=5)
    p.add_argument("--seconds", type=float, default=0.3)
    p.add_argument("--epoll-first", action="store_true")
    vc.run(p.parse_args(), "poll_thread", second_loop)


if __name__ == "__main__":
    main()
