#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The `loopstall record` contract: bad input ends with exit 2 and one line on
stderr; --duration, SIGINT and SIGTERM end a recording cleanly with a summary
last; --threshold moves the line between a stall and a busy iteration.

Every case runs even when an earlier one fails; all failures are reported.
"""
import os
import signal
import time

import lstest


def idle_target(s):
    # Without SIGUSR2 this service never starts its 60 s idle timer: it is
    # an idle loop that runs until killed.
    return s.start([lstest.demo_service(), "--wait-signal", "--idle-ms", "60000"])


def missing_pid():
    pid = 999999
    while os.path.exists(f"/proc/{pid}"):
        pid += 1
    return pid


def bad_input(s, target):
    cases = [
        ("unknown flag", ["--no-such-flag", "-p", str(target.pid)]),
        ("bad duration", ["--threshold", "5xs", "-p", str(target.pid)]),
        ("no such PID", ["-p", str(missing_pid())]),
        ("-p with --", ["-p", str(target.pid), "--", "/bin/true"]),
    ]
    failures = []
    for what, args in cases:
        rec = lstest.Proc([lstest.loopstall(), "record", *args], "loopstall record")
        s.procs.append(rec)
        rc = rec.wait(15)
        err = [l for l in rec.text("stderr").splitlines() if l.strip()]
        if rc != 2 or len(err) != 1:
            failures.append(f"{what}: `loopstall record {' '.join(args)}` exited {rc}"
                            f" with {len(err)} stderr line(s): {err}")
    assert not failures, "\n".join(failures)
    assert target.p.poll() is None, "the target died during the bad-input cases"


def duration(s, target):
    rec = s.record(["-p", str(target.pid)], ["--duration", "1s"])
    t0 = time.monotonic()
    run = s.finish(rec, target, timeout=15)
    took = time.monotonic() - t0
    lstest.check_records(run)
    assert 0.8 <= took <= 3.0, f"--duration 1s: recorder ran {took:.2f} s after attaching"
    rec_ms = run.summary["recorded_ms"]
    assert 800 <= rec_ms <= 1500, f"--duration 1s: summary recorded_ms = {rec_ms}"
    assert not run.stalls, "idle target stalled: " + "; ".join(lstest.brief(x) for x in run.stalls)
    assert target.p.poll() is None, "the target died when the recorder detached"


def stop_by(s, target, sig):
    rec = s.record(["-p", str(target.pid)])
    time.sleep(0.5)
    rec.signal(sig)
    run = s.finish(rec, target, timeout=10)
    lstest.check_records(run)
    assert run.thread(target.pid)["iterations"] > 0, f"{sig.name}: no iterations in 0.5 s"
    assert target.p.poll() is None, f"the target died when the recorder got {sig.name}"


def threshold(s, sleep_ms, want_stall):
    run = lstest.record_pid(
        s, [lstest.demo_service(), "--wait-signal", "--scenarios", "sleep",
            "--sleep-ms", str(sleep_ms)], ["--threshold", "100ms"])
    assert run.summary["threshold_ms"] == 100, f"summary threshold_ms {run.summary['threshold_ms']}"
    if want_stall:
        st = lstest.one_stall(run, f"{sleep_ms} ms sleep at threshold 100ms")
        assert st["threshold_ms"] == 100, f"stall threshold_ms {st['threshold_ms']}"
        lstest.assert_close(st["duration_ms"], sleep_ms, 0.05, "stall duration_ms")
    else:
        assert not run.stalls, f"{sleep_ms} ms sleep at threshold 100ms: " + "; ".join(
            lstest.brief(x) for x in run.stalls)


def test():
    lstest.require_root()
    failures = []
    with lstest.Session() as s:
        target = idle_target(s)
        cases = [
            ("bad input", lambda: bad_input(s, target)),
            ("--duration 1s", lambda: duration(s, target)),
            ("SIGINT", lambda: stop_by(s, target, signal.SIGINT)),
            ("SIGTERM", lambda: stop_by(s, target, signal.SIGTERM)),
            ("--threshold 100ms, 300 ms sleep", lambda: threshold(s, 300, True)),
            ("--threshold 100ms, 80 ms sleep", lambda: threshold(s, 80, False)),
        ]
        for name, case in cases:
            try:
                case()
                print(f"ok: {name}")
            except AssertionError as e:
                print(f"FAILED: {name}: {e}")
                failures.append(f"{name}: {e}")
    assert not failures, f"{len(failures)} case(s) failed:\n" + "\n".join(failures)


if __name__ == "__main__":
    lstest.main(test)
