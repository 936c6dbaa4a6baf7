#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Python asyncio, blocking calls that are themselves wait calls (issue 15):
a socket with a timeout (poll, then recv), subprocess.run with captured
output (poll on its pipes) and select.select on a pipe, each 300 ms inside a
coroutine. Each is one blocking_syscall stall of ~300 ms whose top syscall is
the nested wait, not the end of a busy period. Controls: an idle loop and a
run_in_executor offload give no stall.

Fails when the agent ends a busy period at any poll/epoll/select (the wait
call decided by its number alone): then no stall is reported at all; when a
block of one call is counted as several calls; and when the target is looked
up after the callback closed the socket (null instead of the TCP peer)."""
import lstest

# scenario, the nested wait, the kind of what it waited on
NESTED = [
    ("sock_timeout", {"poll", "ppoll"}, "socket"),
    ("subprocess", {"poll", "ppoll"}, "pipe"),
    ("select_pipe", {"select", "pselect6"}, "pipe"),
    # the fd_set's later words (cap_fdset's bpf_loop): readfds' fd 200 first
    ("select_high_fd", {"select", "pselect6"}, "pipe"),
]


def run_scenario(name):
    with lstest.Session() as s:
        return lstest.record_pid(s, lstest.victim("py_nested_waits.py")
                                 + ["--wait-signal", "--scenario", name, "--ms", "300"])


def test():
    for name, calls, kind in NESTED:
        run = run_scenario(name)
        st = lstest.one_stall(run, name)
        assert st["tid"] == run.target.pid, f"{name}: stall on thread {st['tid']}"
        assert st["cause"] == "blocking_syscall", f"{name}: {lstest.brief(st)}"
        lstest.assert_close(st["duration_ms"], 300, 0.10, f"{name}: stall duration_ms")
        top = st["syscalls"][0]
        assert top["name"] in calls, f"{name}: top syscall {top['name']}, expected one of {calls}"
        # communicate() polls again once one of the child's pipes reports EOF: 1 or 2 calls
        calls = (1, 2) if name == "subprocess" else (1,)
        assert top["count"] in calls, (
            f"{name}: {top['name']} counted {top['count']} calls, made {' or '.join(map(str, calls))}")
        assert top.get("target_kind") == kind, f"{name}: target {top.get('target')!r}, kind {top.get('target_kind')!r}, expected {kind}"
        if name == "sock_timeout":
            # the victim closed the socket right after: the target was taken while it blocked
            peer = run.target.wait_line("stdout", lambda l: l.startswith("peer "), 1)
            assert peer, "the victim printed no peer"
            want = peer[1].split()[1]
            assert top["target"].startswith("socket:TCP ") and top["target"].endswith("->" + want), (
                f"{name}: target {top['target']!r}, expected the TCP peer {want}")
        assert run.stalls_in(run.scenario_window(name)), f"{name}: the stall is not in the scenario"
        # the loop went on iterating after the nested wait: its own wait is still known
        assert run.thread(run.target.pid)["iterations"] > 20, f"{name}: {run.summary}"
    for name in ("idle", "executor"):
        run = run_scenario(name)
        assert not run.stalls, f"{name}: expected no stall:\n" + "\n".join(
            lstest.brief(s) for s in run.stalls)


if __name__ == "__main__":
    lstest.main(test)
