# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What every Python victim shares: options, the heartbeat and the start protocol.

A victim runs an asyncio loop with a 10 ms heartbeat so the loop iterates
constantly (each iteration is one busy period for loopstall), prints `ready`
once the loop runs, starts its scenario after --delay-ms or, with
--wait-signal, on SIGUSR2 (Node reserves SIGUSR1, so the tests use SIGUSR2
everywhere), and exits 0 by itself --linger-ms after the scenario.
"""
import argparse
import asyncio
import os
import signal
import sys
import time

HEARTBEAT_S = 0.010


def parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--wait-signal", action="store_true",
                   help="start the scenario on SIGUSR2 instead of after --delay-ms")
    p.add_argument("--delay-ms", type=float, default=200.0)
    p.add_argument("--linger-ms", type=float, default=300.0)
    return p


def say(line):
    # Tests read stdout through a pipe: flush every line.
    print(line, flush=True)


def thread_account():
    """(monotonic ns, ns on the CPU, ns in the run queue) of the calling
    thread, the kernel's own account (/proc/thread-self/schedstat) that
    tests hold loopstall's split of a stall against."""
    with open("/proc/thread-self/schedstat") as f:
        on_cpu, runq = (int(x) for x in f.read().split()[:2])
    return time.monotonic_ns(), on_cpu, runq


async def heartbeat():
    while True:
        await asyncio.sleep(HEARTBEAT_S)


async def _main(args, name, scenario):
    loop = asyncio.get_running_loop()
    start = loop.create_future()

    def go():
        if not start.done():
            start.set_result(None)

    hb = asyncio.create_task(heartbeat())
    loop.add_signal_handler(signal.SIGUSR2, go)
    if not args.wait_signal:
        loop.call_later(args.delay_ms / 1000.0, go)
    say("ready")
    await start
    say(f"scenario {name} begin")
    a0 = thread_account()
    await scenario(args)
    a1 = thread_account()
    say(f"schedstat {name} wall_ms={(a1[0] - a0[0]) / 1e6:.1f}"
        f" on_cpu_ms={(a1[1] - a0[1]) / 1e6:.1f} runqueue_ms={(a1[2] - a0[2]) / 1e6:.1f}")
    say(f"scenario {name} end")
    await asyncio.sleep(args.linger_ms / 1000.0)
    hb.cancel()
    say("done")


def run(args, name, scenario, cleanup=None):
    """Runs `await scenario(args)` on the loop thread once started, then exits."""
    asyncio.run(_main(args, name, scenario))
    if cleanup:
        cleanup()
    sys.stdout.flush()
    # Skip the interpreter's teardown: it runs on the loop thread after its
    # last wait, so loopstall counts it as one more busy period, and on a
    # loaded machine it can pass the threshold and blur the scenario's result.
    os._exit(0)
