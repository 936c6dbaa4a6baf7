#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Names the target chooses end up in the records: its thread name (comm)
and the paths of the files it blocks on. fault_victim `names` names its loop
thread "\\xff\\xfe\\"q\\nx\\\\u\\x01" and blocks 300 ms reading a FIFO whose path
holds a newline, a quote, invalid UTF-8 and a terminal escape.

The output must stay valid JSON Lines: one record per line (newlines
escaped), every line valid UTF-8 JSON (RFC 8259; strict readers such as
Python's json reject anything else), and the stall's fd target still
recognisable.
"""
import json
import signal
import time

import faults
import lstest


def test():
    lstest.require_root()
    with lstest.Session() as s:
        target = s.start(faults.victim_argv("names"), name="fault_victim")
        rec = s.record(["-p", str(target.pid)])
        time.sleep(0.3)
        target.signal(signal.SIGUSR2)
        assert target.wait(15) == 0, target.text("stderr")
        rc = rec.wait(20)
        assert rc == 0, f"recorder exited {rc}: {rec.text('stderr')}"
        with open(rec.out, "rb") as f:
            raw = f.read()
        lines = raw.split(b"\n")
        assert lines[-1] == b"", "last line not terminated"
        failures, records = [], []
        for n, line in enumerate(lines[:-1], 1):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as e:
                failures.append(
                    f"BUG: line {n} is not valid UTF-8 ({e}): the target's comm and fd paths are"
                    " copied byte for byte into JSON strings (jsonout.c/cJSON); invalid bytes"
                    f" must be escaped or replaced: {line[:160]!r}")
                text = line.decode("utf-8", "replace")
            try:
                records.append(json.loads(text))
            except ValueError as e:
                failures.append(f"line {n} is not one JSON record ({e}): {line[:160]!r}")
        types = [r.get("type") for r in records]
        print(f"  {len(records)} records: {types}")
        if types[-1:] != ["summary"] or types.count("stall") != 1:
            failures.append(f"expected one stall and the summary last, got {types}")
        stalls = [r for r in records if r.get("type") == "stall"]
        if stalls:
            st = stalls[0]
            print(f"  comm {st['comm']!r}; targets {[sc['target'] for sc in st['syscalls']]}")
            reads = [sc for sc in st["syscalls"] if sc["name"] == "read"]
            if not reads or "fifo" not in (reads[0]["target"] or ""):
                failures.append(f"the read's target does not name the FIFO: {reads}")
            if "q" not in st["comm"]:
                failures.append(f"comm lost: {st['comm']!r}")
        if not failures:
            for r in records:
                for err in lstest.validator().iter_errors(r):
                    failures.append(f"schema: {err.message}")
        assert not failures, "\n".join(failures)


if __name__ == "__main__":
    lstest.main(test)
