#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A libev timer callback reads a memory-mapped file that is not in the page
cache (tests/victims/page_fault.c: MADV_RANDOM, one byte per page): every
page is a major fault and the loop thread blocks on the disk outside any
syscall. One stall with cause page_fault, more than 100 major faults, and
the time blocked in faults the largest part of the stall.

On a VM whose disk answers from the host's cache, a one-page read costs the
faulting thread more CPU time (the virtio notification traps to the host)
than time blocked (measured here: 64 MiB, 16384 faults, 1.45 s of which
~57 % on CPU): the stall would rightly be `cpu`. So the victim runs in a
cgroup of its own whose reads from that disk are limited to READ_IOPS
(cgroup v1 blkio.throttle.read_iops_device or v2 io.max riops), like a
container on slow or throttled storage, and maps a smaller file.

Where no such limit can be set, the test runs unthrottled. The victim
prints the kernel's own account of the touching (schedstat, getrusage):
loopstall's major faults, blocked time and cause are checked against it,
and when faults did not dominate (a fast disk, a loaded machine) the test
skips after those checks (fails under CI=true), printing the numbers.
"""
import os
import re
import signal

import lstest

READ_IOPS = 2000
MIB_THROTTLED = 4  # 1024 faults: ~0.5 s at READ_IOPS
MIB_UNTHROTTLED = 64


def whole_disk(dev):
    """'MAJ:MIN' of the disk holding device number dev (a partition's parent)."""
    sysdir = f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}"
    if not os.path.exists(sysdir):
        return None  # overlay, btrfs subvolume, tmpfs...: no block device
    if os.path.exists(os.path.join(sysdir, "partition")):
        with open(os.path.join(sysdir, "..", "dev")) as f:
            return f.read().strip()
    return f"{os.major(dev)}:{os.minor(dev)}"


def cgroup2_root():
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if fields[2] == "cgroup2":
                return fields[1]
    return None


class ReadThrottle:
    """A cgroup whose reads from one disk are limited to `iops` per second;
    removed on exit. `cgroup` is None when neither cgroup v1 blkio nor v2 io
    can do it here."""

    def __init__(self, disk, iops):
        self.cgroup = None
        self.procs = None
        self.why = None
        name = f"loopstall-e2e-pf-{os.getpid()}"
        v1 = "/sys/fs/cgroup/blkio"
        try:
            if os.path.exists(os.path.join(v1, "blkio.throttle.read_iops_device")):
                self.cgroup = os.path.join(v1, name)
                os.mkdir(self.cgroup)
                self._write("blkio.throttle.read_iops_device", f"{disk} {iops}")
            else:
                root = cgroup2_root()
                if not root:
                    self.why = "no blkio (v1) or cgroup2 hierarchy"
                    return
                with open(os.path.join(root, "cgroup.controllers")) as f:
                    if "io" not in f.read().split():
                        self.why = f"{root}: no io controller"
                        return
                with open(os.path.join(root, "cgroup.subtree_control")) as f:
                    if "io" not in f.read().split():
                        with open(os.path.join(root, "cgroup.subtree_control"), "w") as w:
                            w.write("+io")
                self.cgroup = os.path.join(root, name)
                os.mkdir(self.cgroup)
                self._write("io.max", f"{disk} riops={iops}")
        except OSError as e:
            self.why = f"cannot set up {self.cgroup}: {e}"
            self.close()

    def _write(self, name, value):
        with open(os.path.join(self.cgroup, name), "w") as f:
            f.write(value)

    def add(self, pid):
        self._write("cgroup.procs", str(pid))

    def close(self):
        if self.cgroup and os.path.isdir(self.cgroup):
            try:
                os.rmdir(self.cgroup)  # its only process has exited (or was killed)
            except OSError:
                pass
        self.cgroup = None


def kernel_account(run):
    """The victim's `touched ...` line as a dict of numbers."""
    lines = [line for _, line in run.target.lines["stdout"] if line.startswith("touched ")]
    assert lines, f"the victim printed no 'touched' line:\n{run.target.text('stdout')}"
    return {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", lines[0])}


def check_resident(run):
    lines = [line for _, line in run.target.lines["stdout"] if line.startswith("resident ")]
    assert lines, f"the victim printed no 'resident' line:\n{run.target.text('stdout')}"
    m = re.match(r"resident (\d+) of (\d+) pages", lines[0])
    # a file still in the page cache would fault minor, not major: not this test's subject
    assert int(m.group(1)) <= int(m.group(2)) // 10, (
        f"the file was not evicted from the page cache: {lines[0]}")


