#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What `record -t TID`, `--no-stacks` and `--stack-bytes N` change in the
records, each against the same run without the option:

  -t TID         two libev loops in two threads (libev_two_loops.c) each
                 block once (ingest 150 ms, flush 250 ms): without -t both
                 stalls are written; with -t FLUSH only the flush thread's,
                 and the summary lists that thread alone.
  --no-stacks    the demo service's 300 ms sleep and 200 ms computation:
                 the same two stalls, durations and causes, with empty
                 syscall stacks, no cpu_stacks and no CPU samples.
  --stack-bytes  a 300 ms sleep 8 frames of 1 KiB deep (wait_loop.c
                 --depth 8): with 16k copied the stack reaches main; with
                 4096 it stops inside the recursion (a 4 KiB copy cannot
                 hold 8 KiB of frames), its innermost frames unchanged.
"""
import re
import signal

import lstest


def thread_tids(proc):
    tids = {}
    for _, line in proc.lines["stdout"]:
        m = re.match(r"thread (\w+) tid=(\d+)", line)
        if m:
            tids[m.group(1)] = int(m.group(2))
    return tids


def two_loops(s, only=None):
    exe = lstest.env_path("VICTIM_LIBEV_TWO_LOOPS")
    target = s.start([exe, "--wait-signal", "--ingest-ms", "150", "--flush-ms", "250"],
                     name="libev_two_loops")
    lstest.wait_for("both loop threads named", lambda: len(thread_tids(target)) == 2, 10)
    tids = thread_tids(target)
    opts = ["-t", str(tids[only])] if only else []
    rec = s.record(["-p", str(target.pid)], opts)
    target.signal(signal.SIGUSR2)
    assert target.wait(30) == 0, target.text("stderr")
    run = s.finish(rec, target)
    lstest.show(run)
    lstest.check_records(run)
    return run, tids


def check_tid(s):
    run, tids = two_loops(s)
    by_tid = sorted(x["tid"] for x in run.stalls)
    assert by_tid == sorted(tids.values()), (
        f"without -t: stalls on threads {by_tid}, expected one on each of {tids}")
    run, tids = two_loops(s, only="flush")
    flush = tids["flush"]
    assert [x["tid"] for x in run.stalls] == [flush], (
        f"-t {flush}: stalls on threads {[x['tid'] for x in run.stalls]}, expected only {flush}")
    lstest.assert_close(run.stalls[0]["duration_ms"], 250, 0.15, "the flush stall")
    listed = [t["tid"] for t in run.summary["threads"]]
    assert listed == [flush], f"-t {flush}: the summary lists threads {listed}"


def demo(s, opts):
    run = lstest.record_pid(s, [lstest.demo_service(), "--wait-signal", "--scenarios",
                                "sleep,cpu", "--cpu-ms", "200"], opts=opts)
    sleep = run.stalls_in(run.scenario_window("sleep"))
    cpu = run.stalls_in(run.scenario_window("cpu"))
    assert len(sleep) == 1 and len(cpu) == 1, (
        f"{opts}: expected one stall per scenario, got:\n"
        + "\n".join(lstest.brief(x) for x in run.stalls))
    assert sleep[0]["cause"] == "blocking_syscall", lstest.brief(sleep[0])
    assert sleep[0]["syscalls"][0]["name"] == "clock_nanosleep", lstest.brief(sleep[0])
    lstest.assert_close(sleep[0]["duration_ms"], 300, 0.05, f"{opts}: sleep stall")
    lstest.check_cause(cpu[0], lstest.victim_account(run.target, "cpu"))
    lstest.assert_close(cpu[0]["duration_ms"], 200, 0.10, f"{opts}: cpu stall")
    return sleep[0], cpu[0]


def check_no_stacks(s):
    sleep, cpu = demo(s, [])
    assert sleep["syscalls"][0]["stack"], "without --no-stacks: no clock_nanosleep stack"
    assert cpu["cpu_stacks"] and cpu["cpu_samples"] > 0, "without --no-stacks: no CPU samples"
    sleep, cpu = demo(s, ["--no-stacks"])
    for st in (sleep, cpu):
        stacks = [sc["stack"] for sc in st["syscalls"] if sc["stack"]]
        assert not stacks, f"--no-stacks: a syscall stack in {lstest.brief(st)}"
        assert not st["cpu_stacks"] and not st["cpu_samples"], (
            f"--no-stacks: cpu_samples={st['cpu_samples']},"
            f" {len(st['cpu_stacks'])} cpu_stacks in {lstest.brief(st)}")


def deep_sleep(s, stack_bytes):
    argv = [lstest.env_path("VICTIM_WAIT_LOOP"), "ppoll", "sleep", "--depth", "8"]
    run = lstest.record_pid(s, argv, opts=["--stack-bytes", stack_bytes],
                            name=f"wait_loop --stack-bytes {stack_bytes}")
    st = lstest.one_stall(run, f"--stack-bytes {stack_bytes}")
    stack = lstest.syscall_stack(st, "clock_nanosleep")
    print(f"  --stack-bytes {stack_bytes}: {len(stack)} frames:\n" + lstest.format_stack(stack))
    return [f.get("symbol") for f in stack]


def check_stack_bytes(s):
    full = deep_sleep(s, "16k")
    assert full.count("deep_frame") == 8 and "main" in full, (
        f"--stack-bytes 16k: the stack does not reach main through 8 deep_frame: {full}")
    short = deep_sleep(s, "4096")
    assert "main" not in short and short.count("deep_frame") < 8, (
        f"--stack-bytes 4096 copies 4 KiB, less than the 8 KiB of frames, yet: {short}")
    n = len(short)
    assert n >= 3 and short == full[:n], (
        f"--stack-bytes 4096: the innermost frames differ from the full stack's: {short}")


def test():
    lstest.require_root()
    failures = []
    for name, case in (("-t TID", check_tid), ("--no-stacks", check_no_stacks),
                       ("--stack-bytes", check_stack_bytes)):
        with lstest.Session() as s:
            try:
                case(s)
                print(f"ok: {name}")
            except AssertionError as e:
                print(f"FAILED: {name}: {e}")
                failures.append(f"{name}: {e}")
    assert not failures, f"{len(failures)} case(s) failed:\n" + "\n".join(failures)


if __name__ == "__main__":
    lstest.main(test)
