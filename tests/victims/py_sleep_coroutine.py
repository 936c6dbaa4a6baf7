#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Lecture Example 22.2, the wrong way: time.sleep() inside a coroutine.

The sleep blocks the loop thread in clock_nanosleep, so the heartbeat stops
for --seconds: loopstall must report one stall of that length with cause
blocking_syscall and clock_nanosleep as its first syscall. With
--callback the sleep is a plain callback instead (loop.call_soon(time.sleep,
...)): no coroutine, no Task on the stack, only asyncio's Handle._run.
"""
import asyncio
import time

import victim_common as vc


async def wrong_way(args):
    time.sleep(args.seconds)  # BLOCKS THE EVENT LOOP


async def in_callback(args):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.call_soon(time.sleep, args.seconds)  # BLOCKS THE EVENT LOOP
    loop.call_soon(done.set_result, None)
    await done


def main():
    p = vc.parser(__doc__)
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--callback", action="store_true")
    args = p.parse_args()
    vc.run(args, "sleep", in_callback if args.callback else wrong_way)


if __name__ == "__main__":
    main()
