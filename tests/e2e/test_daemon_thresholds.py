#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""loopstalld's per-target settings, and a reload that changes them in place.

Two copies of the demo service, each stalling 100 ms (sleeps) every ~400 ms.
The configuration gives `fast` a 20 ms threshold and `slow` 200 ms (the
global one is 50 ms): only fast's stalls are reported, in the records
(threshold_ms 20, with stacks) and the metrics. Then the thresholds are
swapped and `slow` gets `stacks=off`, and SIGHUP: the daemon logs each
change as made in place, neither process is attached a second time or
detached, fast's stalls stop and slow's are reported with threshold_ms 20
and no stacks. The summary written at exit has the host and a time.
"""
import json
import os
import secrets
import shutil
import signal
import socket
import time

import lstest


def write_config(path, text):
    with open(path + ".new", "w") as f:
        f.write(text)
    os.rename(path + ".new", path)


def stalls(out, pid, since_ns=0):
    path = os.path.join(out, "stalls.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        rs = [json.loads(l) for l in f.read().splitlines() if l.endswith("}")]
    return [r for r in rs if r["type"] in ("stall", "stall_begin") and r["pid"] == pid
            and r["start_unix_ns"] >= since_ns]


def test():
    lstest.require_root()
    with lstest.Session() as s:
        tag = secrets.token_hex(3)
        exes = {}
        for name in ("fast", "slow"):
            exes[name] = os.path.join(s.dir, f"lsdthr-{tag}-{name}")
            shutil.copy(lstest.demo_service(), exes[name])
        out = os.path.join(s.dir, "out")
        conf = os.path.join(s.dir, "loopstalld.conf")
        base = f"output = {out}\nscan_interval = 100ms\nthreshold = 50ms\n"
        fast_rule = f"match = fast={os.path.basename(exes['fast'])}"
        slow_rule = f"match = slow={os.path.basename(exes['slow'])}"
        write_config(conf, base + f"{fast_rule} threshold=20ms\n{slow_rule} threshold=200ms\n")
        d = lstest.start_daemon(s, ["--config", conf])
        v = {}
        for name in ("fast", "slow"):
            v[name] = s.start([exes[name], "--scenarios", "sleep", "--sleep-ms", "100",
                               "--gap-ms", "300", "--repeat", "1000", "--delay-ms", "0"],
                              name=name, ready=False)
        lstest.wait_for("both attached", lambda: lstest.metric(
            lstest.scrape(d), "loopstall_targets") == 2, 5)

        def count(target):
            return lstest.metric(lstest.scrape(d), "loopstall_stalls_total", target=target,
                                 cause="blocking_syscall") or 0
        lstest.wait_for("fast's stalls", lambda: count("fast") >= 4, 10)
        assert count("slow") == 0, "a 100 ms stall reported under a 200 ms threshold"
        assert not stalls(out, v["slow"].pid), "records of slow under a 200 ms threshold"
        rs = [r for r in stalls(out, v["fast"].pid) if r["type"] == "stall"]
        assert rs and all(r["threshold_ms"] == 20 for r in rs), [r["threshold_ms"] for r in rs]
        # (bounded records: the stack is a stack record, named by stack_ref)
        assert all(r["syscalls"] and (r["syscalls"][0]["stack"] or r["syscalls"][0].get("stack_ref"))
                   for r in rs), (
            "fast's stalls have no stacks")
        print(f"  before the reload: fast {count('fast')} stalls, slow {count('slow')}")

        write_config(conf, base + f"{fast_rule} threshold=200ms\n"
                     f"{slow_rule} threshold=20ms stacks=off\n")
        d.signal(signal.SIGHUP)
        assert d.wait_line("stderr", lambda l: "configuration reloaded" in l, 5)
        for name, now, was in (("fast", 200, 20), ("slow", 20, 200)):
            assert f'pid {v[name].pid} (target "{name}"): threshold {now:.1f} ms, was {was:.1f} ms (in place)' in d.text("stderr"), d.text("stderr")
        after_ns = lstest.now_ns()
        # a stall already running when the reload came may still end under the old threshold
        time.sleep(0.5)
        fast_before = count("fast")
        lstest.wait_for("slow's stalls after the reload", lambda: count("slow") >= 3, 10)
        assert count("fast") == fast_before, "fast still reported under a 200 ms threshold"
        rs = [r for r in stalls(out, v["slow"].pid, after_ns) if r["type"] == "stall"]
        assert rs, "no record of slow's stalls"
        for r in rs:
            assert r["threshold_ms"] == 20, r["threshold_ms"]
            assert not r["cpu_stacks"] and all(not sc["stack"] and "stack_ref" not in sc
                                               for sc in r["syscalls"]), (
                "slow has stacks=off, its record has stacks")
        assert not [r for r in stalls(out, v["fast"].pid, after_ns + 500000000)], (
            "records of fast after the reload")
        # the same processes, attached once: nothing was detached and attached again
        log = d.text("stderr")
        for name in ("fast", "slow"):
            assert log.count(f"attached to pid {v[name].pid} ") == 1, log
        assert "detached" not in log, log
        assert lstest.metric(lstest.scrape(d), "loopstall_targets") == 2
        print(f"  after the reload: fast {count('fast')} stalls, slow {count('slow')}")

        # the summary at exit carries the daemon's host and its time too
        d.signal(signal.SIGTERM)
        assert d.wait(10) == 0, d.text("stderr")
        with open(os.path.join(out, "stalls.jsonl")) as f:
            last = json.loads(f.read().splitlines()[-1])
        assert last["type"] == "summary", last["type"]
        lstest.validator().validate(last)
        assert last.get("host") == socket.gethostname() and last.get("time"), (
            {k: last.get(k) for k in ("host", "time")})


if __name__ == "__main__":
    lstest.main(test)
