#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Node.js, child_process.execSync('sleep 0.3') in a callback (issue 15):
libuv runs a nested loop on a second epoll fd until the child exits. One
blocking_syscall stall of ~300 ms in epoll_pwait; the same program without
execSync gives none.

Fails when the agent takes the nested loop's epoll_pwait for the main loop's
own wait (no stall)."""
import lstest


def record(*args):
    with lstest.Session() as s:
        return lstest.record_pid(s, lstest.victim("node_exec_sync.js") + ["--wait-signal", *args])


def test():
    run = record("--ms", "300")
    st = lstest.one_stall(run, "execSync")
    assert st["tid"] == run.target.pid, f"stall on thread {st['tid']}, not node's main thread"
    assert st["cause"] == "blocking_syscall", lstest.brief(st)
    lstest.assert_close(st["duration_ms"], 300, 0.10, "stall duration_ms")
    top = st["syscalls"][0]
    assert top["name"] in ("epoll_pwait", "epoll_wait", "epoll_pwait2"), lstest.brief(st)
    lstest.assert_close(top["total_ms"], 300, 0.10, "nested wait total_ms")
    assert run.stalls_in(run.scenario_window("exec")), "the stall is not in the scenario"
    idle = record("--idle")
    assert not idle.stalls, "idle: expected no stall:\n" + "\n".join(
        lstest.brief(s) for s in idle.stalls)


if __name__ == "__main__":
    lstest.main(test)
