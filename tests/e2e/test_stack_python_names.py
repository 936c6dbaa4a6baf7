#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The Python-level function that kept the loop busy, by name: Python 3.12+
started with `-X perf` writes /tmp/perf-PID.map entries for the trampolines
it puts in front of each Python function, and the agent names those frames
from it. A coroutine computing 300 ms without awaiting
(tests/victims/py_cpu_no_yield.py, function cpu_work): the stall's hottest
cpu_stacks entry names py::cpu_work."""
import glob
import re

import lstest


def python_312():
    """The newest pyenv CPython 3.12+ (the `-X perf` trampolines), or None."""
    found = []
    for path in glob.glob("/root/.pyenv/versions/*/bin/python3.1[0-9]"):
        m = re.search(r"python3\.(\d+)$", path)
        if m and int(m.group(1)) >= 12:
            found.append((int(m.group(1)), path))
    return max(found)[1] if found else None


def test():
    python = python_312()
    if not python:
        lstest.skip("no CPython 3.12+ (for -X perf) under /root/.pyenv/versions")
    print(f"  interpreter: {python} -X perf")
    with lstest.Session() as s:
        argv = [python, "-X", "perf"] + lstest.victim("py_cpu_no_yield.py")[1:]
        run = lstest.record_pid(s, argv + ["--wait-signal", "--ms", "300"])
        stalls = run.stalls_in(run.scenario_window("cpu"))
        assert len(stalls) == 1, (
            "expected one stall in the scenario, got:\n"
            + "\n".join(lstest.brief(x) for x in run.stalls))
        st = stalls[0]
        # what this test checks is the name; on a loaded machine the same
        # stall can be mostly run-queue wait (preempted), still with samples
        assert st["cause"] in ("cpu", "preempted", "mixed") and st["on_cpu_ms"] >= 100, (
            lstest.brief(st))
        stack = lstest.hottest_cpu_stack(st)
        print(f"  cpu_samples={st['cpu_samples']}, hottest {st['cpu_stacks'][0]['samples']}:\n"
              + lstest.format_stack(stack))
        names = [f.get("symbol") or "" for f in stack]
        assert any(n.startswith("py::cpu_work:") and n.endswith("py_cpu_no_yield.py")
                   for n in names), (
            "the hottest CPU stack does not name the Python function cpu_work:\n"
            + lstest.format_stack(stack))


if __name__ == "__main__":
    lstest.main(test)
