#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""/tmp/perf-PID.map belongs to the traced process, and the agent (root)
reads it whenever a stack has a frame in no module (JIT code). fault_victim
`jit` blocks in code it copied to anonymous executable memory, named
`jit_stub` in a perf map it pads with 64 MiB of one-byte entries.

The frame must still be named from the map, and what the file makes the
agent allocate must stay bounded: its peak RSS (VmHWM) under 256 MiB. (An
entry costs the agent 32 bytes of index plus its name: a map of tiny
entries multiplies the file's size several times over.)

A symlink in place of the map must not be followed (O_NOFOLLOW): that case
is the unit test of perfmap.c; here only the size.
"""
import os
import signal
import time

import faults
import lstest

MAP_MB = 64
HWM_LIMIT_KB = 256 * 1024


def hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def test():
    lstest.require_root()
    with lstest.Session() as s:
        target = s.start(faults.victim_argv("jit", MAP_MB), name="fault_victim", timeout=60)
        try:
            check(s, target)
        finally:
            try:
                os.unlink(f"/tmp/perf-{target.pid}.map")  # the victim's, if it did not get to
            except FileNotFoundError:
                pass


def check(s, target):
    got = target.wait_line("stdout", lambda l: l.startswith("map "), 60)
    print(f"  victim: {got[1]}")
    rec = s.record(["-p", str(target.pid)])
    time.sleep(0.3)
    before = hwm_kb(rec.pid)
    target.signal(signal.SIGUSR2)
    _, st = faults.wait_record(rec.out, lambda r: r["type"] == "stall", 30, interval=0.05)
    peak = hwm_kb(rec.pid)
    assert target.wait(30) == 0
    run = s.finish(rec, target, timeout=30)
    lstest.check_records(run)
    frames = st["syscalls"][0]["stack"] if st["syscalls"] else []
    print(f"  agent VmHWM {before / 1024:.0f} MiB before, {peak / 1024:.0f} MiB after the"
          f" stall; frames {faults.frame_names(frames)[:4]}")
    assert frames and frames[0].get("symbol") == "jit_stub", (
        f"the JIT frame is not named from the perf map: {frames[:3]}")
    assert peak < HWM_LIMIT_KB, (
        f"BUG: a {MAP_MB} MiB perf map made the agent's peak RSS {peak / 1024:.0f} MiB"
        " (perfmap.c accepts maps up to 256 MiB and indexes every line: a hostile JIT"
        " map can make the root agent allocate gigabytes)")


if __name__ == "__main__":
    lstest.main(test)
