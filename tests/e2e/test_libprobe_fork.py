#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""An unmodified libev program that forks a worker while its loop runs
(tests/victims/libev_fork.c), under LD_PRELOAD=libprobe.so, recorded from
its first instruction with `loopstall record --` (which follows forks).

The child inherits the loop and libprobe's shared mapping; libprobe must
give it a region of its own. The child's stall must name on_child_job and
the parent's on_parent_tick, each in its own process.
"""
import re

import lstest


def test():
    exe = lstest.env_path("VICTIM_LIBEV_FORK")
    with lstest.Session() as s:
        run = lstest.record_command(s, lstest.preloaded([exe]))
        child = [int(m.group(1)) for _, line in run.target.lines["stdout"]
                 if (m := re.match(r"child pid=(\d+)", line))]
        assert child, f"no child pid printed:\n{run.target.text('stdout')}"
        child = child[0]
        kids = [x for x in run.stalls_in(run.scenario_window("child")) if x["pid"] == child]
        assert len(kids) == 1, (
            f"expected one stall in child {child}, got:\n"
            + "\n".join(f"pid {x['pid']}: {lstest.brief(x)}" for x in run.stalls))
        cb = lstest.check_callback(kids[0], "on_child_job", "timer")
        print(f"  child {child}: {cb['symbol']} ran {cb['duration_ms']} ms")
        parents = [x for x in run.stalls_in(run.scenario_window("parent")) if x["pid"] != child]
        assert len(parents) == 1, (
            "expected one stall in the parent, got:\n"
            + "\n".join(f"pid {x['pid']}: {lstest.brief(x)}" for x in run.stalls))
        cb = lstest.check_callback(parents[0], "on_parent_tick", "timer")
        print(f"  parent {parents[0]['pid']}: {cb['symbol']} ran {cb['duration_ms']} ms")


if __name__ == "__main__":
    lstest.main(test)
