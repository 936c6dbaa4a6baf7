#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A libev program built -O2 without frame pointers (tests/victims/libev_nofp.c)
whose timer callback blocks in usleep() three calls down: the stall's
clock_nanosleep stack must name read_profile, lookup_user, handle_request
and on_tick, in that order, each at the file:line of its call, from DWARF.

The expected lines are found by searching the victim's source for the call
expressions, so editing the victim does not break the test.
"""
import os
import re

import lstest

SOURCE = "libev_nofp.c"
# frame -> the call it was making when the thread blocked
CALLS = [
    ("read_profile", "usleep"),
    ("lookup_user", "read_profile"),
    ("handle_request", "lookup_user"),
    ("on_tick", "handle_request"),
]


def call_lines(path):
    """{callee: line} of each call expression `callee(` in the source, skipping
    comments and function definitions; each callee must be called exactly once."""
    with open(path) as f:
        lines = f.read().splitlines()
    out = {}
    for _, callee in CALLS:
        hits = [n for n, text in enumerate(lines, 1)
                if re.search(rf"\b{callee}\(", text)
                and not re.match(r"\s*(OUT_OF_LINE|static|__attribute__|/?\*|//)", text)]
        assert len(hits) == 1, f"{path}: expected one call to {callee}(), found lines {hits}"
        out[callee] = hits[0]
    return out


def test():
    exe = lstest.env_path("VICTIM_LIBEV_NOFP")
    expected = call_lines(os.path.join(lstest.env_path("VICTIMS"), SOURCE))
    with lstest.Session() as s:
        run = lstest.record_pid(s, [exe, "--wait-signal", "--ms", "200"], name="libev_nofp")
        stalls = run.stalls_in(run.scenario_window("sleep"))
        assert len(stalls) == 1, (
            "expected one stall in the scenario, got:\n"
            + "\n".join(lstest.brief(x) for x in run.stalls))
        st = stalls[0]
        assert st["cause"] == "blocking_syscall", lstest.brief(st)
        lstest.assert_close(st["duration_ms"], 200, 0.10, "stall duration_ms")
        stack = lstest.syscall_stack(st, "clock_nanosleep")
        print("  clock_nanosleep stack:\n" + lstest.format_stack(stack))

        frames = lstest.frames_in_order(stack, [name for name, _ in CALLS], "clock_nanosleep stack")
        for frame, (name, callee) in zip(frames, CALLS):
            assert frame["file"] and frame["file"].endswith(SOURCE), (
                f"{name}: file {frame['file']!r}, expected a path ending in {SOURCE}:\n"
                + lstest.format_stack(stack))
            assert frame["line"] == expected[callee], (
                f"{name}: line {frame['line']}, expected {expected[callee]}"
                f" (its call to {callee}()):\n" + lstest.format_stack(stack))
            assert not frame.get("inlined"), f"{name} is marked inlined: it is noinline"


if __name__ == "__main__":
    lstest.main(test)
