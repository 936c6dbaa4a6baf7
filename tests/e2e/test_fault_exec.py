#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The target exec()s another program in the middle of a recording.

Decision (README, "Attaching to a running service"): recording continues
for the new image. The pid, its pidfd, the BPF target entry and the loop
thread's counters all survive exec, so the new program's stalls are
recorded with its own comm and its own stacks, and the recording ends when
the new program exits. The summary keeps the name the target had when the
recording started.

Two cases: the new image stalls a while after exec (a second later), and
right after it (within the 200 ms the unwinder caches a process's
mappings): both stacks must name the new image's functions. Right after
means after the new image's loop waited once (fault_victim's loop_until
waits before it looks at the signal): what runs across the exec up to the
new image's first wait is start-up, no iteration, and is dropped, which
the third case checks with a block before that wait.
"""
import os
import signal
import time

import faults
import lstest


def after_exec_path(s):
    """The victim under another name (the new image's comm): after-exec."""
    link_dir = os.path.join(s.dir, "bin")
    os.makedirs(link_dir, exist_ok=True)
    after = os.path.join(link_dir, "after-exec")
    if not os.path.exists(after):
        os.symlink(lstest.env_path("VICTIM_FAULT"), after)
    return after


def exec_case(s, quick):
    after = after_exec_path(s)
    # before exec: a 200 ms stall in mode_exec; after: 300 ms (or 80 ms at once) in mode_block
    after_ms = 80 if quick else 300
    target = s.start(faults.victim_argv("exec", 200, after, "block", after_ms),
                     name="fault_victim")
    rec = s.record(["-p", str(target.pid)])
    time.sleep(0.3)
    target.signal(signal.SIGUSR2)
    got = target.wait_line("stdout", lambda l: l.startswith("exec "), 10)
    assert got, f"victim did not exec; stdout:\n{target.text('stdout')}"
    # the new image says ready again; then its own stall
    got = target.wait_line("stdout", lambda l: l.startswith("ready") and
                           sum(1 for _, x in target.lines["stdout"] if x.startswith("ready")) >= 2, 10)
    if not quick:
        time.sleep(1.0)
    target.signal(signal.SIGUSR2)
    rc = target.wait(15)
    assert rc == 0, f"victim exited {rc}; stderr:\n{target.text('stderr')}"
    run = s.finish(rec, target, timeout=20)
    lstest.show(run)
    lstest.check_records(run)
    stalls = [st for st in run.all_stalls if not st["cut_short"]]
    assert len(stalls) == 2, (f"expected a stall before and one after exec, got"
                              f" {len(stalls)}: " + "; ".join(lstest.brief(x) for x in stalls))
    before, after_st = stalls
    assert before["comm"] == "fault_victim", f"comm before exec: {before['comm']!r}"
    assert after_st["comm"] == "after-exec", f"comm after exec: {after_st['comm']!r}"
    assert before["pid"] == after_st["pid"] == target.pid
    lstest.assert_close(after_st["duration_ms"], after_ms, 0.25, "stall after exec duration_ms")
    assert run.summary["comm"] == "fault_victim", f"summary comm {run.summary['comm']!r}"
    b = faults.frame_names(lstest.syscall_stack(before, "clock_nanosleep"))
    assert "mode_exec" in b and "block_loop" in b, f"stack before exec: {b}"
    a = faults.frame_names(lstest.syscall_stack(after_st, "clock_nanosleep"))
    print(f"  stack after exec: {a}")
    lstest.frames_in_order(lstest.syscall_stack(after_st, "clock_nanosleep"),
                           ["clock_nanosleep", "sleep_us", "block_loop", "mode_block", "main"],
                           "stack after exec" + (
                               " (BUG: unwound with the old image's cached mappings: unwind.c"
                               " rechecks /proc/PID/maps only every 200 ms and nothing tells it"
                               " about exec)" if quick else ""))


def startup_case(s):
    """The new image blocks 150 ms before its loop's first wait (fault_victim's
    life mode with AT 0 starts with the block): start-up, no iteration of any
    loop, so the period across the exec is dropped and only the stall before
    exec is written."""
    target = s.start(faults.victim_argv("exec", 200, after_exec_path(s), "life", 400, 0, 150),
                     name="fault_victim")
    rec = s.record(["-p", str(target.pid)])
    time.sleep(0.3)
    target.signal(signal.SIGUSR2)
    rc = target.wait(15)
    assert rc == 0, f"victim exited {rc}; stderr:\n{target.text('stderr')}"
    blocks = [x for _, x in target.lines["stdout"] if x.startswith("blocking ")]
    assert len(blocks) == 2, f"victim did not block before and after exec:\n{target.text('stdout')}"
    run = s.finish(rec, target, timeout=20)
    lstest.show(run)
    lstest.check_records(run)
    stalls = [st for st in run.all_stalls if not st["cut_short"]]
    assert len(stalls) == 1 and stalls[0]["comm"] == "fault_victim", (
        "expected the stall before exec alone (the new image's block before its first wait is"
        " start-up), got: " + "; ".join(f"{x['comm']} " + lstest.brief(x) for x in stalls))


def test():
    lstest.require_root()
    failures = []
    with lstest.Session() as s:
        for name, case in (("stall a second after exec", lambda: exec_case(s, False)),
                           ("stall right after exec", lambda: exec_case(s, True)),
                           ("block before the new image's first wait", lambda: startup_case(s))):
            try:
                case()
                print(f"ok: {name}")
            except AssertionError as e:
                print(f"FAILED: {name}: {e}")
                failures.append(f"{name}: {e}")
    assert not failures, f"{len(failures)} case(s) failed:\n" + "\n".join(failures)


if __name__ == "__main__":
    lstest.main(test)
