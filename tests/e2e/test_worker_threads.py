#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A thread that runs no loop stops paying for loopstall's context-switch event.

A context-switch perf event makes every switch of its thread dearer, and a
worker that wakes the loop on each request made the loop pay for two. The
agent follows every thread of its target from the start (a loop may block on
its very first iteration), and closes the event of each thread that is
neither a loop thread nor the main thread once it has been known for two
seconds (thread_events.h). Checked from outside: the recorder's perf event
file descriptors, which are the hooked wait calls' tracepoints plus one per
followed thread, come down to the hooked calls plus the two loop threads
(main's, and an idle loop's: a thread blocked in a loop's wait call keeps
its event).

Those threads can still start loops later, and their stalls must be as
complete as any: the idle loop's first callback in a while blocks in a
sleep, named as clock_nanosleep; a thread that starts an asyncio loop
(epoll_wait, hooked already) gets its event back at its first iteration,
so its sleeps are named as clock_nanosleep; a thread that starts a loop in
poll(2), a call no loop used, is found by reading /proc (its closed event
no longer notes the call), poll gets hooked, and its stalls are reported
too."""
import signal
import time

import lstest


def hooked_calls(rec):
    lines = lstest.hooked_lines(rec)
    assert lines, "the recorder never said which wait calls it hooked"
    return [] if lines[-1] == "none" else lines[-1].split(",")


def tid_of(target, prefix):
    got = target.wait_line("stdout", lambda l: l.startswith(prefix), 1)
    assert got, f"the victim never said '{prefix}':\n{target.text('stdout')}"
    return [int(x) for x in got[1][len(prefix):].split(",")]


def test():
    with lstest.Session() as s:
        lstest.require_root()
        target = s.start(lstest.victim("py_worker_threads.py") + ["--wait-signal"])
        rec = s.record(["-p", str(target.pid)], ["-v", "--threshold", "150ms"])
        # two seconds of probation, then the once-a-second check, with margin
        time.sleep(4.5)
        hooked = hooked_calls(rec)
        fds = lstest.perf_event_fds(rec.pid)
        assert hooked == ["epoll_wait"], f"hooked while idle: {hooked}"
        # 8 threads: main (the loop), 4 workers, 2 parked, the idle loop; main
        # and the idle loop keep their events
        assert fds == len(hooked) + 2, (
            f"{fds} perf events open, expected {len(hooked)} hooked call(s) + 2 loop threads")
        target.signal(signal.SIGUSR2)
        assert target.wait(60) == 0, target.text("stderr")
        run = s.finish(rec, target)
        lstest.show(run)
        lstest.check_records(run)
        (aio,) = tid_of(target, "asyncio thread ")
        (poller,) = tid_of(target, "poll thread ")
        (idle,) = tid_of(target, "idle loop thread ")
        workers = tid_of(target, "workers ")

        stalls = [x for x in run.stalls if x["tid"] == idle]
        assert len(stalls) == 1, (
            f"{len(stalls)} stalls on the idle loop's thread {idle}, expected 1: "
            + "; ".join(lstest.brief(x) for x in run.stalls))
        lstest.assert_close(stalls[0]["duration_ms"], 300, 0.2, "stall of the idle loop")
        assert stalls[0]["syscalls"] and stalls[0]["syscalls"][0]["name"] == "clock_nanosleep", (
            "the idle loop's event was retired: " + lstest.brief(stalls[0]))

        stalls = [x for x in run.stalls if x["tid"] == aio]
        assert len(stalls) == 3, (
            f"{len(stalls)} stalls on the late asyncio thread {aio}, expected 3: "
            + "; ".join(lstest.brief(x) for x in run.stalls))
        for x in stalls:
            lstest.assert_close(x["duration_ms"], 300, 0.2, "stall of the late asyncio loop")
            assert x["syscalls"] and x["syscalls"][0]["name"] == "clock_nanosleep", (
                "its context-switch event was not reopened: " + lstest.brief(x))

        assert any("poll" in line.split(",") for line in lstest.hooked_lines(rec)), (
            "poll never hooked")
        stalls = [x for x in run.stalls if x["tid"] == poller]
        # six stalls, 0.5 s apart; finding poll from /proc takes up to ~1.5 s
        assert 3 <= len(stalls) <= 6, (
            f"{len(stalls)} stalls on the late poll thread {poller}, expected 3 to 6: "
            + "; ".join(lstest.brief(x) for x in run.stalls))
        for x in stalls:
            lstest.assert_close(x["duration_ms"], 300, 0.2, "stall of the late poll loop")
            assert x["syscalls"] and x["syscalls"][0]["name"] == "clock_nanosleep", (
                lstest.brief(x))

        others = [x for x in run.stalls if x["tid"] not in (aio, poller, idle)]
        assert not others, "stalls elsewhere: " + "; ".join(lstest.brief(x) for x in others)
        assert run.summary, "no summary"
        assert not [t for t in run.summary["threads"] if t["tid"] in workers], (
            "a worker that never waited in a loop call became a loop thread")


if __name__ == "__main__":
    lstest.main(test)
