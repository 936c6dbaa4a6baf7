#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""libprobe without the agent and without root: LPROBE_OUTPUT makes it
write its own stall records ("source":"libprobe", no kernel fields, cause
unknown), from its reporter thread.

The demo service under LD_PRELOAD must get one record per scenario naming
on_report_timer and on_stats_timer, valid against the schema; while it runs
its region /dev/shm/lprobe.PID is a 0600 file of its user, gone once it
exits. The source-mode victim's record names its span too.
"""
import os
import stat

import lstest


def records_of(sess, argv, name, out):
    """Runs argv to its end; checks its region file on the way; returns its records
    (out: the LPROBE_OUTPUT pattern, %p for the pid)."""
    target = sess.start(argv, name)
    path = f"/dev/shm/lprobe.{target.pid}"
    lstest.wait_for(f"{path} to appear", lambda: os.path.exists(path), 5)
    st = os.lstat(path)
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600, (
        f"{path}: mode {oct(st.st_mode)}, expected a regular file with mode 0600")
    assert st.st_uid == os.geteuid(), f"{path} is owned by uid {st.st_uid}"
    rc = target.wait(30)
    assert rc == 0, f"{name} exited with {rc}:\n{target.text('stderr')}"
    assert not os.path.exists(path), f"{path} left behind after exit"
    return lstest.read_records(out.replace("%p", str(target.pid)))


def check_stall(rec, symbol, watcher):
    assert rec["source"] == "libprobe" and rec["cause"] == "unknown", rec
    assert "syscalls" not in rec, "libprobe cannot know syscalls"
    cb = lstest.check_callback(rec, symbol, watcher)
    print(f"  {rec['duration_ms']} ms: {cb['symbol']} ({cb['watcher']}); recent:"
          f" {[r['symbol'] for r in cb['recent']]}")
    return cb


def test():
    with lstest.Session() as s:
        out = os.path.join(s.dir, "demo.%p.jsonl")
        argv = lstest.preloaded(
            [lstest.demo_service(), "--scenarios", "sleep,cpu", "--sleep-ms", "300",
             "--cpu-ms", "200"],
            LPROBE_OUTPUT=out, LPROBE_THRESHOLD_MS=100)
        recs = records_of(s, argv, "demo-service", out)
        stalls = [r for r in recs if r["type"] == "stall"]
        assert [(r["callback"] or {}).get("symbol") for r in stalls] == [
            "on_report_timer", "on_stats_timer"], "\n".join(str(r) for r in recs)
        check_stall(stalls[0], "on_report_timer", "timer")
        check_stall(stalls[1], "on_stats_timer", "timer")
        lstest.assert_close(stalls[0]["duration_ms"], 300, 0.10, "sleep stall duration_ms")
        lstest.assert_close(stalls[1]["duration_ms"], 200, 0.10, "cpu stall duration_ms")
        assert all(r["threshold_ms"] == 100 for r in stalls), stalls
        begins = [r for r in recs if r["type"] == "stall_begin"]
        assert len(begins) == 2, f"expected a stall_begin per stall: {begins}"

        # source mode: no LD_PRELOAD, libprobe.a is in the program
        out = os.path.join(s.dir, "source.jsonl")
        exe = lstest.env_path("VICTIM_LIBEV_SOURCE_MODE")
        recs = records_of(s, ["/usr/bin/env", f"LPROBE_OUTPUT={out}", exe, "--ms", "150"],
                          "libev_source_mode", out)
        stalls = [r for r in recs if r["type"] == "stall"]
        assert len(stalls) == 1, recs
        cb = check_stall(stalls[0], "on_client_read", "io")
        assert cb["span"]["name"] == "fetch_profile", cb


if __name__ == "__main__":
    lstest.main(test)
