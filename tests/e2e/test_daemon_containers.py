#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""loopstalld and `loopstall record` tell where a process runs.

Four copies of the demo service (one program name, 120 ms sleeps): one in
a cgroup v2 group named as Docker names a container's
(`docker-<64 hex>.scope`), one in a kubepods path as the kubelet's systemd
driver makes it (`kubepods-burstable-pod<uid with _>.slice/
cri-containerd-<64 hex>.scope`), one as its cgroupfs driver does
(`kubepods/besteffort/pod<uid>/<64 hex>`), one on the host. The daemon
matches by `container:<id prefix>`, `pod:<uid prefix>` and
`cgroup:<glob>` only: the first three are attached, the host one never. Their stall records carry `container_id`,
`pod_uid`, `cgroup`, the configured `target`, the `host` and an RFC 3339
`time` equal to `start_unix_ns` to the millisecond; the metrics carry the
ids as labels. `loopstall record -p` on the docker one adds the same fields.
"""
import datetime
import json
import os
import secrets
import shutil
import socket
import subprocess
import time

import cgroups
import lstest


def records(out):
    path = os.path.join(out, "stalls.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f.read().splitlines() if l.endswith("}")]


def rfc3339_ns(text):
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)
    return round(t.timestamp() * 1000) * 1000000


def check_context(r, want):
    for k, v in want.items():
        assert r.get(k) == v, f"{k}: {r.get(k)!r}, expected {v!r} in {lstest.brief(r)}"
    # time is start_unix_ns cut to the millisecond
    assert rfc3339_ns(r["time"]) == r["start_unix_ns"] // 1000000 * 1000000, (
        f"time {r['time']} against start_unix_ns {r['start_unix_ns']}")


def test():
    lstest.require_root()
    cid = secrets.token_hex(32)
    kid = secrets.token_hex(32)
    uid = "-".join(secrets.token_hex(n) for n in (4, 2, 2, 2, 6))
    fid = secrets.token_hex(32)
    fuid = "-".join(secrets.token_hex(n) for n in (4, 2, 2, 2, 6))
    with cgroups.Groups() as g, lstest.Session() as s:
        dock_cg = g.make(f"system.slice/docker-{cid}.scope")
        pod_cg = g.make("kubepods.slice/kubepods-burstable.slice/"
                        f"kubepods-burstable-pod{uid.replace('-', '_')}.slice/"
                        f"cri-containerd-{kid}.scope")
        fs_cg = g.make(f"kubepods/besteffort/pod{fuid}/{fid}")
        exe = os.path.join(s.dir, f"lsdcontainer-{secrets.token_hex(3)}")
        shutil.copy(lstest.demo_service(), exe)
        argv = [exe, "--scenarios", "sleep", "--sleep-ms", "120", "--gap-ms", "150",
                "--repeat", "1000", "--delay-ms", "0"]
        out = os.path.join(s.dir, "out")
        d = lstest.start_daemon(s, ["--match", f"dock=container:{cid[:12]}",
                                    "--match", f"k8s=pod:{uid[:8]}",
                                    "--match", "fs=cgroup:*/kubepods/besteffort/pod*",
                                    "--output", out])
        host = s.start(argv, name="on the host", ready=False)
        dock = s.start(g.shell_into(dock_cg, argv), name="in docker", ready=False)
        pod = s.start(g.shell_into(pod_cg, argv), name="in a pod", ready=False)
        fs = s.start(g.shell_into(fs_cg, argv), name="in a cgroupfs pod", ready=False)

        lstest.wait_for("the three containers attached", lambda: lstest.metric(
            lstest.scrape(d), "loopstall_targets") == 3, 5)
        assert d.wait_line("stderr", lambda l: f"attached to pid {dock.pid} " in l
                           and f"container {cid}" in l, 2), d.text("stderr")
        assert d.wait_line("stderr", lambda l: f"attached to pid {pod.pid} " in l
                           and "in a pod" in l, 2), d.text("stderr")

        def counted(target, **labels):
            return lstest.metric(lstest.scrape(d), "loopstall_stalls_total", target=target,
                                 cause="blocking_syscall", **labels) or 0
        lstest.wait_for("docker's stalls counted with its id",
                        lambda: counted("dock", container_id=cid, pod_uid="") >= 2, 10)
        lstest.wait_for("the pod's stalls counted with its ids",
                        lambda: counted("k8s", container_id=kid, pod_uid=uid) >= 2, 10)
        lstest.wait_for("the cgroupfs pod's stalls counted with its ids",
                        lambda: counted("fs", container_id=fid, pod_uid=fuid) >= 2, 10)
        smp = lstest.scrape(d)
        gaps = lstest.metric(smp, "loopstall_heartbeat_gap_seconds_count", target="k8s",
                             container_id=kid, pod_uid=uid)
        assert gaps and gaps > 0, "the pod's heartbeat histogram has no container labels"
        # matched by where it runs, not by name: the host copy is never attached
        time.sleep(0.5)
        assert f"attached to pid {host.pid} " not in d.text("stderr"), d.text("stderr")

        def by_pid():
            rs = [r for r in records(out) if r["type"] == "stall"]
            pids = {r["pid"] for r in rs}
            return rs if {dock.pid, pod.pid, fs.pid} <= pids else None
        rs = lstest.wait_for("stall records of both", by_pid, 10, 0.2)
        v = lstest.validator()
        name = socket.gethostname()
        for r in records(out):
            v.validate(r)
            assert r.get("pid") != host.pid, "a record of the host process"  # (stack records: none)
        for r in rs:
            if r["pid"] == dock.pid:
                check_context(r, {"container_id": cid, "cgroup": dock_cg, "target": "dock",
                                  "host": name})
                assert "pod_uid" not in r, r["pod_uid"]
            elif r["pid"] == pod.pid:
                check_context(r, {"container_id": kid, "pod_uid": uid, "cgroup": pod_cg,
                                  "target": "k8s", "host": name})
            else:
                check_context(r, {"container_id": fid, "pod_uid": fuid, "cgroup": fs_cg,
                                  "target": "fs", "host": name})
        begins = [r for r in records(out) if r["type"] == "stall_begin" and r["pid"] == dock.pid]
        assert begins, "no stall_begin record of the docker process"
        for r in begins:
            check_context(r, {"container_id": cid, "cgroup": dock_cg, "target": "dock",
                              "host": name})
        print(f"  {len(rs)} stall records, e.g. {json.dumps({k: rs[0].get(k) for k in ('time', 'target', 'host', 'container_id', 'pod_uid', 'cgroup')})}")

        # the one-shot recorder says where its process runs too (and time on every record)
        rec_out = os.path.join(s.dir, "record.jsonl")
        rc = subprocess.run([lstest.loopstall(), "record", "-p", str(dock.pid), "--duration",
                             "1500ms", "-o", rec_out], capture_output=True, text=True,
                            timeout=60)
        assert rc.returncode == 0, rc.stderr
        recs = lstest.read_records(rec_out)
        stalls = [r for r in recs if r["type"] == "stall"]
        assert stalls, f"record saw no stall: {rc.stderr}"
        for r in recs:
            v.validate(r)
            assert "time" in r, f"no time in {r['type']}"
        for r in stalls:
            check_context(r, {"container_id": cid, "cgroup": dock_cg})
            assert "target" not in r and "host" not in r


if __name__ == "__main__":
    lstest.main(test)
