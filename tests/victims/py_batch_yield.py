#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Lecture Example 22.3: a long batch job that yields with asyncio.sleep(0).

About --seconds of CPU work split into batches of --batch items, each a few
milliseconds, with a yield to the loop between batches: the loop keeps
iterating, so no busy period comes near the 50 ms threshold. The false
positive check: loopstall must report no stall.
"""
import asyncio
import hashlib
import sys
import time

import victim_common as vc


def process(item):
    return hashlib.sha256(item.to_bytes(8, "little")).digest()[0] * 2


async def long_batch_processor(args):
    deadline = time.perf_counter() + args.seconds
    # A running checksum, not a list of results: freeing a list of millions of
    # items would itself hold the loop for tens of milliseconds.
    checksum = 0
    index = 0
    longest = 0.0
    batch_start = time.perf_counter()
    while True:
        checksum += process(index)
        index += 1
        if index % args.batch == 0:
            now = time.perf_counter()
            longest = max(longest, now - batch_start)
            if now >= deadline:
                break
            await asyncio.sleep(0)  # yield to the event loop
            batch_start = time.perf_counter()
    print(f"processed {index} items (checksum {checksum}),"
          f" longest batch {longest * 1000:.1f} ms",
          file=sys.stderr, flush=True)


def main():
    p = vc.parser(__doc__)
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=1000)
    vc.run(p.parse_args(), "batch", long_batch_processor)


if __name__ == "__main__":
    main()
