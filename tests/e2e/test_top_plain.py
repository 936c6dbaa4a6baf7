#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""`loopstall top -p` with stdout not a terminal (one line per second),
against a Python asyncio process that stalls 400 ms in time.sleep right
after top attached and exits 300 ms after the stall: the process is gone
before top's next once-a-second line. top must still print the stall (it
takes what the agent still had on its way, as `record` does, before it
ends) and exit 0 saying the pid exited. Five runs: the stall's stacks are
symbolized on the agent's own thread, which can take longer than what is
left of the target's life. Then the same against an idle asyncio program
(no timer: its loop sleeps in epoll_wait until the signal, so top has no
loop thread to show until the stall ends), as the bug was first seen.
"""
import re
import signal

import lstest

RUNS = 5
IDLE = r"""
import asyncio, signal, time
async def main():
    go = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR2, go.set)
    print("ready", flush=True)
    await go.wait()
    time.sleep(0.4)
    await asyncio.sleep(0.3)
asyncio.run(main())
"""


def one_run(s, n, idle=False):
    if idle:
        target = s.start([lstest.PYTHON, "-c", IDLE], name="idle asyncio")
    else:
        target = s.start(lstest.victim("py_sleep_coroutine.py")
                         + ["--wait-signal", "--seconds", "0.4", "--linger-ms", "300"])
    top = lstest.Proc([lstest.loopstall(), "top", "-p", str(target.pid)], "loopstall top")
    s.procs.append(top)
    got = top.wait_line("stdout", lambda l: re.match(r"\d+\.\d\d s  ", l), 30)
    if not got:
        lstest.check_bpf_refused(top, top.wait(10))
        raise AssertionError(f"top printed nothing:\n{top.text('stderr')}")
    target.signal(signal.SIGUSR2)
    assert target.wait(20) == 0, target.text("stderr")
    rc = top.wait(10)
    out = top.text("stdout")
    assert rc == 0, f"run {n}: top exited {rc}:\n{out}\n{top.text('stderr')}"
    assert f"pid {target.pid} exited" in top.text("stderr"), top.text("stderr")
    stalls = re.findall(r"stall ([\d.]+) ms (\w+) on tid (\d+)", out)
    print(f"  run {n}: {stalls}")
    assert len(stalls) == 1, f"run {n}: expected the 400 ms stall, top printed:\n{out}"
    ms, cause, tid = float(stalls[0][0]), stalls[0][1], int(stalls[0][2])
    assert cause == "blocking_syscall" and tid == target.pid, f"run {n}:\n{out}"
    lstest.assert_close(ms, 400, 0.1, f"run {n}: stall printed by top (ms)")


def test():
    lstest.require_root()
    for n in range(RUNS):
        with lstest.Session() as s:
            one_run(s, n)
    for n in range(2):
        with lstest.Session() as s:
            one_run(s, f"idle {n}", idle=True)


if __name__ == "__main__":
    lstest.main(test)
