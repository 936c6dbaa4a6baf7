#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""loopstalld -p on the demo service sleeping 2 s on its loop thread,
/metrics scraped every 50 ms while it sleeps: the gauge
loopstall_stall_in_progress_seconds counts the stall up while it lasts
(reaching at least 1 s, never ahead of the time since the victim said it
began, never going down mid-stall) and is back to 0 within a second after
the loop answers again, when the stall is counted in
loopstall_stalls_total."""
import signal
import time

import lstest

TARGET = "loopstall-demo-"
GAUGE = "loopstall_stall_in_progress_seconds"


def test():
    lstest.require_root()
    with lstest.Session() as s:
        victim = s.start([lstest.demo_service(), "--scenarios", "sleep", "--sleep-ms", "2000",
                          "--wait-signal", "--linger-ms", "1500"])
        d = lstest.start_daemon(s, ["-p", str(victim.pid)])
        assert d.metrics_url, f"no metrics URL in:\n{d.text('stderr')}"
        assert lstest.metric(lstest.scrape(d), GAUGE, target=TARGET) == 0, "a stall before any"
        victim.signal(signal.SIGUSR2)
        begin = victim.wait_line("stdout", lambda l: l == "scenario sleep begin", 10)
        assert begin, "the victim never began its scenario"
        seen = []  # (seconds since the victim began, gauge)
        while True:
            value = lstest.metric(lstest.scrape(d), GAUGE, target=TARGET)
            t = (time.time_ns() - begin[0]) / 1e9
            seen.append((t, value))
            ended = [x for x, l in victim.lines["stdout"] if l == "scenario sleep end"]
            if ended or t > 6:
                break
            time.sleep(0.05)
        assert ended, "the 2 s sleep did not end within 6 s"
        during = [(t, v) for t, v in seen if v]
        print(f"  {len(seen)} scrapes during the stall, gauge: "
              + " ".join(f"{t:.2f}s={v:.2f}" for t, v in seen[::4]))
        peak = max((v for _, v in during), default=0)
        assert peak >= 1.0, f"stall in progress peaked at {peak} s during a 2 s stall: {seen}"
        assert peak <= 2.2, f"stall in progress {peak} s for a 2 s stall"
        for t, v in during:
            # the victim printed `begin` right before sleeping: the stall is no older
            assert v <= t + 0.1, f"gauge {v} s only {t:.2f} s after the stall began"
        values = [v for _, v in during]
        assert values == sorted(values), f"the gauge went down mid-stall: {values}"

        def settled():
            smp = lstest.scrape(d)
            done = (lstest.metric(smp, GAUGE, target=TARGET) == 0
                    and lstest.metric(smp, "loopstall_stalls_total", target=TARGET,
                                      cause="blocking_syscall") == 1)
            return smp if done else None
        lstest.wait_for("the gauge back to 0 and the stall counted", settled, 1.0)
        assert victim.wait(10) == 0, victim.text("stderr")
        d.signal(signal.SIGTERM)
        assert d.wait(10) == 0, d.text("stderr")


if __name__ == "__main__":
    lstest.main(test)
