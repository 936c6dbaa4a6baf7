#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A coroutine takes a threading.Lock that another thread holds.

A helper thread acquires the lock and holds it for --ms; once it does, a
coroutine on the loop thread calls lock.acquire(), which blocks the loop
thread in futex until the helper lets go. loopstall must report a stall with
cause lock_wait and a futex entry in its syscalls.
"""
import asyncio
import threading
import time

import victim_common as vc

lock = threading.Lock()


def holder(loop, held, ms):
    with lock:
        loop.call_soon_threadsafe(held.set_result, None)
        time.sleep(ms / 1000.0)


async def take_lock(args):
    loop = asyncio.get_running_loop()
    held = loop.create_future()
    t = threading.Thread(target=holder, args=(loop, held, args.ms), daemon=True)
    t.start()
    await held
    lock.acquire()  # blocks the loop thread until the holder releases
    lock.release()


def main():
    p = vc.parser(__doc__)
    p.add_argument("--ms", type=float, default=300.0)
    vc.run(p.parse_args(), "lock", take_lock)


if __name__ == "__main__":
    main()
