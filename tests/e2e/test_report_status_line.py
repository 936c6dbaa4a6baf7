#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""`loopstall record`'s live status line.

With stderr on a pseudo-terminal, record rewrites one line in place
(elapsed, stalls so far, events lost) and clears it at the end; the stall
count on it goes up once the stall ended. With stderr on a pipe it says
nothing but its usual one line. The records are the same either way.
"""
import os
import re
import subprocess
import threading

import lstest

STATUS = re.compile(r"\r\x1b\[Kloopstall: recording (\d+\.\d) s, (\d+) stalls?, (\d+) events? lost")


def run_on_pty(argv):
    master, slave = os.openpty()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=slave, start_new_session=True)
    os.close(slave)
    out = []

    def read():
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            out.append(data)

    t = threading.Thread(target=read, daemon=True)
    t.start()
    try:
        rc = p.wait(60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)
    t.join(5)
    os.close(master)
    return rc, b"".join(out).decode("utf-8", "replace")


def test():
    lstest.require_root()
    with lstest.Session() as s:
        demo = [lstest.demo_service(), "--scenarios", "sleep", "--sleep-ms", "300",
                "--linger-ms", "800"]
        out = s.out_path()
        rc, err = run_on_pty([lstest.loopstall(), "record", "-o", out, "--", *demo])
        if rc == 2 and lstest.BPF_ERROR_RE.search(err):
            lstest.skip(f"loopstall cannot load BPF here: {err.strip()}")
        assert rc == 0, f"record on a terminal: exit {rc}\n{err}"
        found = STATUS.findall(err)
        assert len(found) >= 3, f"no live status line (or too few updates): {err!r}"
        elapsed = [float(e) for e, _, _ in found]
        assert elapsed == sorted(elapsed), f"elapsed time goes back: {elapsed}"
        assert int(found[0][1]) == 0 and int(found[-1][1]) == 1, (
            f"stall count on the status line: {[n for _, n, _ in found]}")
        assert err.endswith("\r\x1b[K"), f"status line not cleared at the end: {err[-80:]!r}"
        records = lstest.read_records(out)
        assert sum(r["type"] == "stall" for r in records) == 1, "expected one stall record"

        rec = s.record(["--", *demo], wait_recording=False)
        rc = rec.wait(60)
        assert rc == 0, f"record on a pipe: exit {rc}"
        text = rec.text("stderr")
        assert "\r" not in text and " lost" not in text, f"status on a pipe: {text!r}"


if __name__ == "__main__":
    lstest.main(test)
