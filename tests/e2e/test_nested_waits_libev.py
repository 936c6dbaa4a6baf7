#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""libev, waits inside a callback (issue 15): a callback that poll()s an
unrelated pipe for 300 ms, and one that runs a nested ev_run on a second loop
(its own epoll fd) until a 300 ms timer: each one blocking_syscall stall of
~300 ms in the nested call. Loops on libev's poll and select backends (the
loop's own wait is poll or select): idle gives no stall, a nested blocking
poll gives one.

Fails when the agent ends a busy period at any wait call (no stall), or
when it takes a poll-backend loop's own poll for a blocking call (stalls
while idle)."""
import lstest


def record(backend, scenario, repeat=2):
    with lstest.Session() as s:
        return lstest.record_pid(s, [lstest.env_path("VICTIM_LIBEV_NESTED"), "--wait-signal",
                                     "--backend", backend, "--scenario", scenario, "--ms", "300",
                                     "--repeat", str(repeat)], name=f"libev_nested {backend}")


def check_nested(run, what, call, kind):
    assert len(run.stalls) == 2, f"{what}: expected 2 stalls, got:\n" + "\n".join(
        lstest.brief(s) for s in run.stalls)
    for st in run.stalls:
        assert st["cause"] == "blocking_syscall", f"{what}: {lstest.brief(st)}"
        lstest.assert_close(st["duration_ms"], 300, 0.10, f"{what}: stall duration_ms")
        top = st["syscalls"][0]
        assert top["name"] == call, f"{what}: top syscall {top['name']}, expected {call}"
        assert top["count"] == 1, f"{what}: {call} counted {top['count']} calls, made 1"
        assert top.get("target_kind") == kind, (
            f"{what}: target {top.get('target')!r} of kind {top.get('target_kind')!r}, expected {kind}")
        lstest.assert_close(top["total_ms"], 300, 0.10, f"{what}: {call} total_ms")


def test():
    check_nested(record("epoll", "poll"), "epoll loop, callback polls", "poll", "pipe")
    # the nested loop's own epoll fd: not the outer loop's
    check_nested(record("epoll", "nested"), "epoll loop, nested ev_run", "epoll_wait", "epoll")
    for backend in ("poll", "select"):
        run = record(backend, "idle", repeat=1)
        assert not run.stalls, f"{backend} loop, idle: expected no stall:\n" + "\n".join(
            lstest.brief(s) for s in run.stalls)
        assert run.thread(run.target.pid)["iterations"] > 20, f"{backend}: {run.summary}"
        check_nested(record(backend, "poll"), f"{backend} loop, callback polls", "poll", "pipe")


if __name__ == "__main__":
    lstest.main(test)
