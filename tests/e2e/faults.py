# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Helpers of the hardening tests (test_fault_*.py, test_security_*.py,
test_live_*.py): the fault victim, the agent's BPF maps and programs as the
kernel shows them, and waiting on a file another process writes."""
import json
import os
import re
import subprocess
import time

import lstest


def victim_argv(*args):
    """argv of tests/victims/fault_victim.c in the given mode."""
    return [lstest.env_path("VICTIM_FAULT"), *[str(a) for a in args]]


def bpftool(*args):
    """bpftool's JSON answer."""
    out = subprocess.run(["bpftool", "-j", *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout or "null")


def agent_maps(pid):
    """{map name: map id} of the BPF maps process pid holds open (its fdinfo)."""
    ids = set()
    fddir = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fddir):
        try:
            with open(os.path.join(fddir, fd)) as f:
                m = re.search(r"^map_id:\s*(\d+)", f.read(), re.M)
        except OSError:
            continue
        if m:
            ids.add(int(m.group(1)))
    names = {}
    for i in ids:
        info = bpftool("map", "show", "id", str(i))
        names[info["name"]] = i
    return names


def map_entries(map_id):
    """The entries of one map, as `bpftool map dump` shows them."""
    return bpftool("map", "dump", "id", str(map_id)) or []


def fd_targets(pid):
    """What each open fd of a process is (readlink of /proc/PID/fd/N)."""
    targets = []
    fddir = f"/proc/{pid}/fd"
    for fd in os.listdir(fddir):
        try:
            targets.append(os.readlink(os.path.join(fddir, fd)))
        except OSError:
            pass
    return targets


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def read_lines_now(path):
    """The complete lines a file holds right now, each parsed as JSON."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    recs = []
    for line in data.split(b"\n")[:-1]:
        recs.append(json.loads(line))
    return recs


def wait_record(path, pred, timeout, interval=0.001):
    """(monotonic time seen, record) of the first record in the file matching pred."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for r in read_lines_now(path):
            if pred(r):
                return time.monotonic(), r
        time.sleep(interval)
    raise AssertionError(f"{path}: no matching record within {timeout} s;"
                         f" records: {read_lines_now(path)}")


def victim_time(proc, prefix, timeout=15):
    """The CLOCK_REALTIME ns a victim printed after PREFIX (`blocking 123`)."""
    got = proc.wait_line("stdout", lambda l: l.startswith(prefix + " "), timeout)
    assert got, f"{proc.name} printed no '{prefix}' line; stdout:\n{proc.text('stdout')}"
    return int(got[1].split()[1])


def frame_names(stack):
    return [f.get("symbol") for f in stack]


def held_prog_ids():
    """Ids of the BPF programs some process holds: through a program fd or a
    link fd (both show prog_id in /proc/PID/fdinfo)."""
    held = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        fddir = f"/proc/{pid}/fdinfo"
        try:
            fds = os.listdir(fddir)
        except OSError:
            continue
        for fd in fds:
            try:
                with open(os.path.join(fddir, fd)) as f:
                    text = f.read()
            except OSError:
                continue
            for m in re.finditer(r"^prog_id:\s*(\d+)", text, re.M):
                held.add(int(m.group(1)))
    return held


def orphan_progs(before, settle=5.0):
    """Programs loaded since `before` (a set of ids) that no process holds:
    what an agent would leave attached after it exited. The kernel frees a
    detached program after an RCU grace period, so ones that go within
    `settle` seconds do not count."""
    deadline = time.monotonic() + settle
    while True:
        new = [p for p in bpftool("prog", "show") or [] if p["id"] not in before]
        orphans = []
        if new:
            held = held_prog_ids()
            orphans = [f"{p['id']}:{p.get('name')}" for p in new if p["id"] not in held]
        if not orphans or time.monotonic() > deadline:
            return orphans
        time.sleep(0.1)
