#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""An unmodified libev program that sets libev's hooks itself
(tests/victims/libev_invoke_hook.c: its own invoke-pending callback,
release/acquire around a mutex shared with a second thread, userdata), run
under LD_PRELOAD=libprobe.so and recorded with `loopstall record -p`.

libprobe chains with those hooks instead of replacing them: the program
counts its own hook calls and checks its userdata, and the stall in
on_request_timer must still be named.
"""
import re

import lstest


def test():
    exe = lstest.env_path("VICTIM_LIBEV_INVOKE_HOOK")
    with lstest.Session() as s:
        run = lstest.record_pid(s, lstest.preloaded([exe, "--wait-signal", "--ms", "200"]),
                                name="libev_invoke_hook")
        hooks = [m for _, line in run.target.lines["stdout"]
                 if (m := re.match(r"hooks invoke=(\d+) release=(\d+) acquire=(\d+) userdata=(\w+)", line))]
        assert hooks, f"no hooks line:\n{run.target.text('stdout')}"
        invoke, release, acquire = (int(hooks[0].group(i)) for i in (1, 2, 3))
        print(f"  the program's hooks: invoke={invoke} release={release} acquire={acquire}")
        assert invoke > 10 and release > 10 and acquire > 10, hooks[0].group(0)
        assert hooks[0].group(4) == "ok", "the program's userdata was changed"
        stalls = run.stalls_in(run.scenario_window("request"))
        assert len(stalls) == 1, (
            "expected one stall, got:\n" + "\n".join(lstest.brief(x) for x in run.stalls))
        lstest.check_callback(stalls[0], "on_request_timer", "timer")


if __name__ == "__main__":
    lstest.main(test)
