#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Attach while the loop thread sits in a callback's 2 s poll (issue 15).

At attach the agent reads the blocked thread's stack (poll <- on_work <-
ev_invoke_pending <- ev_run): a callback's wait, so the busy period starts
at attach, stall_begin announces it while the poll lasts, and its end is a
stall flagged began_before_attach; the poll's return is not learnt as the
loop's wait, the loop's own epoll_wait is. Afterwards the loop idles (no
stall) and the callback's second 2 s poll is a stall of ~2 s, announced by
stall_begin while it lasts.

Fails when nothing is learnt at attach (the first poll unreported), when a
site learnt at attach is never replaced (the loop's own wait then counts as
nested: one endless busy period, stalls while idle) or when a nested poll
ends a busy period (the second poll is missed)."""
import time

import lstest


def test():
    lstest.require_root()
    with lstest.Session() as s:
        target = s.start([lstest.env_path("VICTIM_LIBEV_NESTED"), "--scenario", "poll",
                          "--ms", "2000", "--repeat", "2"], name="libev_nested")
        assert target.wait_line("stdout", lambda l: l == "scenario poll begin", 10)
        # attach half a second into the first nested poll
        time.sleep(0.5)
        rec = s.record(["-p", str(target.pid)])
        rc = target.wait(30)
        assert rc == 0, f"victim exited with {rc}: {target.text('stderr')}"
        run = s.finish(rec, target)
        lstest.show(run)
        lstest.check_records(run)
        first = [st for st in run.stalls if st.get("began_before_attach")]
        assert len(first) == 1, "expected the first poll, running at attach:\n" + "\n".join(
            lstest.brief(st) for st in run.stalls)
        # what was left of it after attach: 1.5 s less the recorder's start-up
        assert 800 <= first[0]["duration_ms"] <= 1550, lstest.brief(first[0])
        assert first[0]["syscalls"][0]["name"] == "poll", lstest.brief(first[0])
        # what it waited on, read at attach: the pipe in its pollfd array
        assert first[0]["syscalls"][0].get("target_kind") == "pipe", first[0]["syscalls"][0]
        assert [r for r in run.records if r["type"] == "stall_begin"
                and r["start_unix_ns"] == first[0]["start_unix_ns"]
                and r.get("began_before_attach")], "no stall_begin while the first poll lasted"
        long_ones = [st for st in run.stalls
                     if st["duration_ms"] > 1000 and not st.get("began_before_attach")]
        assert len(long_ones) == 1, "expected one ~2 s stall (the second poll):\n" + "\n".join(
            lstest.brief(st) for st in run.stalls)
        st = long_ones[0]
        lstest.assert_close(st["duration_ms"], 2000, 0.10, "second nested poll: duration_ms")
        assert st["cause"] == "blocking_syscall", lstest.brief(st)
        assert st["syscalls"][0]["name"] == "poll", lstest.brief(st)
        second = run.scenario_window("poll", 1)
        assert st in run.stalls_in(second), "the stall is not the second poll"
        others = [x for x in run.stalls if x is not st and x is not first[0]]
        assert not others, "stalls while the loop idled:\n" + "\n".join(
            lstest.brief(x) for x in others)
        begins = [r for r in run.records if r["type"] == "stall_begin"
                  and r["start_unix_ns"] == st["start_unix_ns"]]
        assert begins, "no stall_begin while the second poll lasted"
        assert run.thread(run.target.pid)["iterations"] > 30, run.summary


if __name__ == "__main__":
    lstest.main(test)
