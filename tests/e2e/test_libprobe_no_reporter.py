#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""libprobe starts no thread of its own unless something needs one.

An unmodified single-threaded libev program (tests/victims/libev_nofp.c)
under LD_PRELOAD=libprobe.so, without LPROBE_OUTPUT, must keep one thread
(a second would make glibc's read and write take their slower
multi-threaded path), and its loop must still be timed. Recorded with
`loopstall record -p`, its stall must still name the blocking callback,
on_tick: libprobe's region has only the address, and the agent names it.

Then bpftrace on libprobe's stall_begin probe: the probe's USDT semaphore
tells libprobe someone listens, so it starts its reporter thread (which
fires that probe) at the next loop iteration, and the probe fires during
the stall.
"""
import os
import shutil
import signal
import time

import lstest


def threads(pid):
    return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))


def wait_for(pred, timeout):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test():
    exe = lstest.env_path("VICTIM_LIBEV_NOFP")
    lstest.require_root()
    os.environ.pop("LPROBE_OUTPUT", None)
    argv = lstest.preloaded([exe, "--wait-signal", "--ms", "200"])
    with lstest.Session() as s:
        target = s.start(argv, "libev_nofp")
        # past the clock's first refits (20 and 80 ms), which the loop thread does itself
        time.sleep(0.3)
        assert threads(target.pid) == [target.pid], (
            f"libprobe started a thread with nothing asking for one: {threads(target.pid)}")
        rec = s.record(["-p", str(target.pid)])
        target.signal(signal.SIGUSR2)
        assert target.wait(30) == 0, target.text("stderr")
        run = s.finish(rec, target, timeout=20)
        lstest.show(run)
        lstest.check_records(run)
        stalls = run.stalls_in(run.scenario_window("sleep"))
        assert len(stalls) == 1, (
            "expected one stall in the scenario, got:\n"
            + "\n".join(lstest.brief(x) for x in run.stalls))
        cb = lstest.check_callback(stalls[0], "on_tick", "timer")
        assert cb["module"].endswith("libev_nofp"), cb
        print(f"  one thread; the agent named {cb['symbol']} ({cb['module']})")
        lp = run.thread(target.pid).get("libprobe")
        assert lp and lp["iterations"] > 0 and lp["stalls"] >= 1, lp

    bpftrace = shutil.which("bpftrace")
    if not bpftrace:
        assert not lstest.IN_CI, "bpftrace is not installed (CI=true: .ci/install-deps has it)"
        print("  bpftrace not installed: the stall_begin part is skipped")
        return
    with lstest.Session() as s:
        target = s.start(argv, "libev_nofp")
        assert threads(target.pid) == [target.pid], threads(target.pid)
        probe = f"usdt:{lstest.libprobe()}:lprobe:stall_begin"
        bt = lstest.Proc([bpftrace, "-p", str(target.pid), "-e",
                          probe + ' { printf("stall_begin tid=%d\\n", arg0); }'], "bpftrace")
        s.procs.append(bt)
        assert bt.wait_line("stdout", lambda l: l.startswith("Attaching"), 30), (
            f"bpftrace did not attach: {bt.text('stderr')}")
        # the loop iterates every 10 ms (its heartbeat): it sees the semaphore at once
        assert wait_for(lambda: len(threads(target.pid)) == 2, 5), (
            f"no reporter thread with a tracer on stall_begin: {threads(target.pid)}")
        target.signal(signal.SIGUSR2)
        got = bt.wait_line("stdout", lambda l: l.startswith("stall_begin"), 10)
        assert got, f"stall_begin did not fire; bpftrace: {bt.text('stdout')} {bt.text('stderr')}"
        assert got[1] == f"stall_begin tid={target.pid}", got
        assert target.wait(30) == 0, target.text("stderr")
        bt.signal(signal.SIGINT)
        bt.wait(10)
        print(f"  with bpftrace on stall_begin: reporter thread started, {got[1]}")


if __name__ == "__main__":
    lstest.main(test)
