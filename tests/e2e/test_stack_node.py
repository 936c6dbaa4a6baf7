#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Node.js run with --perf-basic-prof --interpreted-frames-native-stack, a
setTimeout callback spending 400 ms in the JavaScript function burnCpu
(tests/victims/node_busy_named.js): one stall with cause cpu whose hottest
cpu_stacks entry names burnCpu, through the JIT symbols V8 writes to
/tmp/perf-PID.map (`JS:*burnCpu /path/node_busy_named.js:43:17` and the like).
"""
import os

import lstest

FUNCTION = "burnCpu"


def test():
    node, script = lstest.victim("node_busy_named.js")
    argv = [node, "--perf-basic-prof", "--interpreted-frames-native-stack", script,
            "--wait-signal", "--ms", "400"]
    with lstest.Session() as s:
        try:
            run = lstest.record_pid(s, argv, name="node_busy_named.js")
        finally:
            # V8 does not remove the map it wrote: only ours, by its pid
            for p in s.procs[:1]:
                try:
                    os.unlink(f"/tmp/perf-{p.pid}.map")
                except FileNotFoundError:
                    pass
        stalls = run.stalls_in(run.scenario_window("busy"))
        assert len(stalls) == 1, (
            "expected one stall in the scenario, got:\n"
            + "\n".join(lstest.brief(x) for x in run.stalls))
        st = stalls[0]
        assert st["tid"] == run.target.pid, f"stall on thread {st['tid']}, not node's main thread"
        lstest.check_cause(st, lstest.victim_account(run.target, "busy"))
        stack = lstest.hottest_cpu_stack(st)
        print(f"  cpu_samples={st['cpu_samples']}, {len(st['cpu_stacks'])} distinct stacks,"
              f" hottest {st['cpu_stacks'][0]['samples']}:\n" + lstest.format_stack(stack))
        named = [f["symbol"] for f in stack if FUNCTION in (f.get("symbol") or "")]
        assert named, (f"no frame of the hottest CPU stack names {FUNCTION}:\n"
                       + lstest.format_stack(stack))
        print(f"  {FUNCTION} frames: {named}")


if __name__ == "__main__":
    lstest.main(test)
