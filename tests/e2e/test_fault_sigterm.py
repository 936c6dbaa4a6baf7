#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The recorder gets SIGTERM (and, separately, SIGINT) while the target is
in the middle of a stall: the stall in progress is written, cut_short, with
its stack (the target is alive), and the file is valid JSON Lines ending with
the summary. The target keeps running, detached."""
import signal
import time

import faults
import lstest


def stop_mid_stall(s, sig):
    target = s.start(faults.victim_argv("block", 3000), name="fault_victim")
    rec = s.record(["-p", str(target.pid)])
    time.sleep(0.3)
    target.signal(signal.SIGUSR2)
    blocked = faults.victim_time(target, "blocking")
    time.sleep(0.6)
    stopped = lstest.now_ns()
    rec.signal(sig)
    run = s.finish(rec, target, timeout=15)
    lstest.show(run)
    lstest.check_records(run)
    with open(rec.out, "rb") as f:
        raw = f.read()
    assert raw.endswith(b"\n") and raw.count(b"\n") == len(run.records), "not one record per line"
    assert run.records[-1]["type"] == "summary"
    cut = [st for st in run.all_stalls if st["cut_short"]]
    assert len(cut) == 1 and len(run.all_stalls) == 1, (
        f"expected the one stall in progress, cut short; got "
        + "; ".join(f"{lstest.brief(x)} cut_short={x['cut_short']}" for x in run.all_stalls))
    st = cut[0]
    lstest.assert_close(st["duration_ms"], (stopped - blocked) / 1e6, 0.2, "cut-short duration_ms")
    assert st["syscalls"] and st["syscalls"][0]["name"] == "clock_nanosleep", lstest.brief(st)
    begins = [r for r in run.records if r["type"] == "stall_begin"]
    assert len(begins) == 1 and begins[0]["start_unix_ns"] == st["start_unix_ns"], (
        f"stall_begin records: {begins}")
    th = run.thread(target.pid)
    assert th["stalls"] == 1, th
    bugs = []
    names = faults.frame_names(st["syscalls"][0]["stack"])
    if "block_loop" not in names:
        bugs.append(
            "BUG: the stall in progress has no stack (BPF sends a block's stack only when"
            " the block ends; agent.c stall_in_progress() does not read the thread's"
            f" pending_stacks entry): frames {names}")
    if th["max_busy_ms"] < st["duration_ms"] - 1:
        bugs.append(
            f"BUG: summary max_busy_ms {th['max_busy_ms']} is below the cut-short stall's"
            f" {st['duration_ms']} ms (ls_agent__finish adds it to stalls, iterations and"
            " busy_ns but not to max_busy_ns)")
    assert not bugs, "\n".join(bugs)
    assert target.p.poll() is None, f"the target died when the recorder got {sig.name}"
    target.kill()


def test():
    lstest.require_root()
    failures = []
    with lstest.Session() as s:
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                stop_mid_stall(s, sig)
                print(f"ok: {sig.name}")
            except AssertionError as e:
                print(f"FAILED: {sig.name}: {e}")
                failures.append(f"{sig.name}: {e}")
    assert not failures, "\n".join(failures)


if __name__ == "__main__":
    lstest.main(test)
