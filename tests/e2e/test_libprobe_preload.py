#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""An unmodified libev program, the demo service, run with
LD_PRELOAD=libprobe.so and recorded with `loopstall record -p`.

Each stall must carry libprobe's callback: the sleep scenario's stall
names on_report_timer, the cpu scenario's on_stats_timer, both timer
watchers, with the flight recorder's tail. The loop thread's summary must
carry libprobe's own numbers, its heartbeat lateness among them: the
300 ms block shows up as one heartbeat about that late, not as a sample
skipped.
"""
import lstest


def test():
    with lstest.Session() as s:
        argv = lstest.preloaded([lstest.demo_service(), "--wait-signal", "--scenarios", "sleep,cpu"])
        run = lstest.record_pid(s, argv, name="demo-service")
        sleep = run.stalls_in(run.scenario_window("sleep"))
        cpu = run.stalls_in(run.scenario_window("cpu"))
        assert len(sleep) == 1 and len(cpu) == 1, (
            "expected one stall per scenario, got:\n"
            + "\n".join(lstest.brief(x) for x in run.stalls))

        assert sleep[0]["cause"] == "blocking_syscall", lstest.brief(sleep[0])
        cb = lstest.check_callback(sleep[0], "on_report_timer", "timer")
        assert cb["module"].endswith("loopstall-demo-service"), cb
        assert cb["running"] is False, cb
        assert "on_report_timer" in [r["symbol"] for r in cb["recent"]], cb["recent"]
        print(f"  sleep stall: {cb['symbol']} ({cb['watcher']}) ran {cb['duration_ms']} ms;"
              f" before it: {[r['symbol'] for r in cb['recent']]}")

        lstest.check_cause(cpu[0], lstest.victim_account(run.target, "cpu"))
        lstest.check_callback(cpu[0], "on_stats_timer", "timer")

        lp = run.thread(run.target.pid).get("libprobe")
        assert lp, "the loop thread's summary has no libprobe numbers"
        print(f"  libprobe: {lp}")
        assert lp["heartbeat_interval_ms"] == 10, lp
        assert lp["heartbeat_samples"] > 50, lp
        assert lp["heartbeat_late_ms"]["max"] >= 250, (
            f"the 300 ms block should make one heartbeat about that late: {lp}")
        assert lp["heartbeat_late_ms"]["p50"] < 20, lp
        assert lp["stalls"] >= 2 and lp["callbacks"] > 0 and lp["iterations"] > 0, lp
        assert lp["poll_ms"] > 0 and lp["callback_ms"] >= 450, lp


if __name__ == "__main__":
    lstest.main(test)
