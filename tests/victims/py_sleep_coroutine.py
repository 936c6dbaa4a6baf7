#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Lecture Example 22.2, the wrong way: time.sleep() inside a coroutine.

The sleep blocks the loop thread in clock_nanosleep, so the heartbeat stops
for --seconds: loopstall must report one stall of that length with cause
blocking_syscall and clock_nanosleep as its first syscall.
"""
import time

import victim_common as vc


async def wrong_way(args):
    time.sleep(args.seconds)  # BLOCKS THE EVENT LOOP


def main():
    p = vc.parser(__doc__)
    p.add_argument("--seconds", type=float, default=1.0)
    vc.run(p.parse_args(), "sleep", wrong_way)


if __name__ == "__main__":
    main()
