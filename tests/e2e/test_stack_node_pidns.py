#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The victim of test_stack_node_interpreted.py in a container's
namespaces: `unshare -p -f --mount-proc`, with a tmpfs of its own on /tmp.
Node is pid 1 there and writes /tmp/perf-1.map into that tmpfs: the agent
must take the innermost pid from NSpid and open the map through the
target's root. (Under the host pid, or the host's /tmp, there is no map and
readFifoSync would be an address.)
"""
import os
import shutil
import tempfile
import time

import lstest
import nodefifo


def child_pid(pid, timeout=10):
    """The one child of pid (unshare's forked child, which execs node)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                kids = f.read().split()
        except FileNotFoundError:
            kids = []
        if kids:
            return int(kids[0])
        time.sleep(0.02)
    raise AssertionError(f"unshare (pid {pid}) started no child in {timeout} s")


def nspid(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("NSpid:"):
                return [int(x) for x in line.split()[1:]]
    return []


def test():
    lstest.require_root()
    if not shutil.which("unshare"):
        lstest.skip("no unshare(1)")
    node, script = lstest.victim("node_fifo.js")
    # the tmpfs hides whatever was under /tmp, the checkout too when it is
    # there (CI clones into a temporary folder): run a copy kept elsewhere
    keep = tempfile.mkdtemp(prefix="loopstall-pidns-", dir="/var/tmp")
    shutil.copy(script, keep)
    script = os.path.join(keep, os.path.basename(script))
    inner = (f"mount -t tmpfs tmpfs /tmp && mkfifo /tmp/fifo && exec {node} "
             + " ".join(nodefifo.NODE_FLAGS) + f" {script} /tmp/fifo")
    try:
        run_in_namespace(inner)
    finally:
        shutil.rmtree(keep, ignore_errors=True)


def run_in_namespace(inner):
    with lstest.Session() as s:
        target = s.start(["unshare", "-p", "-f", "--mount-proc", "sh", "-c", inner],
                         name="node_fifo.js in a pid+mount namespace")
        node_pid = child_pid(target.pid)
        ids = nspid(node_pid)
        print(f"  node: host pid {node_pid}, NSpid {ids}")
        assert len(ids) == 2 and ids[-1] == 1, f"node is not pid 1 of a new pid namespace: {ids}"
        assert not os.path.exists(f"/tmp/perf-{node_pid}.map")
        fifo = f"/proc/{node_pid}/root/tmp/fifo"
        run = nodefifo.record(s, target, node_pid, fifo)
        assert run.stalls and all(x["pid"] == node_pid for x in run.stalls), (
            "stalls not reported under node's host pid")
        nodefifo.check_named(run)
        nodefifo.check_outputs(run.recorder.out)


if __name__ == "__main__":
    lstest.main(test)
