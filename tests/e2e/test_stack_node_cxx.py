#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A CPU stall in Node.js (tests/victims/node_busy.js, 400 ms spinning on
performance.now()): its stacks run through V8's and node's C++, which must
read as C++ (`v8::Function::Call(v8::Local<v8::Context>, …)`,
`node::performance::FastPerformanceNow(…)`), never as the ELF symbols
(`_ZN2v88Function4CallE…`): in the records, `report` (text, json, folded)
and `doctor`.
"""
import os
import re

import lstest
import nodefifo

CALL = "v8::Function::Call(v8::Local<v8::Context>, v8::Local<v8::Value>, int, v8::Local<v8::Value>*)"
CXX = re.compile(r"^(v8|node)::[\w:<>, *&]+\(.*\)")


def test():
    node, script = lstest.victim("node_busy.js")
    argv = [node, "--perf-basic-prof", script, "--wait-signal", "--ms", "400"]
    with lstest.Session() as s:
        try:
            run = lstest.record_pid(s, argv, name="node_busy.js")
        finally:
            for p in s.procs[:1]:
                try:
                    os.unlink(f"/tmp/perf-{p.pid}.map")
                except FileNotFoundError:
                    pass
        stalls = run.stalls_in(run.scenario_window("busy"))
        assert len(stalls) == 1, "\n".join(lstest.brief(x) for x in run.stalls)
        st = stalls[0]
        # the cause may read "preempted" on a loaded machine: the samples are what matters
        assert st["cpu_stacks"], f"no CPU samples: {lstest.brief(st)}"
        symbols = {f.get("symbol") or "" for e in st["cpu_stacks"] for f in e["stack"]}
        cxx = sorted(x for x in symbols if CXX.match(x))
        print("  C++ frames in the samples:\n    " + "\n    ".join(cxx))
        assert CALL in symbols, (
            f"no frame {CALL!r} in the stall's CPU stacks:\n"
            + lstest.format_stack(lstest.hottest_cpu_stack(st)))
        mangled = [x for x in symbols if x.startswith("_Z")]
        assert not mangled, f"mangled C++ frames: {mangled[:5]}"
        nodefifo.check_outputs(run.recorder.out, folded_has="busyLoop")


if __name__ == "__main__":
    lstest.main(test)
