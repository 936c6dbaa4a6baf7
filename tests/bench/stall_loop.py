#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""An asyncio loop that stalls once per SIGUSR2, for stall_cost.py.

  stall_loop.py --kind cpu|sleep [--ms 300]

KIND cpu: a pure-Python loop computes for --ms without awaiting (the agent
samples it ~1 kHz); sleep: time.sleep(--ms) on the loop thread (one
blocking call). A 10 ms heartbeat keeps the loop iterating between stalls.
Prints `ready`, then `stall N end` after each stall.
"""
import argparse
import asyncio
import signal
import time


def crunch(seconds):
    end = time.monotonic() + seconds
    total = 0
    while True:
        for i in range(2000):
            total += i * i
        if time.monotonic() >= end:
            return total


async def heartbeat():
    while True:
        await asyncio.sleep(0.010)


async def main(args):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    count = 0

    def stall():
        nonlocal count
        if args.kind == "cpu":
            crunch(args.ms / 1000.0)
        else:
            time.sleep(args.ms / 1000.0)
        count += 1
        print(f"stall {count} end", flush=True)

    loop.add_signal_handler(signal.SIGUSR2, stall)
    loop.add_signal_handler(signal.SIGTERM, lambda: stop.done() or stop.set_result(None))
    hb = asyncio.create_task(heartbeat())
    print("ready", flush=True)
    await stop
    hb.cancel()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--kind", choices=("cpu", "sleep"), default="cpu")
    p.add_argument("--ms", type=float, default=300.0)
    asyncio.run(main(p.parse_args()))
