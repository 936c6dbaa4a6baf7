#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A real Prometheus scrapes loopstalld; every PromQL expression of the
dashboard and of the alert rules returns at least one series.

loopstalld follows two demo services that stall over and over: `api`, a
1.2 s sleep (blocking_syscall, long enough for LoopstallLoopStalled) and a
150 ms computation (cpu); `worker`, 60 ms sleeps eight times a second (enough
for LoopstallStallRate). Prometheus (Debian's package) runs on 127.0.0.1 with a
free port, a temporary storage directory, a 1 s scrape and evaluation
interval and dashboards/alerts.yml loaded; its loopstalld job has a second,
dead instance, as an agent that is down (LoopstallAgentDown's `up == 0`),
and a third, a loopstalld with no target (LoopstallNoTargets).

The expressions are taken from dashboards/loopstall.json (every target of
every panel, and the selector of every label_values() variable, which must
yield the variable's label) and dashboards/alerts.yml, with
$__rate_interval = 10s and every template variable = .*. Each must return
at least one series. Then every rule must be healthy and every alert
pending or firing.
"""
import json
import os
import re
import signal
import subprocess
import time
import urllib.parse

import yaml

import lstest

RATE_INTERVAL = "10s"
VARIABLES = ("job", "instance", "target", "datasource")


def substitute(expr):
    out = expr.replace("$__rate_interval", RATE_INTERVAL)
    for v in VARIABLES:
        out = out.replace("${" + v + "}", ".*").replace("$" + v, ".*")
    assert "$" not in out, f"unknown variable left in {expr!r}"
    return out


def panels(dash):
    for p in dash["panels"]:
        yield p
        yield from p.get("panels", [])


def expressions(dash_dir):
    """[(where, PromQL, label the result must have or None)]"""
    with open(os.path.join(dash_dir, "loopstall.json")) as f:
        dash = json.load(f)
    out = []
    for p in panels(dash):
        for t in p.get("targets", []):
            out.append((f"panel {p['id']} '{p['title']}' {t['refId']}", substitute(t["expr"]), None))
    for v in dash["templating"]["list"]:
        if v["type"] != "query":
            continue
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", q.strip())
        assert m, f"variable {v['name']}: not label_values(SELECTOR, LABEL): {q}"
        out.append((f"variable ${v['name']}", substitute(m.group(1)), m.group(2)))
    with open(os.path.join(dash_dir, "alerts.yml")) as f:
        rules = yaml.safe_load(f)
    for g in rules["groups"]:
        for r in g["rules"]:
            name = r.get("alert") or r.get("record")
            out.append((f"rule {name}", r["expr"], None))
    return out


def api(base, path, **params):
    url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    status, body = lstest.http_get(url, timeout=10)
    assert status == 200, f"GET {url}: {status} {body[:300]}"
    data = json.loads(body)
    assert data["status"] == "success", f"{url}: {data}"
    return data["data"]


def start_prometheus(s, daemon_ports, dead_port):
    port = lstest.free_port()
    cfg = os.path.join(s.dir, "prometheus.yml")
    with open(cfg, "w") as f:
        yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s",
                       "scrape_timeout": "900ms"},
            "rule_files": [os.path.join(lstest.dashboards(), "alerts.yml")],
            "scrape_configs": [{
                "job_name": "loopstalld",
                "static_configs": [{"targets": [f"127.0.0.1:{p}"
                                                for p in (*daemon_ports, dead_port)]}],
            }],
        }, f)
    prom = s.start(["prometheus", f"--config.file={cfg}",
                    f"--storage.tsdb.path={os.path.join(s.dir, 'tsdb')}",
                    f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
                    "--storage.tsdb.retention.time=1h"], name="prometheus", ready=False)
    base = f"http://127.0.0.1:{port}"

    def ready():
        assert prom.p.poll() is None, f"prometheus exited: {prom.text('stderr')}"
        try:
            return lstest.http_get(base + "/-/ready", timeout=2)[0] == 200
        except OSError:
            return False
    lstest.wait_for("prometheus ready", ready, 30, interval=0.2)
    return base


def test():
    lstest.require_root()
    if not lstest.shutil.which("prometheus"):
        lstest.skip("prometheus is not installed")
    with lstest.Session() as s:
        victim = s.start([lstest.demo_service(), "--scenarios", "sleep,cpu", "--sleep-ms", "1200",
                          "--cpu-ms", "150", "--gap-ms", "250", "--repeat", "1000",
                          "--wait-signal"])
        # many short stalls: enough for LoopstallStallRate within seconds
        worker = s.start([lstest.demo_service(), "--scenarios", "sleep", "--sleep-ms", "60",
                          "--gap-ms", "60", "--repeat", "1000", "--wait-signal"])
        d = lstest.start_daemon(s, ["-p", f"api={victim.pid}", "-p", f"worker={worker.pid}"])
        daemon_port = int(d.metrics_url.rsplit(":", 1)[1].split("/")[0])
        idle = lstest.start_daemon(s, [], name="loopstalld (no target)")
        idle_port = int(idle.metrics_url.rsplit(":", 1)[1].split("/")[0])
        dead_port = lstest.free_port()
        victim.signal(signal.SIGUSR2)
        worker.signal(signal.SIGUSR2)
        base = start_prometheus(s, (daemon_port, idle_port), dead_port)

        exprs = expressions(lstest.dashboards())
        print(f"  {len(exprs)} expressions: "
              f"{sum(1 for w, _, _ in exprs if w.startswith('panel'))} panel targets, "
              f"{sum(1 for w, _, _ in exprs if w.startswith('variable'))} variables, "
              f"{sum(1 for w, _, _ in exprs if w.startswith('rule'))} rules")
        pending = list(exprs)
        deadline = time.monotonic() + 60
        while pending and time.monotonic() < deadline:
            for v in (victim, worker):
                assert v.p.poll() is None, f"{v.name} exited: {v.text('stderr')}"
            still = []
            for where, q, label in pending:
                res = api(base, "/api/v1/query", query=q)["result"]
                if label:
                    res = [r for r in res if r["metric"].get(label)]
                if not res:
                    still.append((where, q, label))
            pending = still
            if pending:
                time.sleep(1)
        assert not pending, ("expressions without a series after 60 s:\n" + "\n".join(
            f"  {w}: {q}" for w, q, _ in pending))
        print(f"  every expression had a series after {60 - (deadline - time.monotonic()):.1f} s")

        # once more, a few scrapes later, to show what they say
        time.sleep(3)
        final = {}
        for where, q, label in exprs:
            res = api(base, "/api/v1/query", query=q)["result"]
            assert res, f"{where}: no series any more: {q}"
            final[where] = res
            print(f"  ok {where}: {len(res)} series, e.g. "
                  f"{ {k: v for k, v in res[0]['metric'].items() if k != '__name__'} }"
                  f" = {res[0]['value'][1]}")

        def values(prefix):
            return [float(r["value"][1]) for w, res in final.items() if w.startswith(prefix)
                    for r in res]
        assert max(values("panel 2 ")) > 0, "stall rate is 0 everywhere"
        assert max(values("panel 9 ")) > 0, "no loop iterations"
        assert [v for v in values("panel 7 ") if v == v], "heartbeat quantiles all NaN"

        # what Prometheus stored is what loopstalld counted, under the configured name
        stalls = api(base, "/api/v1/query",
                     query='loopstall_stalls_total{target="api",cause="blocking_syscall"}')
        assert stalls["result"] and float(stalls["result"][0]["value"][1]) >= 1, stalls
        down = api(base, "/api/v1/query", query='up{job="loopstalld"} == 0')["result"]
        assert [r["metric"]["instance"] for r in down] == [f"127.0.0.1:{dead_port}"], down

        groups = api(base, "/api/v1/rules")["groups"]
        rules = [r for g in groups for r in g["rules"]]
        assert len(rules) == 4, f"{len(rules)} rules loaded"
        for r in rules:
            assert r["health"] == "ok", f"rule {r['name']}: {r['health']} {r.get('lastError')}"
        alerts = api(base, "/api/v1/alerts")["alerts"]
        states = {}
        for a in alerts:
            states.setdefault(a["labels"]["alertname"], set()).add(a["state"])
        print(f"  alerts: { {k: sorted(v) for k, v in states.items()} }")
        for name in ("LoopstallLoopStalled", "LoopstallStallRate", "LoopstallAgentDown",
                     "LoopstallNoTargets"):
            assert name in states, f"alert {name} neither pending nor firing: {states}"
        assert "firing" in states["LoopstallLoopStalled"], states

        d.signal(signal.SIGTERM)
        assert d.wait(10) == 0, f"loopstalld on SIGTERM:\n{d.text('stderr')}"


if __name__ == "__main__":
    lstest.main(test)
