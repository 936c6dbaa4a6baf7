#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Python 3 time.sleep() in a coroutine, run by an interpreter whose libpython
has symbols (a pyenv build, or $LOOPSTALL_PY_SYMBOLS): the stall's
clock_nanosleep stack must reach through the C library into the interpreter,
with time_sleep and _PyEval_EvalFrameDefault among its frames, as perf
--call-graph dwarf shows them.

Needs Python 3.11 or later: before, time.sleep waited in select(), the
same call as a loop's own wait, so the sleep is no stall. Skips when no such
interpreter is found, except under CI=true, where it fails.
"""
import lstest


def test():
    python = lstest.require_python_with_symbols()
    print(f"  interpreter: {python}")
    with lstest.Session() as s:
        argv = [python] + lstest.victim("py_sleep_coroutine.py")[1:]
        run = lstest.record_pid(s, argv + ["--wait-signal", "--seconds", "0.3"])
        stalls = run.stalls_in(run.scenario_window("sleep"))
        assert len(stalls) == 1, (
            "expected one stall in the scenario, got:\n"
            + "\n".join(lstest.brief(x) for x in run.stalls))
        st = stalls[0]
        assert st["cause"] == "blocking_syscall", lstest.brief(st)
        stack = lstest.syscall_stack(st, "clock_nanosleep")
        print("  clock_nanosleep stack:\n" + lstest.format_stack(stack))
        lstest.frames_in_order(stack, ["time_sleep", "_PyEval_EvalFrameDefault"],
                               "clock_nanosleep stack")


if __name__ == "__main__":
    lstest.main(test)
