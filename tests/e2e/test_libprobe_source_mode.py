#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A libev program built with libprobe in source mode
(tests/victims/libev_source_mode.c: lprobe_ev.h, libprobe.a, lp_ev_attach)
recorded with `loopstall record -p`.

Its io callback on_client_read handles a request like a task: it awaits a
profile fetch (lp_await_begin/lp_await_end), then blocks for 250 ms in the
code after that await. The stall must name on_client_read, the io watcher
and its fd, and the span "fetch_profile". The heartbeat period set through
the API (lp_set_heartbeat_ms(5)) must show in the summary.
"""
import re

import lstest


def test():
    exe = lstest.env_path("VICTIM_LIBEV_SOURCE_MODE")
    with lstest.Session() as s:
        run = lstest.record_pid(s, [exe, "--wait-signal", "--ms", "250", "--heartbeat-ms", "5"],
                                name="libev_source_mode")
        ready = [line for _, line in run.target.lines["stdout"] if line.startswith("ready")]
        fd = int(re.search(r"fd=(\d+)", ready[0]).group(1))
        stalls = run.stalls_in(run.scenario_window("request"))
        assert len(stalls) == 1, (
            "expected one stall, got:\n" + "\n".join(lstest.brief(x) for x in run.stalls))
        st = stalls[0]
        lstest.assert_close(st["duration_ms"], 250, 0.10, "stall duration_ms")
        cb = lstest.check_callback(st, "on_client_read", "io")
        assert cb.get("fd") == fd, f"callback fd {cb.get('fd')}, the request pipe is {fd}: {cb}"
        assert cb.get("span", {}).get("name") == "fetch_profile", (
            f"expected the span after the await 'fetch_profile': {cb}")
        print(f"  {cb['symbol']} (io, fd {cb['fd']}) in span {cb['span']}")

        lp = run.thread(run.target.pid).get("libprobe")
        assert lp, "no libprobe numbers in the summary"
        assert lp["heartbeat_interval_ms"] == 5, lp
        assert lp["awaits"] >= 1, lp


if __name__ == "__main__":
    lstest.main(test)
