#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A Python coroutine computing 300 ms without awaiting
(tests/victims/py_cpu_no_yield.py): one stall with cause cpu whose hottest
cpu_stacks entry runs inside the interpreter loop, _PyEval_EvalFrameDefault.

The stacks are native: the Python-level function (cpu_work) is not named,
a documented limit. Runs with an interpreter whose libpython has symbols
when there is one (see lstest.python_with_symbols), else Debian's python3,
whose exported _PyEval_EvalFrameDefault is in .dynsym.
"""
import lstest


def test():
    python = lstest.python_with_symbols() or lstest.PYTHON
    print(f"  interpreter: {python}")
    with lstest.Session() as s:
        argv = [python] + lstest.victim("py_cpu_no_yield.py")[1:]
        run = lstest.record_pid(s, argv + ["--wait-signal", "--ms", "300"])
        stalls = run.stalls_in(run.scenario_window("cpu"))
        assert len(stalls) == 1, (
            "expected one stall in the scenario, got:\n"
            + "\n".join(lstest.brief(x) for x in run.stalls))
        st = stalls[0]
        lstest.check_cause(st, lstest.victim_account(run.target, "cpu"))
        stack = lstest.hottest_cpu_stack(st)
        print(f"  cpu_samples={st['cpu_samples']}, {len(st['cpu_stacks'])} distinct stacks,"
              f" hottest {st['cpu_stacks'][0]['samples']}:\n" + lstest.format_stack(stack))
        lstest.frames_in_order(stack, ["_PyEval_EvalFrameDefault"], "hottest CPU stack")


if __name__ == "__main__":
    lstest.main(test)
