#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A JavaScript function called once, so still run by V8's interpreter,
blocks the loop in fs.readFileSync of a FIFO nobody writes for 300 ms
(tests/victims/node_fifo.js). Node runs with --perf-basic-prof
--interpreted-frames-native-stack (the README's way to start a service):
the blocking stack names `JS:~readFifoSync …` as a "js" frame, then its
caller; without the second flag the frame would be
Builtins_InterpreterEntryTrampoline. The report, folded stacks and doctor
carry no mangled C++ name (`_ZN…`).
"""
import os

import lstest
import nodefifo


def test():
    lstest.require_root()
    node, script = lstest.victim("node_fifo.js")
    with lstest.Session() as s:
        fifo = os.path.join(s.dir, "fifo")
        os.mkfifo(fifo)
        target = s.start([node, *nodefifo.NODE_FLAGS, script, fifo], name="node_fifo.js")
        try:
            run = nodefifo.record(s, target, target.pid, fifo)
        finally:
            # V8 does not remove the map it wrote: only ours, by its pid
            try:
                os.unlink(f"/tmp/perf-{target.pid}.map")
            except FileNotFoundError:
                pass
        nodefifo.check_named(run)
        nodefifo.check_outputs(run.recorder.out)


if __name__ == "__main__":
    lstest.main(test)