def test():
    lstest.require_root()
    exe = lstest.env_path("VICTIM_PAGE_FAULT")
    tmpdir = os.environ.get("TMPDIR") or "/var/tmp"
    disk = whole_disk(os.stat(tmpdir).st_dev)
    throttle = ReadThrottle(disk, READ_IOPS) if disk else None
    try:
        if throttle and throttle.cgroup:
            print(f"  reads from disk {disk} limited to {READ_IOPS}/s in {throttle.cgroup}")
        else:
            why = throttle.why if throttle else f"{tmpdir} is on no block device"
            print(f"  unthrottled: {why}")
        throttled = bool(throttle and throttle.cgroup)
        mib = MIB_THROTTLED if throttled else MIB_UNTHROTTLED
        with lstest.Session() as s:
            target = s.start([exe, "--wait-signal", "--mib", str(mib)], "page_fault")
            if throttled:
                throttle.add(target.pid)
            rec = s.record(["-p", str(target.pid)])
            target.signal(signal.SIGUSR2)
            rc = target.wait(60)
            assert rc == 0, f"page_fault exited with {rc}; stderr:\n{target.text('stderr')}"
            run = s.finish(rec, target, timeout=20)
            lstest.show(run)
            lstest.check_records(run)
            check(run, throttled)
    finally:
        if throttle:
            throttle.close()


def check(run, throttled):
    check_resident(run)
    k = kernel_account(run)
    print(f"  victim (kernel's account of the touching): {k}")
    stalls = run.stalls_in(run.scenario_window("fault"))
    assert len(stalls) == 1, (
        "expected one stall in the scenario, got:\n"
        + "\n".join(lstest.brief(x) for x in run.stalls))
    st = stalls[0]
    in_syscalls = sum(x["total_ms"] for x in st["syscalls"])
    parts = {"fault_blocked_ms": st["fault_blocked_ms"], "on_cpu_ms": st["on_cpu_ms"],
             "runqueue_ms": st["runqueue_ms"], "in_syscalls_ms": in_syscalls}
    print(f"  loopstall: cause={st['cause']} duration_ms={st['duration_ms']:.1f}"
          f" major_faults={st['major_faults']} off_cpu_ms={st['off_cpu_ms']:.1f}"
          f" {', '.join(f'{n}={v:.1f}' for n, v in parts.items())}")

    assert st["major_faults"] > 100, f"major_faults = {st['major_faults']}"
    # the stall holds the touching and a little more (the mincore, the prints)
    assert k["major_faults"] <= st["major_faults"] <= k["major_faults"] * 1.1 + 10, (
        f"major_faults = {st['major_faults']}, the victim counted {k['major_faults']:.0f}")
    # the split must add up: time blocked in faults is part of the time off the CPU
    assert st["fault_blocked_ms"] <= st["off_cpu_ms"] + 1.0, (
        f"fault_blocked_ms {st['fault_blocked_ms']:.1f} exceeds off_cpu_ms"
        f" {st['off_cpu_ms']:.1f} (runqueue_ms {st['runqueue_ms']:.1f}): the wait for a CPU"
        f" after each wakeup is counted both in runqueue_ms and in fault_blocked_ms")
    slack = 0.25 * k["blocked_ms"] + 20
    assert abs(st["fault_blocked_ms"] - k["blocked_ms"]) <= slack, (
        f"fault_blocked_ms = {st['fault_blocked_ms']:.1f}, the victim measured"
        f" {k['blocked_ms']:.1f} ms blocked (±{slack:.1f})")

    # The cause the kernel's own account calls for (lstest.causes_called_for)
    expected = lstest.check_cause(st, k, "page_fault")
    shares = lstest.causes_called_for(k, "page_fault")[1]
    if expected != {"page_fault"}:
        lstest.skip(
            f"faults did not dominate the stall ({'throttled' if throttled else 'unthrottled'},"
            f" a fast disk or a loaded machine): the victim was blocked"
            f" {shares['page_fault']:.0%}, on CPU {shares['cpu']:.0%}, waiting for a CPU"
            f" {shares['preempted']:.0%} of {k['wall_ms']:.0f} ms")
    assert max(parts, key=parts.get) == "fault_blocked_ms", (
        f"fault_blocked_ms is not the largest part of the stall: {parts}")

if __name__ == "__main__":
    lstest.main(test)
