#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A service whose stall is in the user's own Python code, for the Python frame tests.

Scenario `sleep`: handler() awaits fetch_user(), which blocks the loop in
time.sleep(--seconds). Scenario `cpu`: handler_cpu() runs crunch(), a pure
Python loop, for --seconds without awaiting. Scenario `naps`: 2 ms sleeps
for --seconds without awaiting (one stall of many blocks). Scenario `named`:
`sleep` in a Task of its own, created with name="fetch-7". Scenario `two`:
Tasks "first" and "second" step in one busy period; each calls fetch_user,
"first" for --seconds / 2, then "second" for --seconds. The lines the tests look for
carry a `# mark:` comment; the tests find them by it, so edits stay safe.
"""
import asyncio
import time

import victim_common as vc


async def fetch_user(seconds):
    time.sleep(seconds)  # mark: sleep
    return {"id": 1}


async def handler(args):
    return await fetch_user(args.seconds)  # mark: await


def crunch(seconds):
    end = time.monotonic() + seconds
    total = 0
    while True:  # mark: crunch-first
        for i in range(2000):
            total += i * i
        if time.monotonic() >= end:
            break  # mark: crunch-last
    return total


async def handler_cpu(args):
    return crunch(args.seconds)  # mark: crunch-call


async def handler_naps(args):
    # many short blocks in one busy period: each one's stack is read (benchmarks)
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        time.sleep(0.002)


async def handler_named(args):
    # the loop steps this Task, not the scenario's: the stall is in "fetch-7"
    return await asyncio.create_task(handler(args), name="fetch-7")


async def handler_two(args):
    # both first steps are ready at once: the loop runs them in one busy period
    first = asyncio.create_task(fetch_user(args.seconds / 2), name="first")
    second = asyncio.create_task(fetch_user(args.seconds), name="second")
    await asyncio.gather(first, second)


def main():
    p = vc.parser(__doc__)
    p.add_argument("--scenario", choices=("sleep", "cpu", "naps", "named", "two"), default="sleep")
    p.add_argument("--seconds", type=float, default=0.3)
    args = p.parse_args()
    scenarios = {"sleep": handler, "cpu": handler_cpu, "naps": handler_naps,
                 "named": handler_named, "two": handler_two}
    vc.run(args, args.scenario, scenarios[args.scenario])


if __name__ == "__main__":
    main()
