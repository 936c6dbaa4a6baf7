#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What loopstall_probe costs an asyncio program (prints numbers; not a test).

    tests/bench/pyprobe_bench.py [--build build] [--python /usr/bin/python3.11]
                                 [--rounds 5] [--seconds 3] [--clients 50]

1. ns per callback and per Task step (the loop thread's CPU time), each in a
   fresh interpreter: a chain of 200,000 loop.call_soon callbacks, and a
   task awaiting asyncio.sleep(0) 200,000 times; best of 5 runs in each of 3
   interpreters per mode, the modes interleaved. Modes: nothing; the probe; a C profile function
   that does nothing (PyEval_SetProfile, the floor of the other design).
2. An asyncio streams TCP echo server (start_server, read/write/drain) on
   127.0.0.1 against --clients connections doing ping-pong of 32-byte
   messages, --seconds per run. Side by side: each run starts two servers
   pinned to CPU 0, one unprobed and one in the mode measured (unprobed
   again: the A/A noise floor; `-m loopstall_probe`; asyncio debug mode,
   PYTHONASYNCIODEBUG=1), each driven by its own client process on the last
   CPU, so both see the same machine at the same moment. Ratio: the mode's
   round trips over its twin's, median over rounds; the modes' order rotates
   each round.
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

MICRO = r'''
import asyncio, sys, time
mode, n = sys.argv[1], int(sys.argv[2])
if mode == "probe":
    import loopstall_probe
    assert loopstall_probe.install()
elif mode == "profile":
    import loopstall_probe._probe as p

def chain(loop, n):
    fut = loop.create_future()
    left = [n]
    def cb():
        left[0] -= 1
        if left[0]:
            loop.call_soon(cb)
        else:
            fut.set_result(None)
    loop.call_soon(cb)
    return fut

async def steps(n):
    for _ in range(n):
        await asyncio.sleep(0)

async def main():
    loop = asyncio.get_running_loop()
    if mode == "profile":
        p._profile_floor(True)
    best_cb = best_step = float("inf")
    for _ in range(5):
        t = time.thread_time_ns(); await chain(loop, n)
        best_cb = min(best_cb, (time.thread_time_ns() - t) / n)
        t = time.thread_time_ns(); await asyncio.create_task(steps(n))
        best_step = min(best_step, (time.thread_time_ns() - t) / n)
    print(best_cb, best_step)

asyncio.run(main())
'''

SERVER = r'''
import asyncio, sys
async def echo(reader, writer):
    try:
        while True:
            data = await reader.read(4096)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    writer.close()

async def main():
    srv = await asyncio.start_server(echo, "127.0.0.1", 0, backlog=1024)
    print(srv.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
'''

CLIENT = r'''
import asyncio, sys, time
port, clients, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
MSG = b"x" * 32

class Ping(asyncio.Protocol):
    def __init__(self, stop, counts):
        self.stop, self.counts, self.buf = stop, counts, 0
    def connection_made(self, t):
        self.t = t
        t.write(MSG)
    def data_received(self, data):
        self.buf += len(data)
        while self.buf >= len(MSG):
            self.buf -= len(MSG)
            self.counts[0] += 1
            if not self.stop[0]:
                self.t.write(MSG)

async def main():
    loop = asyncio.get_running_loop()
    stop, counts = [False], [0]
    conns = [await loop.create_connection(lambda: Ping(stop, counts), "127.0.0.1", port)
             for _ in range(clients)]
    await asyncio.sleep(0.5)  # warm up
    c0, t0 = counts[0], time.perf_counter()
    await asyncio.sleep(seconds)
    c1, t1 = counts[0], time.perf_counter()
    stop[0] = True
    for t, _ in conns:
        t.close()
    print((c1 - c0) / (t1 - t0))

asyncio.run(main())
'''


def package_dir(build, python):
    real = os.path.realpath(python)
    with open(os.path.join(build, "libprobe/python/interpreters.txt")) as f:
        for line in f:
            interp, _, pkg = line.rstrip("\n").partition("\t")
            if interp == real:
                return pkg
    sys.exit(f"pyprobe_bench: no loopstall_probe built for {real} in {build}")


def micro(python, env):
    print("1. per callback and per Task step (thread CPU time, best of 15 runs of 200,000)")
    res = {}
    for _ in range(3):
        for mode in ("off", "probe", "profile"):
            out = subprocess.run([python, "-c", MICRO, mode, "200000"], env=env, check=True,
                                 capture_output=True, text=True).stdout.split()
            got = tuple(float(x) for x in out)
            old = res.get(mode, (float("inf"), float("inf")))
            res[mode] = (min(old[0], got[0]), min(old[1], got[1]))
    print(f"   {'':28} {'ns/callback':>12} {'added':>8} {'ns/step':>10} {'added':>8}")
    for mode, label in (("off", "nothing"), ("probe", "loopstall_probe"),
                        ("profile", "no-op C profile function")):
        cb, st = res[mode]
        print(f"   {label:28} {cb:12.0f} {cb - res['off'][0]:+8.0f} {st:10.0f}"
              f" {st - res['off'][1]:+8.0f}")


def pin(cpu):
    return lambda: os.sched_setaffinity(0, {cpu})


def start_server(python, env, mode):
    """An echo server pinned to CPU 0; returns (Popen, port)."""
    argv = [python, "-c", SERVER]
    senv = dict(env)
    if mode == "probe":
        argv = [python, "-m", "loopstall_probe", os.path.join(env["BENCH_TMP"], "echo_server.py")]
    elif mode == "debug":
        senv["PYTHONASYNCIODEBUG"] = "1"
    srv = subprocess.Popen(argv, env=senv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True, preexec_fn=pin(0))
    return srv, int(srv.stdout.readline())


def paired_round(python, env, mode, clients, seconds, last_cpu):
    """An unprobed server and one in mode, at the same time on the same CPU, each with its
    own client: (unprobed rate, mode's rate)."""
    servers = [start_server(python, env, "off"), start_server(python, env, mode)]
    try:
        cl = [subprocess.Popen([python, "-c", CLIENT, str(port), str(clients), str(seconds)],
                               env=env, stdout=subprocess.PIPE, text=True,
                               preexec_fn=pin(last_cpu)) for _, port in servers]
        rates = [float(c.communicate()[0]) for c in cl]
    finally:
        for srv, _ in servers:
            srv.kill()
            srv.wait()
    return rates


def echo(python, env, rounds, seconds, clients):
    print(f"2. asyncio TCP echo server, {clients} clients x 32-byte ping-pong, {seconds} s a run,"
          f" {rounds} rounds; each run is two servers side by side on CPU 0 (one unprobed),"
          f" each with its own client on CPU {max(os.sched_getaffinity(0))}")
    last_cpu = max(os.sched_getaffinity(0))
    modes = [("off", "nothing (A/A)"), ("probe", "loopstall_probe"),
             ("debug", "asyncio debug mode")]
    ratios = {m: [] for m, _ in modes}
    rates = {m: [] for m, _ in modes}
    for r in range(rounds):
        line = []
        for m, _ in modes[r % 3:] + modes[:r % 3]:
            base, got = paired_round(python, env, m, clients, seconds, last_cpu)
            ratios[m].append(got / base)
            rates[m].append((base, got))
            line.append(f"{m} {got:7.0f}/{base:7.0f}")
        print(f"   round {r + 1}: " + "  ".join(line))
    for m, label in modes:
        rr = ratios[m]
        print(f"   {label:20} ratio to its unprobed twin: median {statistics.median(rr):.3f}"
              f" (rounds {min(rr):.3f}..{max(rr):.3f}),"
              f" median {statistics.median(g for _, g in rates[m]):.0f} round trips/s")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--python", default="/usr/bin/python3.11")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--sections", default="micro,echo")
    a = ap.parse_args()
    pkg = package_dir(a.build, a.python)
    tmp = os.path.join("/tmp", f"pyprobe-bench-{os.getpid()}")
    os.makedirs(tmp, exist_ok=True)
    with open(os.path.join(tmp, "echo_server.py"), "w") as f:
        f.write(SERVER)
    env = {**os.environ, "PYTHONPATH": pkg, "BENCH_TMP": tmp}
    print(f"{a.python} ({os.path.realpath(a.python)}), loopstall_probe from {pkg}")
    if "micro" in a.sections:
        micro(a.python, env)
    if "echo" in a.sections:
        echo(a.python, env, a.rounds, a.seconds, a.clients)


if __name__ == "__main__":
    main()
