#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The asyncio service loopstall_probe's tests run (under each CPython).

A heartbeat task awaits asyncio.sleep(0.01) forever; --scenario picks what
else runs, each marked in the source with a `# mark: NAME` comment so a test
can find the lines it expects the probe to name:
  sleep      a request handler task calls time.sleep(0.3) between two awaits
  batch      a batch job of --items items that yields every 1,000 items
  nobatch    the same job without the yield: one long step
  callsoon   a plain loop.call_soon callback that sleeps --ms
  raise      a callback that raises: prints what the loop's exception handler got
With --wait-signal the scenario runs on each SIGUSR2 (up to --rounds), else
once after --delay-ms. Prints `ready`, `scenario NAME done` and `done`.
"""
import argparse
import asyncio
import hashlib
import json
import os
import signal
import sys
import time


def say(line):
    print(line, flush=True)


async def heartbeat():
    while True:
        await asyncio.sleep(0.01)


async def handle_request(ms):
    await asyncio.sleep(0.005)  # mark: resume
    time.sleep(ms / 1000.0)  # mark: blocking
    await asyncio.sleep(0.005)  # mark: suspend
    return ms


def work(i):
    return hashlib.sha256(i.to_bytes(8, "little")).digest()[0]


async def batch_job(items, yield_every):
    total = 0
    for i in range(items):
        total += work(i)
        if yield_every and (i + 1) % yield_every == 0:
            await asyncio.sleep(0)  # mark: batch-yield
    return total


def failing_callback(done):
    done.set_result(None)
    raise ValueError("callback failed on purpose")


def slow_callback(ms, done):
    time.sleep(ms / 1000.0)  # mark: callsoon
    done.set_result(None)


async def scenario(args):
    loop = asyncio.get_running_loop()
    if args.scenario == "sleep":
        await asyncio.create_task(handle_request(args.ms), name="request-handler")
    elif args.scenario in ("batch", "nobatch"):
        every = 1000 if args.scenario == "batch" else 0
        await asyncio.create_task(batch_job(args.items, every), name="batch-job")
    elif args.scenario == "callsoon":
        done = loop.create_future()
        loop.call_soon(slow_callback, args.ms, done)
        await done
    elif args.scenario == "raise":
        def handler(loop, ctx):
            exc = ctx.get("exception")
            say(f"exception handler: {ctx['message']} | {type(exc).__name__}: {exc}"
                f" | traceback {exc.__traceback__ is not None}"
                f" | handle {type(ctx.get('handle')).__name__}"
                f" | exc_info {sys.exc_info()[1] is exc}")
        loop.set_exception_handler(handler)
        done = loop.create_future()
        loop.call_soon(failing_callback, done)
        await done
        await asyncio.sleep(0.01)


async def main(args):
    loop = asyncio.get_running_loop()
    go = asyncio.Queue()
    hb = asyncio.create_task(heartbeat(), name="heartbeat")
    if args.wait_signal:
        loop.add_signal_handler(signal.SIGUSR2, go.put_nowait, 1)
    else:
        loop.call_later(args.delay_ms / 1000.0, go.put_nowait, 1)
    say("ready")
    for _ in range(args.rounds):
        await go.get()
        await scenario(args)
        say(f"scenario {args.scenario} done")
        if not args.wait_signal:
            break
    await asyncio.sleep(args.linger_ms / 1000.0)
    hb.cancel()
    dump()
    say("done")


def dump():
    """$PYPROBE_DUMP: what the probe (when it runs) has seen, for the tests."""
    path = os.environ.get("PYPROBE_DUMP")
    probe = sys.modules.get("loopstall_probe")
    if path and probe:
        with open(path, "w") as f:
            json.dump({"stats": probe.stats(), "recent": probe.recent(),
                       "region": probe.region_path()}, f)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--scenario", choices=("sleep", "batch", "nobatch", "callsoon", "raise"),
                   default="sleep")
    p.add_argument("--ms", type=float, default=300.0)
    p.add_argument("--items", type=int, default=600000)
    p.add_argument("--wait-signal", action="store_true")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--delay-ms", type=float, default=200.0)
    p.add_argument("--linger-ms", type=float, default=200.0)
    asyncio.run(main(p.parse_args()))
