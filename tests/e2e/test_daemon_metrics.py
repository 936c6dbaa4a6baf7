#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""loopstalld -p on the demo service running its sleep and cpu scenarios.

/metrics must pass `promtool check metrics` without a word, and count the
300 ms sleep as one blocking_syscall stall (in clock_nanosleep) and the
200 ms computation as one stall of the cause the victim's own schedstat
calls for (cpu, or preempted/mixed on a busy machine), with the same numbers as the JSON
records loopstalld wrote to --output; the --metrics-file copy must pass
promtool too. Histograms: +Inf equal to _count. Scrapes stay fast while
the loop stalls (the HTTP thread does not wait on event processing).
After start-up loopstalld holds only the capabilities it documents.
--bpf-stats is on: the BPF run-time self-metrics count (they stay 0 without
it: test_daemon_match.py).
SIGTERM flushes: exit 0, the records end with the summary.
"""
import os
import signal
import subprocess
import time

import lstest

# CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE, CAP_PERFMON, CAP_BPF, CAP_CHECKPOINT_RESTORE
KEPT_CAPS = (1 << 2) | (1 << 19) | (1 << 38) | (1 << 39) | (1 << 40)
TARGET = "loopstall-demo-"  # the demo's comm: no name given, so the label is the comm


def promtool_check(text, what):
    r = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                       capture_output=True, timeout=30)
    out = (r.stdout + r.stderr).strip()
    print(f"  promtool check metrics ({what}): rc={r.returncode} output={out!r}")
    assert r.returncode == 0 and not out, f"promtool check metrics ({what}) says:\n{out}"


def check_histograms(samples):
    """Every histogram series: buckets cumulative, +Inf == _count."""
    buckets = {}
    for name, labels, value in samples:
        if name.endswith("_bucket"):
            key = (name[:-7], tuple(sorted((k, v) for k, v in labels.items() if k != "le")))
            buckets.setdefault(key, []).append((float(labels["le"]), value))
    assert buckets, "no histogram at all"
    for (base, key), bs in buckets.items():
        les = [le for le, _ in bs]
        assert les == sorted(les) and les[-1] == float("inf"), f"{base}{key}: le order {les}"
        counts = [v for _, v in bs]
        assert counts == sorted(counts), f"{base}{key}: not cumulative {counts}"
        labels = dict(key)
        count = lstest.metric(samples, base + "_count", **labels)
        assert count == counts[-1], f"{base}{key}: +Inf {counts[-1]} != _count {count}"


def caps(pid):
    status = open(f"/proc/{pid}/status").read()
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    return int(fields["CapEff"], 16), int(fields["CapBnd"], 16), fields["NoNewPrivs"].strip()


def test():
    lstest.require_root()
    with lstest.Session() as s:
        out_dir = os.path.join(s.dir, "out")
        prom_file = os.path.join(s.dir, "loopstall.prom")
        victim = s.start([lstest.demo_service(), "--scenarios", "sleep,cpu", "--wait-signal",
                          "--linger-ms", "400"])
        d = lstest.start_daemon(s, ["-p", str(victim.pid), "--output", out_dir,
                                    "--metrics-file", prom_file, "--bpf-stats"])
        assert d.metrics_url, f"no metrics URL in:\n{d.text('stderr')}"

        eff, bnd, nnp = caps(d.pid)
        print(f"  loopstalld CapEff={eff:#x} CapBnd={bnd:#x} NoNewPrivs={nnp}")
        assert eff == KEPT_CAPS and bnd == KEPT_CAPS and nnp == "1", (
            f"capabilities after start-up: CapEff={eff:#x} CapBnd={bnd:#x} NoNewPrivs={nnp},"
            f" expected {KEPT_CAPS:#x} and no_new_privs")

        samples = lstest.scrape(d)
        assert lstest.metric(samples, "loopstall_targets") == 1, "not attached to the victim"
        assert lstest.metric(samples, "loopstall_stalls_total", target=TARGET,
                             cause="blocking_syscall") == 0

        victim.signal(signal.SIGUSR2)
        # scrapes during the stalls: each must be answered at once
        latencies = []
        deadline = time.monotonic() + 20
        while victim.p.poll() is None and time.monotonic() < deadline:
            t0 = time.monotonic()
            status, _ = lstest.http_get(d.metrics_url)
            latencies.append(time.monotonic() - t0)
            assert status == 200
            time.sleep(0.02)
        assert victim.wait(10) == 0, f"victim failed: {victim.text('stderr')}"
        latencies.sort()
        print(f"  {len(latencies)} scrapes during the run: median"
              f" {latencies[len(latencies) // 2] * 1e3:.1f} ms, max {latencies[-1] * 1e3:.1f} ms")
        assert latencies[-1] < 0.5, f"a scrape took {latencies[-1] * 1e3:.0f} ms"

        # the computation's cause: cpu, unless the victim's own schedstat says
        # it mostly waited for a CPU (a shared 2-CPU machine)
        cpu_causes, _ = lstest.causes_called_for(lstest.victim_account(victim, "cpu"))

        def stalls_counted():
            smp = lstest.scrape(d)
            b = lstest.metric(smp, "loopstall_stalls_total", target=TARGET,
                              cause="blocking_syscall")
            c = [cause for cause in sorted(cpu_causes)
                 if lstest.metric(smp, "loopstall_stalls_total", target=TARGET, cause=cause)]
            done = b and c and lstest.metric(smp, "loopstall_targets") == 0
            return (smp, c[0]) if done else None
        samples, cpu_cause = lstest.wait_for("both stalls counted and the victim dropped",
                                             stalls_counted, 10)
        status, text = lstest.http_get(d.metrics_url)
        promtool_check(text, "live /metrics")
        check_histograms(samples)
        m = lambda name, **kw: lstest.metric(samples, name, **kw)  # noqa: E731

        stall_sum = m("loopstall_stall_duration_seconds_sum", target=TARGET,
                      cause="blocking_syscall")
        sleep_s = m("loopstall_blocking_syscall_seconds_total", target=TARGET,
                    syscall="clock_nanosleep")
        print(f"  blocking_syscall stalls={m('loopstall_stalls_total', target=TARGET, cause='blocking_syscall')}"
              f" sum={stall_sum:.3f}s clock_nanosleep={sleep_s:.3f}s"
              f" {cpu_cause} stalls={m('loopstall_stalls_total', target=TARGET, cause=cpu_cause)}"
              f" iterations={m('loopstall_loop_iterations_total', target=TARGET)}"
              f" busy={m('loopstall_loop_busy_seconds_total', target=TARGET):.3f}s")
        assert m("loopstall_stalls_total", target=TARGET, cause="blocking_syscall") == 1
        assert m("loopstall_stalls_total", target=TARGET, cause=cpu_cause) == 1
        for cause in {"cpu", "lock_wait", "preempted", "page_fault", "mixed", "unknown"} - {cpu_cause}:
            assert m("loopstall_stalls_total", target=TARGET, cause=cause) == 0, cause
        lstest.assert_close(stall_sum * 1e3, 300, 0.05, "blocking_syscall stall seconds (ms)")
        lstest.assert_close(sleep_s * 1e3, 300, 0.05, "clock_nanosleep seconds (ms)")
        # a 300 ms stall is in (0.25, 0.5], a 200 ms one in (0.1, 0.25]
        assert m("loopstall_stall_duration_seconds_bucket", target=TARGET,
                 cause="blocking_syscall", le="0.25") == 0
        assert m("loopstall_stall_duration_seconds_bucket", target=TARGET,
                 cause="blocking_syscall", le="0.5") == 1
        assert m("loopstall_stall_duration_seconds_bucket", target=TARGET,
                 cause=cpu_cause, le="0.1") == 0
        assert m("loopstall_stall_duration_seconds_bucket", target=TARGET,
                 cause=cpu_cause, le="0.25") == 1
        iterations = m("loopstall_loop_iterations_total", target=TARGET)
        assert iterations > 10, f"iterations {iterations}"
        assert m("loopstall_heartbeat_gap_seconds_count", target=TARGET) == iterations
        assert abs(m("loopstall_heartbeat_gap_seconds_sum", target=TARGET)
                   - m("loopstall_loop_busy_seconds_total", target=TARGET)) < 1e-6
        # the two stalls are gaps of 200 and 300 ms: at least 2 gaps above 0.1 s
        above = iterations - m("loopstall_heartbeat_gap_seconds_bucket", target=TARGET, le="0.1")
        assert above >= 2, f"{above} heartbeat gaps above 100 ms, expected the 2 stalls"
        info = [(lb, v) for n, lb, v in samples if n == "loopstall_build_info"]
        assert len(info) == 1 and info[0][1] == 1 and info[0][0].get("version"), info
        assert m("loopstall_lost_events_total") == 0
        assert m("loopstall_bpf_runs_total") > 0 and m("loopstall_bpf_run_seconds_total") > 0
        assert not [lb for n, lb, v in samples if "pid" in lb], "a pid label"

        assert lstest.http_get(d.metrics_url.replace("/metrics", "/nope"))[0] == 404
        assert lstest.http_get(d.metrics_url, method="POST")[0] == 405

        d.signal(signal.SIGTERM)
        rc = d.wait(10)
        assert rc == 0, f"loopstalld exited with {rc} on SIGTERM:\n{d.text('stderr')}"

        records = lstest.read_records(os.path.join(out_dir, "stalls.jsonl"))
        stalls = [r for r in records if r["type"] == "stall"]
        by_cause = {}
        for r in stalls:
            by_cause[r["cause"]] = by_cause.get(r["cause"], 0) + 1
        print(f"  records: {[r['type'] for r in records]}")
        assert by_cause == {"blocking_syscall": 1, cpu_cause: 1}, f"stall records by cause: {by_cause}"
        assert records[-1]["type"] == "summary", "the records do not end with the summary"
        sleep_rec = next(r for r in stalls if r["cause"] == "blocking_syscall")
        assert abs(sleep_rec["duration_ms"] / 1e3 - stall_sum) < 1e-3, (
            f"record {sleep_rec['duration_ms']} ms vs metric {stall_sum} s")
        assert sleep_rec["syscalls"][0]["name"] == "clock_nanosleep"

        text = open(prom_file).read()
        promtool_check(text, "--metrics-file")
        final = lstest.parse_metrics(text)
        assert lstest.metric(final, "loopstall_stalls_total", target=TARGET, cause=cpu_cause) == 1
        assert not [f for f in os.listdir(s.dir) if f.endswith(".tmp")], "temporary file left"


if __name__ == "__main__":
    lstest.main(test)
