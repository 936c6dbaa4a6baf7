#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The agent hooks only the wait calls its target's loops use (every hooked
call costs every process on the machine that makes it), and hooks another
one as soon as a loop of the target waits in it.

An asyncio loop waits in epoll_wait: once attached, epoll_wait alone is
hooked. Then a thread starts a loop that waits in poll and stalls five
times for 0.3 s: poll is hooked, and the five stalls are reported on that
thread; the same when that thread was a loop in epoll_wait before it moved
to poll. When the target is gone, nothing stays hooked. With --all-waits,
every call stays hooked while there is a target."""
import signal

import lstest

ALL = "epoll_wait,epoll_pwait,epoll_pwait2,poll,ppoll,select,pselect6,io_uring_enter"


def test_follows_new_wait_call(extra=()):
    with lstest.Session() as s:
        lstest.require_root()
        target = s.start(lstest.victim("py_poll_thread.py") + ["--wait-signal", *extra])
        rec = s.record(["-p", str(target.pid)], ["-v", "--threshold", "150ms"])
        got = rec.wait_line("stderr", lambda l: l == "loopstall: wait calls hooked: epoll_wait", 15)
        assert got, ("the recorder ended before it hooked epoll_wait alone: "
                     f"{lstest.hooked_lines(rec)}")
        target.signal(signal.SIGUSR2)
        assert target.wait(60) == 0, target.text("stderr")
        run = s.finish(rec, target)
        lstest.show(run)
        lstest.check_records(run)
        got = target.wait_line("stdout", lambda l: l.startswith("poll thread "), 1)
        assert got, f"the victim never said which thread polls:\n{target.text('stdout')}"
        tid = int(got[1].split()[2])
        assert "epoll_wait,poll" in lstest.hooked_lines(rec), (
            f"poll never hooked; hooked: {lstest.hooked_lines(rec)}")
        hooked = lstest.hooked_lines(rec)
        assert hooked[-1] == "none", f"left hooked: {hooked}"
        stalls = [x for x in run.stalls if x["tid"] == tid]
        assert len(stalls) == 5, (
            f"{len(stalls)} stalls on the poll thread {tid}, expected 5: "
            + "; ".join(lstest.brief(x) for x in run.stalls))
        for x in stalls:
            lstest.assert_close(x["duration_ms"], 300, 0.2, "stall of the poll loop")
            assert x["syscalls"][0]["name"] == "clock_nanosleep", lstest.brief(x)
        others = [x for x in run.stalls if x["tid"] != tid]
        assert not others, "stalls elsewhere: " + "; ".join(lstest.brief(x) for x in others)


def test_all_waits():
    with lstest.Session() as s:
        lstest.require_root()
        target = s.start(lstest.victim("py_poll_thread.py") + ["--wait-signal"])
        rec = s.record(["-p", str(target.pid)], ["-v", "--all-waits"])
        got = rec.wait_line("stderr", lambda l: l == f"loopstall: wait calls hooked: {ALL}", 15)
        assert got, ("the recorder ended before it hooked every wait call: "
                     f"{lstest.hooked_lines(rec)}")
        target.signal(signal.SIGUSR2)
        assert target.wait(60) == 0, target.text("stderr")
        s.finish(rec, target)
        # every call from the start until the target is gone, then none
        assert lstest.hooked_lines(rec) == [ALL, "none"], f"hooked: {lstest.hooked_lines(rec)}"


def test():
    test_follows_new_wait_call()
    test_follows_new_wait_call(["--epoll-first"])
    test_all_waits()


if __name__ == "__main__":
    lstest.main(test)
