#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The demo service's CPU-bound timer callback (compute_stats, called by
on_stats_timer) computes for 300 ms: one stall with cause cpu whose hottest
cpu_stacks entry names compute_stats and on_stats_timer, from at least 100
samples (the agent samples at about 1 kHz while a busy period runs long).
"""
import lstest


def test():
    with lstest.Session() as s:
        run = lstest.record_pid(
            s, [lstest.demo_service(), "--wait-signal", "--scenarios", "cpu", "--cpu-ms", "300"])
        stalls = run.stalls_in(run.scenario_window("cpu"))
        assert len(stalls) == 1, (
            "expected one stall in the scenario, got:\n"
            + "\n".join(lstest.brief(x) for x in run.stalls))
        st = stalls[0]
        lstest.check_cause(st, lstest.victim_account(run.target, "cpu"))
        stack = lstest.hottest_cpu_stack(st)
        print(f"  cpu_samples={st['cpu_samples']}, {len(st['cpu_stacks'])} distinct stacks,"
              f" hottest {st['cpu_stacks'][0]['samples']}:\n" + lstest.format_stack(stack))
        assert st["cpu_samples"] >= 100, (
            f"cpu_samples = {st['cpu_samples']} for {st['on_cpu_ms']:.1f} ms on CPU, expected >= 100")
        assert sum(e["samples"] for e in st["cpu_stacks"]) <= st["cpu_samples"], (
            "cpu_stacks hold more samples than cpu_samples")
        lstest.frames_in_order(stack, ["compute_stats", "on_stats_timer"], "hottest CPU stack")


if __name__ == "__main__":
    lstest.main(test)
