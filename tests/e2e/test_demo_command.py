#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""`loopstall record -- loopstall-demo-service --scenarios sleep`: the same
sleep stall, with the service started by the recorder and traced from its
first instruction."""
import re

import lstest


def test():
    with lstest.Session() as s:
        run = lstest.record_command(s, [lstest.demo_service(), "--scenarios", "sleep"])
        ready = [l for _, l in run.target.lines["stdout"] if l.startswith("ready")]
        assert ready, f"the command's output did not come through:\n{run.target.text('stdout')}"
        pid = int(re.search(r"pid=(\d+)", ready[0]).group(1))

        st = lstest.one_stall(run, "sleep scenario")
        assert st["pid"] == pid and st["tid"] == pid, f"stall of {st['pid']}/{st['tid']}, not {pid}"
        assert st["cause"] == "blocking_syscall", lstest.brief(st)
        lstest.assert_close(st["duration_ms"], 300, 0.05, "sleep stall duration_ms")
        assert st["syscalls"] and st["syscalls"][0]["name"] == "clock_nanosleep", lstest.brief(st)
        assert run.stalls_in(run.scenario_window("sleep")), "the stall is not in the sleep scenario"

        assert run.summary["pid"] == pid, f"summary pid {run.summary['pid']}, not {pid}"
        assert run.thread(pid)["iterations"] > 0, "no iterations counted"


if __name__ == "__main__":
    lstest.main(test)
