#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The ring buffer overflows, and nothing is lost silently.

The same stall storm runs twice: two loop threads each stall ~450 times a
second (2 ms blocks against a 1 ms threshold) for 3 s, and every stall
carries a blocked stack (a 16 KiB record).

  --ring-size 4K  no storm thread's stack record fits, so the storm
                  overflows the ring for certain: lost_events > 0, and no
                  storm stall has a stack
  default (1 MiB) the same storm loses nothing, or far fewer events than
                  the tiny ring (a noisy machine can delay the agent)

Both times every stall BPF counted (summary threads[].stalls) is either
written or covered by summary.lost_events (a storm thread's exit record,
which carries its counters to the summary, can be lost too), and the
recorder ends normally with its summary. With the default ring the agent
has kept up: the 300 ms stall the main loop makes after the storm is
recorded (the 4 KiB ring can lose even that one's record, behind its stack).
"""
import signal

import faults
import lstest

THREADS = 2
SECONDS = 3
BLOCK_US = 2000


def has_stack(stall):
    return any(sc["stack"] for sc in stall["syscalls"]) or bool(stall["cpu_stacks"])


def storm(s, ring_opts, want_last=True):
    target = s.start(faults.victim_argv("storm", THREADS, SECONDS, BLOCK_US), name="fault_victim")
    rec = s.record(["-p", str(target.pid)], ["--threshold", "1ms", *ring_opts])
    target.signal(signal.SIGUSR2)
    got = target.wait_line("stdout", lambda l: l.startswith("storm iterations"), 60)
    assert got, f"storm did not finish:\n{target.text('stderr')}"
    iterations = int(got[1].split()[2])
    after = faults.victim_time(target, "blocking", 30)
    assert target.wait(30) == 0
    run = s.finish(rec, target, timeout=60)
    lstest.check_records(run)
    summ = run.summary
    counted = sum(t["stalls"] for t in summ["threads"])
    written = len(run.all_stalls)
    lost = summ["lost_events"]
    # the main thread's stack can be shallow enough to fit any ring: count the storm's
    storm_stalls = [st for st in run.all_stalls if st["tid"] != target.pid]
    stacks = sum(1 for st in storm_stalls if has_stack(st))
    print(f"  ring {ring_opts[-1] if ring_opts else 'default'}: {iterations} iterations in"
          f" {SECONDS} s on {THREADS} threads ({iterations / SECONDS:.0f}/s); BPF counted"
          f" {counted} stalls, {written} written ({stacks} of the storm's {len(storm_stalls)}"
          f" with a stack), lost_events {lost}")
    assert written + lost >= iterations // 2, (
        f"{written} stalls written and {lost} events lost for {iterations} iterations that each"
        f" block {BLOCK_US} us: the storm did not happen")
    assert counted - written <= lost, (
        f"{counted - written} stalls missing but only {lost} events counted as lost")
    post = [st for st in run.all_stalls
            if st["tid"] == target.pid and st["start_unix_ns"] >= after - 5_000_000]
    if want_last or post:
        assert len(post) == 1 and 250 <= post[0]["duration_ms"] <= 450, (
            f"the 300 ms stall after the storm: {[lstest.brief(x) for x in post]}")
    return lost, len(storm_stalls), stacks


def test():
    lstest.require_root()
    with lstest.Session() as s:
        tiny_lost, tiny_written, tiny_stacks = storm(s, ["--ring-size", "4K"], want_last=False)
        assert tiny_lost > 0, "a 4 KiB ring under a stall storm lost nothing"
        assert tiny_stacks == 0, (
            f"{tiny_stacks} storm stalls have a stack, but a 16 KiB stack record cannot fit"
            " a 4 KiB ring")
        # about one stack record per stall, every one lost
        assert tiny_lost >= tiny_written // 2, (
            f"lost_events {tiny_lost} for {tiny_written} stalls whose stacks cannot fit")

        lost, written, stacks = storm(s, [])
        assert lost * 10 <= tiny_lost, (
            f"the default 1 MiB ring lost {lost} events, the 4 KiB one {tiny_lost}:"
            " expected far fewer (none on a quiet machine)")
        assert stacks >= written // 2, f"only {stacks} of {written} stalls have a stack"


if __name__ == "__main__":
    lstest.main(test)
