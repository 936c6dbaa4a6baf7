#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The end of a process is no loop stall (issue 15): a Python program builds
2 M objects before its loop starts, returns from asyncio.run() (which closes
the loop's epoll fd) and lets the interpreter free them at exit. That busy
period is written with "phase": "exit", counted in no stall total, and
neither `report` nor `doctor` blames it on a coroutine or a callback.

Fails when the agent reports the interpreter's exit as a plain cut-short
stall (no phase), or when report/doctor rank it."""
import subprocess

import lstest


def test():
    with lstest.Session() as s:
        run = lstest.record_pid(s, lstest.victim("py_nested_waits.py")
                                + ["--wait-signal", "--scenario", "exit_free"])
        exits = [r for r in run.all_stalls if r.get("phase") == "exit"]
        others = [r for r in run.all_stalls if r.get("phase") != "exit"]
        assert exits, "the interpreter's exit (freeing 2 M objects) was not reported as phase exit"
        assert not others, "stalls other than the exit:\n" + "\n".join(
            lstest.brief(r) for r in others)
        for r in exits:
            assert r["cut_short"], f"exit period not cut short: {lstest.brief(r)}"
            assert "exit" in r["advice"], r["advice"]
        assert run.thread(run.target.pid)["stalls"] == 0, f"summary counts it: {run.summary}"
        for cmd in ("report", "doctor"):
            out = subprocess.run([lstest.loopstall(), cmd, run.recorder.out], capture_output=True,
                                 text=True, timeout=30)
            assert out.returncode == 0, f"{cmd}: {out.stderr}"
            low = out.stdout.lower()
            for word in ("coroutine", "computes", "callback"):
                assert word not in low, f"{cmd} blames the exit ('{word}'):\n{out.stdout}"
        rep = subprocess.run([lstest.loopstall(), "report", run.recorder.out],
                             capture_output=True, text=True, timeout=30)
        assert "exit" in rep.stdout and "none" in rep.stdout, rep.stdout


if __name__ == "__main__":
    lstest.main(test)
