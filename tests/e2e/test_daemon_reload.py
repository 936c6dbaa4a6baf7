#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""loopstalld --config: SIGHUP reloads it; the records rotate by size.

Two copies of the demo service under names of their own, both stalling
(80 ms and 130 ms sleeps). The configuration first matches only `one`
(threshold 50 ms): `two` stays unattached. A reload that adds `two` and
raises the threshold to 100 ms attaches `two` within a second; its stall
records carry the new threshold, and `one`, already attached, takes it in
place (its 80 ms sleeps stop being stalls; it is not re-attached). A reload without
`one` detaches it; a broken file is refused and the running configuration
stays. Records go to a directory rotated at 4 KiB keeping 2 old files:
never more files, every line of every file a valid record. The file
also sets `ring_size` and `bpf_stats = on` (BPF run time counted); a reload
that changes them says they take a restart, and the run time stays counted.
"""
import json
import os
import secrets
import shutil
import signal
import time

import lstest


def targets(d):
    return lstest.metric(lstest.scrape(d), "loopstall_targets")


def write_config(path, text):
    # replace, never rewrite in place: the daemon may read it at any time
    with open(path + ".new", "w") as f:
        f.write(text)
    os.rename(path + ".new", path)


def stall_thresholds(out, pids):
    """{pid: {threshold_ms}} of the stall records in the files now, once every
    pid has one (None before); a file rotated away mid-read means try again."""
    found = {}
    try:
        for f in os.listdir(out):
            with open(os.path.join(out, f)) as fh:
                lines = fh.read().splitlines()
            for line in lines:
                r = json.loads(line)
                if r["type"] == "stall":
                    found.setdefault(r["pid"], set()).add(r["threshold_ms"])
    except (OSError, ValueError):
        return None
    return found if all(p in found for p in pids) else None


def reload(d, n_before):
    d.signal(signal.SIGHUP)
    lstest.wait_for("the reload logged", lambda: len(
        [l for _, l in d.lines["stderr"] if "reload" in l]) > n_before, 5)
    return len([l for _, l in d.lines["stderr"] if "reload" in l])


def test():
    lstest.require_root()
    with lstest.Session() as s:
        tag = secrets.token_hex(3)
        exes = {}
        for name in ("one", "two"):
            exes[name] = os.path.join(s.dir, f"lsdreload-{tag}-{name}")
            shutil.copy(lstest.demo_service(), exes[name])
        out = os.path.join(s.dir, "out")
        conf = os.path.join(s.dir, "loopstalld.conf")
        base = (f"# test configuration\noutput = {out}\noutput_max_size = 4K\n"
                f"output_keep = 2\nscan_interval = 100ms\n")
        write_config(conf, base + "ring_size = 256K\nbpf_stats = on\n"
                     f"threshold = 50ms\nmatch = one={os.path.basename(exes['one'])}\n")
        # the agent's own settings, taken at start only
        base += "ring_size = 2M\nbpf_stats = off\n"

        d = lstest.start_daemon(s, ["--config", conf])
        v1 = s.start([exes["one"], "--scenarios", "sleep", "--sleep-ms", "80", "--gap-ms", "100",
                      "--repeat", "1000", "--delay-ms", "0"], name="one", ready=False)
        v2 = s.start([exes["two"], "--scenarios", "sleep", "--sleep-ms", "130", "--gap-ms", "100",
                      "--repeat", "1000", "--delay-ms", "0"], name="two", ready=False)
        lstest.wait_for("one attached", lambda: targets(d) == 1, 3)
        time.sleep(1.0)
        assert targets(d) == 1, "attached to `two`, which the configuration does not name"

        write_config(conf, base + "threshold = 100ms\n"
                     f"match = one={os.path.basename(exes['one'])}\n"
                     f"match = two={os.path.basename(exes['two'])}\n")
        t0 = time.monotonic()
        n = reload(d, 0)
        lstest.wait_for("two attached after the reload", lambda: targets(d) == 2, 3)
        took = time.monotonic() - t0
        print(f"  two attached {took * 1e3:.0f} ms after SIGHUP")
        assert took <= 1.0, f"two attached {took:.2f} s after the reload"
        assert d.wait_line("stderr", lambda l: f"attached to pid {v2.pid} " in l
                           and 'target "two"' in l, 2)

        def two_stalls():
            return lstest.metric(lstest.scrape(d), "loopstall_stalls_total", target="two",
                                 cause="blocking_syscall") or 0
        lstest.wait_for("two's stalls counted", lambda: two_stalls() >= 3, 10)
        for key in ("ring_size", "bpf_stats"):
            assert d.wait_line("stderr", lambda l: f"{key} changed: that takes a restart" in l, 2)
        runs = lstest.metric(lstest.scrape(d), "loopstall_bpf_runs_total")
        assert runs > 0, "bpf_stats = on at start: the BPF runs are not counted"
        lstest.wait_for("BPF runs still counted after the reload", lambda: lstest.metric(
            lstest.scrape(d), "loopstall_bpf_runs_total") > runs, 5)
        # rotation keeps ~1 s of records: look at two's now
        thresholds = lstest.wait_for("stalls of two in the records",
                                     lambda: stall_thresholds(out, (v2.pid,)), 5, 0.2)
        print(f"  thresholds in the records after the reload: {thresholds}")
        assert thresholds[v2.pid] == {100}, f"two (attached after): {thresholds[v2.pid]}"
        # one, attached before: the new threshold in place, and no second attach
        assert d.wait_line("stderr", lambda l: f"pid {v1.pid} (target \"one\"): threshold "
                           "100.0 ms, was 50.0 ms (in place)" in l, 2)
        assert d.text("stderr").count(f"attached to pid {v1.pid} ") == 1, d.text("stderr")

        def one_stalls():
            return lstest.metric(lstest.scrape(d), "loopstall_stalls_total", target="one",
                                 cause="blocking_syscall") or 0
        before = one_stalls()
        time.sleep(1.0)
        assert one_stalls() == before, "one's 80 ms sleeps still stalls after the reload"

        write_config(conf, base + f"threshold = 100ms\nmatch = two={os.path.basename(exes['two'])}\n")
        n = reload(d, n)
        lstest.wait_for("one detached", lambda: targets(d) == 1, 3)
        assert d.wait_line("stderr", lambda l: f"detached from pid {v1.pid} " in l
                           and "no longer in the configuration" in l, 2)

        write_config(conf, base + "threshold = soon\n")
        n = reload(d, n)
        assert d.wait_line("stderr", lambda l: "reload failed" in l, 2)
        assert "loopstalld.conf:8: threshold: 'soon'" in d.text("stderr"), d.text("stderr")
        time.sleep(0.5)
        assert d.p.poll() is None and targets(d) == 1, "a bad file changed the running daemon"
        stalls_before = two_stalls()
        lstest.wait_for("two still traced", lambda: two_stalls() > stalls_before, 10)

        d.signal(signal.SIGTERM)
        assert d.wait(10) == 0, f"loopstalld on SIGTERM:\n{d.text('stderr')}"

        files = sorted(os.listdir(out))
        print(f"  output files: {[(f, os.path.getsize(os.path.join(out, f))) for f in files]}")
        assert set(files) <= {"stalls.jsonl", "stalls.jsonl.1", "stalls.jsonl.2"}, files
        assert "stalls.jsonl.2" in files, f"never rotated twice: {files}"
        records = []
        for f in files:
            recs = lstest.read_records(os.path.join(out, f))
            size = os.path.getsize(os.path.join(out, f))
            assert size <= 4096 or len(recs) == 1, f"{f}: {size} bytes in {len(recs)} records"
            records += recs
        assert [r for r in records if r["type"] == "stall" and r["pid"] == v2.pid], (
            "no stall of two in the last files")


if __name__ == "__main__":
    lstest.main(test)
