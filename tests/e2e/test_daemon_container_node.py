#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A Node.js service as a container runs it (issue 18): in a new pid and
mount namespace (`unshare -p -f --mount-proc`, a tmpfs of its own on /tmp,
so node is pid 1 there and writes /tmp/perf-1.map), inside a cgroup v2
group named like a docker scope. loopstalld, told to attach by container
id only, attaches it; the stall record and the metrics carry the
container_id, and the blocking stack names the interpreted JS function
(readFifoSync, kind js) through the namespaced perf map.

Fails when `match` by container does not attach it, when the container id
is missing from the record or the metric, or when the perf map is looked
up under the host pid (the JS frame is then an unnamed address)."""
import json
import os
import secrets
import shutil
import signal
import tempfile

import cgroups
import lstest
import nodefifo
from test_stack_node_pidns import child_pid, nspid


def stall_records(out):
    """The daemon's stall records, each stack_ref replaced by its stack
    record's frames (loopstalld bounds its lines: docs/records.md)."""
    path = os.path.join(out, "stalls.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        rs = [json.loads(l) for l in f if l.strip()]
    stacks = {r["id"]: r["frames"] for r in rs if r["type"] == "stack"}
    stalls = [r for r in rs if r["type"] == "stall"]
    for r in stalls:
        for sc in r.get("syscalls", []):
            if sc.get("stack_ref") in stacks:
                sc["stack"] = stacks[sc["stack_ref"]]
    return stalls


def test():
    lstest.require_root()
    if not shutil.which("unshare"):
        lstest.skip("no unshare(1)")
    cid = secrets.token_hex(32)
    node, script = lstest.victim("node_fifo.js")
    # the container's tmpfs hides /tmp, where a checkout may be: run a copy kept elsewhere
    keep = tempfile.mkdtemp(prefix="loopstall-container-", dir="/var/tmp")
    try:
        shutil.copy(script, keep)
        script = os.path.join(keep, os.path.basename(script))
        inner = (f"mount -t tmpfs tmpfs /tmp && mkfifo /tmp/fifo && exec {node} "
                 + " ".join(nodefifo.NODE_FLAGS) + f" {script} /tmp/fifo")
        with cgroups.Groups() as g, lstest.Session() as s:
            cg = g.make(f"system.slice/docker-{cid}.scope")
            out = os.path.join(s.dir, "out")
            d = lstest.start_daemon(s, ["--match", f"web=container:{cid[:12]}",
                                        "--output", out])
            target = s.start(g.shell_into(cg, ["unshare", "-p", "-f", "--mount-proc", "sh",
                                               "-c", inner]),
                             name="node in a container")
            node_pid = child_pid(target.pid)
            assert nspid(node_pid)[-1] == 1, f"node is not pid 1 of its namespace: {nspid(node_pid)}"
            lstest.wait_for("the container attached", lambda: f"attached to pid {node_pid} "
                            in d.text("stderr"), 10)
            errors = []
            writer = nodefifo.write_fifo_later(target, f"/proc/{node_pid}/root/tmp/fifo", errors)
            os.kill(node_pid, signal.SIGUSR2)
            rs = lstest.wait_for("node's stall record",
                                 lambda: [r for r in stall_records(out) if r["pid"] == node_pid],
                                 20, 0.2)
            writer.join(10)
            assert not errors, errors[0]
            st = rs[0]
            lstest.validator().validate(st)
            assert st.get("container_id") == cid, f"container_id {st.get('container_id')!r}"
            assert st.get("target") == "web", f"target {st.get('target')!r}"
            stack = st["syscalls"][0]["stack"] if st["syscalls"] else []
            own = [f for f in stack if f"JS:~{nodefifo.FUNCTION} " in (f.get("symbol") or "")]
            assert own and own[0]["kind"] == "js", (
                f"the interpreted {nodefifo.FUNCTION} is not named in the stack:\n"
                + lstest.format_stack(stack))
            # the exposition is republished 20 ms after a stall: the record can come first
            n = lstest.wait_for(
                "a stall counted with the container's id",
                lambda: lstest.metric(lstest.scrape(d), "loopstall_stalls_total", target="web",
                                      cause="blocking_syscall", container_id=cid,
                                      pod_uid="") or 0, 5)
            assert n >= 1, f"no stall counted with the container's id: {n}"
            print(f"  stall {lstest.brief(st)} in container {cid[:12]}, JS frame {own[0]['symbol']}")
    finally:
        shutil.rmtree(keep, ignore_errors=True)


if __name__ == "__main__":
    lstest.main(test)
