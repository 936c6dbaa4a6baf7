#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""docs/deploy/daemonset.yaml and Containerfile agree with the daemon.

Docker and Kubernetes cannot run here, so the example is checked against
the sources it describes: the YAML parses; the pod shares the host's pid
namespace; its capabilities are exactly the documented ones, and hold every
one loopstalld keeps after start-up (daemon/loopstalld_caps.c) plus those it
needs to load; the metrics port of the container, of the scrape annotation,
of the configuration it is given and of the Containerfile's EXPOSE is the
daemon's default port (daemon/config.h); the kernel paths it needs are
mounted from the host; and the configuration it ships is one loopstalld
reads without an error (run unprivileged, it gets as far as asking for root).
"""
import os
import re
import subprocess
import sys
import tempfile

import yaml

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# what loading needs beyond what is kept (docs/loopstalld.md, "Containers and Kubernetes")
LOAD_ONLY = {"SYS_RESOURCE", "SETPCAP"}


def read(rel):
    with open(os.path.join(SRC, rel)) as f:
        return f.read()


def default_port():
    m = re.search(r'#define LS_CONFIG_DEFAULT_ADDR "[^"]*:(\d+)"', read("daemon/config.h"))
    assert m, "LS_CONFIG_DEFAULT_ADDR not found in daemon/config.h"
    return int(m.group(1))


def kept_caps():
    caps = set(re.findall(r'\{ CAP_(\w+), "CAP_\w+" \}', read("daemon/loopstalld_caps.c")))
    assert caps, "no capability table in daemon/loopstalld_caps.c"
    return caps


def documented_keys():
    doc = read("docs/loopstalld.md")
    return set(re.findall(r"^\| `(\w+)` \|", doc, re.M))


def check_config(daemon, conf):
    """loopstalld reads the configuration before it checks for root: as an
    unprivileged user a good file gets it as far as that refusal."""
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as f:
        f.write(conf)
        f.flush()
        os.chmod(f.name, 0o644)
        argv = [daemon, "--config", f.name]
        if os.geteuid() == 0:
            argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "must run as root" in r.stderr, (
        f"the ConfigMap's configuration: exit {r.returncode}: {r.stderr}")


def main():
    docs = [d for d in yaml.safe_load_all(read("docs/deploy/daemonset.yaml")) if d]
    kinds = {d["kind"]: d for d in docs}
    assert {"Namespace", "ConfigMap", "DaemonSet"} <= set(kinds), sorted(kinds)
    ds = kinds["DaemonSet"]
    pod = ds["spec"]["template"]
    spec = pod["spec"]
    assert ds["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert spec.get("hostPID") is True, "hostPID must be true: loopstalld attaches to host pids"
    assert not spec.get("hostNetwork"), "the pod's own address serves /metrics"
    (c,) = spec["containers"]
    sc = c["securityContext"]
    assert sc.get("privileged") is False and sc.get("allowPrivilegeEscalation") is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    added = set(sc["capabilities"]["add"])
    want = kept_caps() | LOAD_ONLY
    assert added == want, f"capabilities {sorted(added)}, expected {sorted(want)}"
    doc = read("docs/loopstalld.md")
    for cap in want:
        assert f"CAP_{cap}" in doc, f"CAP_{cap} is not documented in docs/loopstalld.md"

    port = default_port()
    ports = [p["containerPort"] for p in c["ports"] if p.get("name") == "metrics"]
    assert ports == [port], f"containerPort {ports}, the daemon's default is {port}"
    ann = pod["metadata"]["annotations"]
    assert ann["prometheus.io/scrape"] == "true"
    assert int(ann["prometheus.io/port"]) == port, ann
    conf = kinds["ConfigMap"]["data"]["loopstalld.conf"]
    m = re.search(r"^metrics_addr\s*=\s*(\S+):(\d+)\s*$", conf, re.M)
    assert m and int(m.group(2)) == port and m.group(1) == "0.0.0.0", (
        "the configuration must serve the default port on the pod's address")
    m = re.search(r"^EXPOSE (\d+)$", read("docs/deploy/Containerfile"), re.M)
    assert m and int(m.group(1)) == port, "the Containerfile exposes another port"
    assert re.search(r"^FROM debian:12", read("docs/deploy/Containerfile"), re.M)

    keys = documented_keys()
    assert "match" in keys and "threshold" in keys, f"key table not found: {sorted(keys)}"
    for line in conf.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key = line.split("=", 1)[0].strip()
            assert key in keys, f"configuration key {key!r} is not documented"
    if len(sys.argv) > 1:
        check_config(sys.argv[1], conf)

    host = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    for path in ("/sys/kernel/btf", "/sys/kernel/tracing", "/sys/kernel/debug"):
        names = [n for n, p in host.items() if p == path]
        assert names and mounts.get(names[0]) == path, f"{path} is not mounted from the host"
    print(f"ok: hostPID, {len(added)} capabilities, port {port}, {len(host)} host paths")
    return 0


if __name__ == "__main__":
    sys.exit(main())
