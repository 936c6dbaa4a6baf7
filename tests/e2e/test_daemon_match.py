#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""loopstalld --match: processes that start after the daemon are attached
within 1 s, and dropped when they exit.

The victim is the demo service copied under a name of its own, longer than
the 15 characters of a comm, so it can only match on the executable's name
(and no other test's demo service matches). Checks: not attached before it
starts; attached within 1 s of its start (the metric and the log say so);
its stalls counted under the configured name `svc`; a second instance
attached too; each exit takes loopstall_targets down within 1 s; counters
never go down across the exits and a restart; a process that does not match
is never attached. Without bpf_stats the BPF run-time self-metrics stay 0.
"""
import os
import re
import secrets
import shutil
import signal
import time

import lstest

NAME = "svc"


def targets(d):
    return lstest.metric(lstest.scrape(d), "loopstall_targets")


def counters(d):
    smp = lstest.scrape(d)
    return {
        "stalls": lstest.metric(smp, "loopstall_stalls_total", target=NAME,
                                cause="blocking_syscall"),
        "iterations": lstest.metric(smp, "loopstall_loop_iterations_total", target=NAME),
        "busy": lstest.metric(smp, "loopstall_loop_busy_seconds_total", target=NAME),
        "gaps": lstest.metric(smp, "loopstall_heartbeat_gap_seconds_count", target=NAME),
    }


def never_down(before, after, when):
    for k, v in before.items():
        assert after[k] is not None and after[k] >= v, (
            f"{k} went down {when}: {v} -> {after[k]}")


def wait_targets(d, n, timeout, what):
    t0 = time.monotonic()
    lstest.wait_for(what, lambda: targets(d) == n, timeout, interval=0.02)
    return time.monotonic() - t0


def test():
    lstest.require_root()
    with lstest.Session() as s:
        exe_name = f"lsdvictim-{secrets.token_hex(4)}-service"
        exe = os.path.join(s.dir, exe_name)
        shutil.copy(lstest.demo_service(), exe)
        victim_argv = [exe, "--scenarios", "sleep", "--sleep-ms", "120", "--gap-ms", "150",
                       "--repeat", "1000", "--delay-ms", "0"]

        d = lstest.start_daemon(s, ["--match", f"{NAME}={exe_name}", "--match",
                                    "no-such-program-*"])
        bystander = s.start(["sleep", "60"], name="sleep", ready=False)
        assert targets(d) == 0, "attached to something before the victim started"

        t0 = time.monotonic()
        v1 = s.start(victim_argv, name="victim 1", ready=False)
        wait_targets(d, 1, 3, "victim 1 attached")
        took = time.monotonic() - t0
        print(f"  victim 1 (pid {v1.pid}) attached {took * 1e3:.0f} ms after it started")
        assert took <= 1.0, f"attached {took:.2f} s after start, more than 1 s"
        log = d.wait_line("stderr", lambda l: f"attached to pid {v1.pid} " in l, 2)
        assert log and f'as target "{NAME}"' in log[1], f"log: {log}"

        lstest.wait_for("a stall of victim 1 counted",
                        lambda: (counters(d)["stalls"] or 0) >= 1, 10)
        c1 = counters(d)
        print(f"  after victim 1's first stalls: {c1}")
        assert c1["iterations"] > 0 and c1["gaps"] == c1["iterations"]

        t0 = time.monotonic()
        v2 = s.start(victim_argv, name="victim 2", ready=False)
        wait_targets(d, 2, 3, "victim 2 attached")
        took = time.monotonic() - t0
        print(f"  victim 2 (pid {v2.pid}) attached {took * 1e3:.0f} ms after it started")
        assert took <= 1.0, f"victim 2 attached {took:.2f} s after start"

        time.sleep(0.5)
        before = counters(d)
        v1.signal(signal.SIGKILL)
        v1.wait(5)
        took = wait_targets(d, 1, 3, "victim 1 dropped")
        print(f"  victim 1 dropped {took * 1e3:.0f} ms after it was killed")
        assert took <= 1.0, f"dropped {took:.2f} s after the exit"
        assert d.wait_line("stderr", lambda l: f"detached from pid {v1.pid} " in l, 2)
        never_down(before, counters(d), "when victim 1 exited")

        before = counters(d)
        v2.signal(signal.SIGTERM)
        v2.wait(5)
        wait_targets(d, 0, 3, "victim 2 dropped")
        after_exits = counters(d)
        never_down(before, after_exits, "when victim 2 exited")
        print(f"  both gone: loopstall_targets 0, totals kept: {after_exits}")

        # the same program again: the totals go on from where they were
        v3 = s.start(victim_argv, name="victim 3", ready=False)
        wait_targets(d, 1, 3, "victim 3 attached")
        lstest.wait_for("victim 3's stalls counted on top",
                        lambda: counters(d)["stalls"] > after_exits["stalls"], 10)
        never_down(after_exits, counters(d), "after a restart")

        smp = lstest.scrape(d)
        assert lstest.metric(smp, "loopstall_bpf_runs_total") == 0, "bpf_stats is off"
        assert lstest.metric(smp, "loopstall_bpf_run_seconds_total") == 0, "bpf_stats is off"

        attached = re.findall(r"attached to pid (\d+)", d.text("stderr"))
        assert str(bystander.pid) not in attached, "attached to a process that does not match"
        assert sorted(attached) == sorted(str(v.pid) for v in (v1, v2, v3)), attached

        d.signal(signal.SIGTERM)
        assert d.wait(10) == 0, f"loopstalld on SIGTERM:\n{d.text('stderr')}"


if __name__ == "__main__":
    lstest.main(test)
