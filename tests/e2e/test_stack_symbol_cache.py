#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The symbolizer's per-function caches (agent/src/funcache.h) name every
address as libdw does on its own: with LOOPSTALL_SYMBOLIZE=check the agent
names each new address both ways, on the same samples, and counts where
they differ (`record -v` prints the count at the end). Zero may differ, on
a pure-Python CPU stall (hundreds of instructions of the interpreter's hot
loop, its inlined helpers, its line table) with a libpython carrying
DWARF, on Debian's python3 (an LTO build, DWARF in /usr/lib/debug) when it
is there, and on the demo service (C, sleep and CPU stalls). The stacks
still reach what they reached before: the Python function and the
interpreter loop, the demo's own functions.

Addresses where libdw's dwarf_getscopes gave up on the whole compile unit
(seen in LTO units) and the cache still found the function are counted
apart: they are named more completely, not differently.
"""
import json
import os
import re
import signal

import lstest

CHECK_RE = re.compile(r"symbol check: (\d+) compared, (\d+) differ, (\d+) named by the cache"
                      r" alone, (\d+) with another process's module")


def check_counts(err, what, at_least):
    """The check line's counts (compared, differ, named by the cache alone, lent)."""
    m = CHECK_RE.search(err)
    assert m, f"{what}: no symbol check line in the agent's stderr:\n{err}"
    compared, differ, more, lent = (int(x) for x in m.groups())
    print(f"  {what}: {compared} compared, {differ} differ, {more} named by the cache alone,"
          f" {lent} with another process's module")
    assert differ == 0, f"{what}: the cache named {differ} addresses unlike libdw:\n{err}"
    assert compared >= at_least, f"{what}: only {compared} addresses compared"
    return lent


def python_cpu(s, python, what, python_names=True):
    argv = [python] + lstest.victim("py_frames_app.py")[1:]
    run = lstest.record_pid(s, argv + ["--scenario", "cpu", "--seconds", "0.3",
                                       "--wait-signal"], opts=["-v"])
    stalls = run.stalls_in(run.scenario_window("cpu"))
    assert len(stalls) == 1, "\n".join(lstest.brief(x) for x in run.stalls)
    stacks = [e["stack"] for e in stalls[0]["cpu_stacks"]]
    lstest.hottest_cpu_stack(stalls[0])
    names = ["crunch", "_PyEval_EvalFrameDefault"] if python_names else [
        "_PyEval_EvalFrameDefault"]
    # the hottest entry may be a sample the interpreter took outside crunch's frame
    named = [st for st in stacks if any(f["symbol"] == names[0] for f in st)]
    assert named, f"{what}: no CPU stack names {names[0]}:\n" + "\n\n".join(
        lstest.format_stack(st) for st in stacks)
    print(lstest.format_stack(named[0]))
    lstest.frames_in_order(named[0], names, f"{what} CPU stack")
    # a 300 ms stall leaves ~100 distinct addresses; a quiet run names many more
    check_counts(run.recorder.text("stderr"), what, 20)


def test():
    os.environ["LOOPSTALL_SYMBOLIZE"] = "check"
    with lstest.Session() as s:
        # empty: what a run names it learns from DWARF, not from an earlier run's
        # store (agent/src/funstore.h; test_stack_symbol_store's business)
        os.environ["LOOPSTALL_DEBUG_CACHE"] = os.path.join(s.dir, "debuginfo")
        python_cpu(s, lstest.require_python_with_symbols(), "python with symbols")
        if os.access("/usr/bin/python3", os.X_OK):
            # its Python frames' names are the Python frame tests' business (test_py_frames_debian)
            python_cpu(s, "/usr/bin/python3", "/usr/bin/python3", python_names=False)
        run = lstest.record_command(
            s, [lstest.demo_service(), "--scenarios", "sleep,cpu", "--sleep-ms", "120",
                "--cpu-ms", "200", "--gap-ms", "100"], opts=["-v"])
        # on a loaded machine the CPU stall may be called preempted: its samples count
        cpu = [st for st in run.stalls if st["cpu_stacks"]]
        blocked = [st for st in run.stalls if st["syscalls"] and st["syscalls"][0]["stack"]]
        assert cpu and blocked, "\n".join(lstest.brief(x) for x in run.stalls)
        for stack in (lstest.hottest_cpu_stack(cpu[0]), blocked[0]["syscalls"][0]["stack"]):
            print(lstest.format_stack(stack))
            lstest.frames_in_order(stack, ["main"], "demo service stack")
        check_counts(run.recorder.text("stderr"), "demo service", 10)
        daemon_two_processes(s, lstest.require_python_with_symbols())


def cpu_stalls_by_pid(path):
    try:
        with open(path) as f:
            recs = [json.loads(line) for line in f]
    except (OSError, ValueError):
        return {}
    got = {}
    for r in recs:
        if r.get("type") == "stall" and r.get("cpu_samples"):
            got[r["pid"]] = got.get(r["pid"], 0) + 1
    return got


def daemon_two_processes(s, python):
    """loopstalld on two processes of one interpreter: the second one's
    addresses are named with the first one's modules (lent by build-id,
    its debug info read once); check mode asks libdw in the second
    process's own modules."""
    # both stay until the end: the first one's modules are still there to lend
    argv = [python] + lstest.victim("py_frames_app.py")[1:] + [
        "--scenario", "cpu", "--seconds", "0.3", "--wait-signal", "--linger-ms", "60000"]
    victims = [s.start(argv, name=f"py_frames_app {i}") for i in range(2)]
    out = os.path.join(s.dir, "daemon")
    d = lstest.start_daemon(s, ["-p", str(victims[0].pid), "-p", str(victims[1].pid),
                                "--output", out, "--metrics-addr", "off"])
    lstest.wait_for("loopstalld to attach to both",
                    lambda: d.text("stderr").count("attached to pid") >= 2, 30)
    stalls = os.path.join(out, "stalls.jsonl")
    for v in victims:
        v.signal(signal.SIGUSR2)
        lstest.wait_for(f"a CPU stall of pid {v.pid}",
                        lambda: cpu_stalls_by_pid(stalls).get(v.pid), 30)
    d.signal(signal.SIGTERM)
    d.wait(30)
    lent = check_counts(d.text("stderr"), "loopstalld, two processes", 20)
    assert lent > 0, "the second process named nothing with the first one's modules"


if __name__ == "__main__":
    lstest.main(test)
