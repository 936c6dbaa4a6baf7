#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Lecture Example 22.2, the right way: the blocking sleep runs in an executor.

The loop thread only awaits a future and keeps iterating with the heartbeat
while a ThreadPoolExecutor worker sleeps; the worker never waits in
epoll/poll, so it is no loop thread. loopstall must report no stall.
"""
import asyncio
import concurrent.futures
import time

import victim_common as vc

executor = concurrent.futures.ThreadPoolExecutor(max_workers=2)


def blocking_operation(seconds):
    time.sleep(seconds)
    return f"Blocking result after {seconds}s"


async def right_way(args):
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(executor, blocking_operation, args.seconds)


def main():
    p = vc.parser(__doc__)
    p.add_argument("--seconds", type=float, default=1.0)
    vc.run(p.parse_args(), "executor", right_way,
           cleanup=lambda: executor.shutdown(wait=True))


if __name__ == "__main__":
    main()
