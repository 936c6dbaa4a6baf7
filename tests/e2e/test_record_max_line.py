#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""`loopstall record --max-line SIZE`: the daemon's bounded form, on request.

A 150 ms sleep 40 frames of 1 KiB deep (wait_loop --depth 40, --stack-bytes
32k) recorded with --max-line 2K: every line within 2048 bytes, newline
counted, and valid against the schema; the stall's stack is a stack record
named by stack_ref, cut from the outside (frames_cut) with its innermost
frames those of the sleep; `loopstall report` resolves it and says what was
left out. Without --max-line the stack is inline, as always.
"""
import subprocess

import lstest


def test():
    with lstest.Session() as s:
        argv = [lstest.env_path("VICTIM_WAIT_LOOP"), "ppoll", "sleep", "--ms", "150",
                "--depth", "40"]
        run = lstest.record_pid(s, argv, opts=["--stack-bytes", "32k", "--max-line", "2K"],
                                name="wait_loop --depth 40")
        with open(run.recorder.out, "rb") as f:
            lines = f.read().splitlines(keepends=True)
        longest = max(len(l) for l in lines)
        print(f"  {len(lines)} lines, longest {longest} B")
        assert longest <= 2048, f"a line of {longest} bytes under --max-line 2K"
        stacks = {r["id"]: r for r in run.records if r["type"] == "stack"}
        st = lstest.one_stall(run, "--max-line 2K")
        call = next(c for c in st["syscalls"] if c["name"] == "clock_nanosleep")
        assert call["stack"] == [] and call["stack_ref"] in stacks, call
        stack = stacks[call["stack_ref"]]
        assert stack["frames_cut"] > 0, "a 40-frame stack fit in 2K uncut"
        names = [f.get("symbol") for f in stack["frames"]]
        assert "stall_sleep" in names or "deep_frame" in names, names

        report = subprocess.run([lstest.loopstall(), "report", run.recorder.out],
                                capture_output=True, text=True, timeout=30)
        assert report.returncode == 0, report.stderr
        assert "deep_frame" in report.stdout, report.stdout
        assert f"{stack['frames_cut']} more frames left out to fit the line bound" in (
            report.stdout), report.stdout

        plain = lstest.record_pid(s, argv, opts=["--stack-bytes", "32k"],
                                  name="wait_loop --depth 40, inline")
        call = next(c for c in lstest.one_stall(plain, "inline")["syscalls"]
                    if c["name"] == "clock_nanosleep")
        assert len(call["stack"]) >= 30 and "stack_ref" not in call, len(call["stack"])
        assert not [r for r in plain.records if r["type"] == "stack"]


if __name__ == "__main__":
    lstest.main(test)
