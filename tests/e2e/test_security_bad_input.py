#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Bad command-line input ends with one clear line on stderr and exit 2,
with nothing left attached (docs/architecture.md, Outputs: CLI):

  unknown flag, bad durations, a bad --ring-size, no such PID, no such
  thread, a kernel thread's PID (record, top and loopstalld -p), a command
  that cannot run (this one fails after BPF is loaded), not root (run as
  nobody with setpriv), a kernel without BTF (simulated: an empty tmpfs
  over /sys/kernel/btf in a private mount namespace, which is all the agent
  looks at before it loads).

loopstalld --match never picks a kernel thread either, even when a rule
matches its name.

"Nothing left attached": after each run, no BPF program loaded since it
started may remain that no process holds (bpftool prog show, against the
prog_id of every fd and link fd in /proc/*/fdinfo: other tracers on the
machine keep theirs).
"""
import os
import re
import shutil
import signal
import subprocess
import time

import faults
import lstest


def missing_pid():
    pid = 4000000
    while os.path.exists(f"/proc/{pid}"):
        pid += 1
    return pid


PF_KTHREAD = 0x00200000


def stat_flags(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[6])


def kernel_threads():
    """{pid: name} of the kernel threads (PF_KTHREAD), kthreadd (pid 2) first."""
    found = {}
    for pid in sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            if stat_flags(pid) & PF_KTHREAD:
                with open(f"/proc/{pid}/comm") as f:
                    found[pid] = f.read().strip()
        except (OSError, IndexError, ValueError):
            pass
    assert found, "no kernel thread in /proc"
    return found


def cases(target):
    ls = lstest.loopstall()
    kthread = str(next(iter(kernel_threads())))
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
        ("not a ring size", [ls, "record", "-p", pid, "--ring-size", "3M"], "--ring-size"),
        ("ring too small", [ls, "record", "-p", pid, "--ring-size", "2K"], "power of two"),
        ("no such PID", [ls, "record", "-p", str(missing_pid())], "no such process"),
        ("kernel thread", [ls, "record", "-p", kthread], "is a kernel thread"),
        ("kernel thread, top", [ls, "top", "-p", kthread], "is a kernel thread"),
        ("kernel thread, loopstalld",
         [lstest.daemon(), "-p", kthread, "--metrics-addr", "off"], "is a kernel thread"),
        ("bad ring_size, loopstalld",
         [lstest.daemon(), "--ring-size", "1000000", "--metrics-addr", "off"], "ring-size"),
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
        never_kernel_threads(s)


def never_kernel_threads(s):
    """loopstalld with rules matching every kernel thread's name: after a few
    scans it has attached to nothing."""
    names = sorted(set(kernel_threads().values()))
    matches = [a for n in names[:50] for a in ("--match", n)]
    d = lstest.start_daemon(s, ["--match", "kthreadd", "--match", "ksoftirqd/*",
                                "--match", "kworker/*", *matches])
    time.sleep(1.5)  # six scans at the default 250 ms
    targets = lstest.metric(lstest.scrape(d), "loopstall_targets")
    attached = re.findall(r"attached to pid \d+ \([^)]*\)", d.text("stderr"))
    print(f"  loopstalld --match on {len(names)} kernel thread names: loopstall_targets"
          f" {targets}, attached {attached}")
    assert targets == 0 and not attached, f"attached to kernel threads: {attached}"
    d.signal(signal.SIGTERM)
    assert d.wait(10) == 0, f"loopstalld on SIGTERM:\n{d.text('stderr')}"


if __name__ == "__main__":
    lstest.main(test)
