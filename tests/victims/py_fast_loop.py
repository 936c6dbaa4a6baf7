#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""An asyncio loop that wakes thousands of times a second, and its stalls.

A thread plays ping-pong with the loop through two pipes: the loop's reader
callback answers each byte it gets, so every iteration blocks in epoll_wait
and is woken by the thread. loopstall runs such a loop lean (its
context-switch event closed, agent/src/lean.h). The scenario's steps, in
--steps order, each on the next SIGUSR2, each printed as `scenario STEP
begin` and `scenario STEP end`:
 - "idle": the ping-pong stops for --idle-ms: the loop waits in
   epoll_wait with nothing to do, which is no stall;
 - "sleep": one callback blocks in time.sleep(--seconds);
 - "cpu": one callback computes for --seconds;
 - "sleeps": one callback sleeps --seconds in 15 steps.
After the last step the victim prints `done` and exits.
"""
import asyncio
import os
import signal
import threading
import time

import victim_common as vc

ping_r, ping_w = os.pipe()
pong_r, pong_w = os.pipe()
paused = threading.Event()
stopping = threading.Event()


def player():
    """The other side of the ping-pong: a byte out, wait for the answer."""
    while not stopping.is_set():
        if paused.is_set():
            time.sleep(0.001)
            continue
        os.write(ping_w, b"x")
        os.read(pong_r, 1)


def compute(seconds):
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return n


def sleeps(seconds):
    for _ in range(15):
        time.sleep(seconds / 15)


ACTIONS = {"sleep": time.sleep, "cpu": compute, "sleeps": sleeps}


async def main(args):
    loop = asyncio.get_running_loop()
    pending = []
    count = [0]

    def answer():
        os.read(ping_r, 1)
        count[0] += 1
        if pending:
            action, done = pending.pop()
            action()
            done.set_result(None)
        os.write(pong_w, b"y")

    loop.add_reader(ping_r, answer)
    go = asyncio.Queue()
    loop.add_signal_handler(signal.SIGUSR2, go.put_nowait, None)
    threading.Thread(target=player, daemon=True).start()
    vc.say("ready")
    for step in args.steps.split(","):
        await go.get()
        vc.say(f"scenario {step} begin")
        if step == "idle":
            paused.set()
            await asyncio.sleep(args.idle_ms / 1000)
            paused.clear()
        else:
            done = loop.create_future()
            pending.append((lambda s=step: ACTIONS[s](args.seconds), done))
            await done
        vc.say(f"scenario {step} end")
        vc.say(f"iterations {count[0]}")
    stopping.set()
    paused.set()
    vc.say("done")


def run():
    p = vc.parser(__doc__)
    p.add_argument("--steps", default="idle,sleep,cpu,sleeps")
    p.add_argument("--seconds", type=float, default=0.3)
    p.add_argument("--idle-ms", type=float, default=500)
    args = p.parse_args()
    asyncio.run(main(args))
    os._exit(0)


if __name__ == "__main__":
    run()
