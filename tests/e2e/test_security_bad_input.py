#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Bad command-line input ends with one clear line on stderr and exit 2,
with nothing left attached (DESIGN.md, CLI contract):

  unknown flag, bad durations, no such PID, no such thread, a command that
  cannot run (this one fails after BPF is loaded), not root (run as nobody
  with setpriv), a kernel without BTF (simulated: an empty tmpfs over
  /sys/kernel/btf in a private mount namespace, which is all the agent
  looks at before it loads).

"Nothing left attached": after each run, no BPF program loaded since it
started may remain that no process holds (bpftool prog show, against the
prog_id of every fd and link fd in /proc/*/fdinfo: other tracers on the
machine keep theirs).
"""
import os
import shutil
import subprocess

import faults
import lstest


def missing_pid():
    pid = 4000000
    while os.path.exists(f"/proc/{pid}"):
        pid += 1
    return pid


def cases(target):
    ls = lstest.loopstall()
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    no_btf = ["unshare", "-m", "sh", "-c",
              'mount -t tmpfs -o size=1m none /sys/kernel/btf && exec "$0" "$@"']
    pid = str(target.pid)
    return [
        ("unknown flag", [ls, "record", "--no-such-flag", "-p", pid], "unknown option"),
        ("unknown short flag", [ls, "record", "-x", "-p", pid], "unknown option"),
        ("bad --duration", [ls, "record", "-p", pid, "--duration", "5xs"], "invalid duration"),
        ("bad --threshold", [ls, "record", "-p", pid, "--threshold", "-1ms"], "invalid duration"),
        ("zero --threshold", [ls, "record", "-p", pid, "--threshold", "0"], "invalid duration"),
        ("huge --duration", [ls, "record", "-p", pid, "--duration", "1e400s"], "invalid duration"),
        ("no such PID", [ls, "record", "-p", str(missing_pid())], "no such process"),
        ("bad PID", [ls, "record", "-p", "12abc"], "invalid pid"),
        ("no such thread", [ls, "record", "-p", pid, "-t", str(missing_pid())], "no thread"),
        ("command that cannot run", [ls, "record", "--", "/nonexistent/command"], "cannot run"),
        ("not root", [*nobody, ls, "record", "-p", pid], "root"),
        ("not root, command", [*nobody, ls, "record", "--", "true"], "root"),
        ("no BTF", [*no_btf, ls, "record", "-p", pid], "BTF"),
    ]


def test():
    lstest.require_root()
    for tool in ("setpriv", "unshare", "bpftool"):
        if not shutil.which(tool):
            lstest.skip(f"{tool} is not installed")
    failures = []
    with lstest.Session() as s:
        target = s.start([lstest.demo_service(), "--wait-signal", "--idle-ms", "60000"])
        for name, argv, want in cases(target):
            before = {p["id"] for p in faults.bpftool("prog", "show") or []}
            p = subprocess.run(argv, capture_output=True, text=True, errors="replace",
                               timeout=60, stdin=subprocess.DEVNULL)
            lines = [l for l in p.stderr.splitlines() if l.strip()]
            orphans = faults.orphan_progs(before)
            print(f"  {name}: exit {p.returncode}: {lines}")
            problems = []
            if p.returncode != 2:
                problems.append(f"exit {p.returncode}, not 2")
            if len(lines) != 1:
                problems.append(f"{len(lines)} stderr lines, not 1")
            elif want.lower() not in lines[0].lower() or not lines[0].startswith("loopstall"):
                problems.append(f"message does not say {want!r}: {lines[0]}")
            if p.stdout.strip():
                problems.append(f"wrote to stdout: {p.stdout[:200]!r}")
            if orphans:
                problems.append(f"BPF programs left loaded with no owner: {orphans}")
            if problems:
                failures.append(f"{name}: " + "; ".join(problems))
        assert target.p.poll() is None, "the target died"
    assert not failures, "\n".join(failures)


if __name__ == "__main__":
    lstest.main(test)
