#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Static checks of dashboards/ (no root, no Grafana).

loopstall.json: a uid and schemaVersion, no __inputs (the data source comes
from a `datasource` variable of type datasource), job/instance/target query
variables that accept "All" as .*, unique panel ids, every panel and target
on ${datasource}, a unit on every panel, every range in every expression
$__rate_interval, only metric names loopstalld exports, every selector
narrowed by $job and $instance, the panels the dashboard promises, and a
grid without overlaps. alerts.yml, prometheus.yml and the provisioning files
parse and hold what docs/loopstalld.md says they do.
"""
import json
import os
import re

import yaml

import lstest

DS = {"type": "prometheus", "uid": "${datasource}"}
# families loopstalld exports (docs/architecture.md, Outputs: Metrics)
FAMILIES = {
    "loopstall_stall_duration_seconds": "histogram",
    "loopstall_stalls_total": "counter",
    "loopstall_heartbeat_gap_seconds": "histogram",
    "loopstall_loop_busy_seconds_total": "counter",
    "loopstall_loop_iterations_total": "counter",
    "loopstall_blocking_syscall_seconds_total": "counter",
    "loopstall_stall_in_progress_seconds": "gauge",
    "loopstall_lost_events_total": "counter",
    "loopstall_targets": "gauge",
    "loopstall_bpf_run_seconds_total": "counter",
    "loopstall_bpf_runs_total": "counter",
    "loopstall_build_info": "gauge",
}


def known(name):
    if name in FAMILIES:
        return True
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)] if name.endswith(suffix) else None
        if base and FAMILIES.get(base) == "histogram":
            return True
    return False


def all_panels(dash):
    for p in dash["panels"]:
        yield p
        yield from p.get("panels", [])


def check_dashboard(path):
    with open(path) as f:
        dash = json.load(f)
    problems = []
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,40}", dash.get("uid", "")), f"uid: {dash.get('uid')!r}"
    assert isinstance(dash.get("schemaVersion"), int) and dash["schemaVersion"] >= 36, (
        f"schemaVersion {dash.get('schemaVersion')!r}")
    assert dash.get("title"), "no title"
    assert "__inputs" not in dash and "__requires" not in dash, (
        "exported for sharing (__inputs): the data source must come from a variable")

    variables = {v["name"]: v for v in dash["templating"]["list"]}
    ds = variables.get("datasource")
    assert ds and ds["type"] == "datasource" and ds["query"] == "prometheus", (
        f"no `datasource` variable of type datasource on prometheus: {ds}")
    for name in ("job", "instance", "target"):
        v = variables.get(name)
        assert v and v["type"] == "query", f"no query variable ${name}"
        if v["datasource"] != DS:
            problems.append(f"variable ${name}: datasource {v['datasource']}")
        if not (v.get("includeAll") and v.get("allValue") == ".*"):
            problems.append(f"variable ${name}: 'All' must be .* for =~ matchers")

    panels = list(all_panels(dash))
    ids = [p.get("id") for p in panels]
    dups = {i for i in ids if ids.count(i) > 1}
    if dups or not all(isinstance(i, int) and i > 0 for i in ids):
        problems.append(f"panel ids not unique positive integers: {ids}")

    exprs = []
    cells = {}
    for p in panels:
        where = f"panel {p.get('id')} '{p.get('title')}'"
        g = p["gridPos"]
        if g["x"] < 0 or g["w"] <= 0 or g["x"] + g["w"] > 24:
            problems.append(f"{where}: gridPos outside 24 columns: {g}")
        hit = set()
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in cells:
                    hit.add(cells[(x, y)])
                cells[(x, y)] = where
        problems += [f"{where}: overlaps {other}" for other in sorted(hit)]
        if p["type"] == "row":
            continue
        if p.get("datasource") != DS:
            problems.append(f"{where}: datasource {p.get('datasource')}, not the variable")
        unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit")
        if not unit:
            problems.append(f"{where}: no unit")
        targets = p.get("targets") or []
        if not targets:
            problems.append(f"{where}: no query")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs):
            problems.append(f"{where}: refIds {refs}")
        for t in targets:
            if t.get("datasource", DS) != DS:
                problems.append(f"{where} {t.get('refId')}: datasource {t['datasource']}")
            exprs.append((f"{where} {t.get('refId')}", t["expr"], p))

    for where, expr, _ in exprs:
        for rng in re.findall(r"\[([^\]]*)\]", expr):
            if rng != "$__rate_interval":
                problems.append(f"{where}: range [{rng}], not [$__rate_interval]: {expr}")
        for fn in re.findall(r"\b(rate|irate|increase)\s*\(", expr):
            if not re.search(fn + r"\s*\([^()]*\[\$__rate_interval\]\)", expr):
                problems.append(f"{where}: {fn}() not over $__rate_interval: {expr}")
        for name, sel in re.findall(r"\b((?:loopstall_|up\b)[a-z_]*)\s*(\{[^}]*\})?", expr):
            if name != "up" and not known(name):
                problems.append(f"{where}: loopstalld exports no {name}")
            if 'job=~"$job"' not in sel or 'instance=~"$instance"' not in sel:
                problems.append(f"{where}: {name} not narrowed by $job and $instance: {expr}")

    def find(pred, what):
        if not any(pred(p, e) for _, e, p in exprs):
            problems.append(f"no panel for {what}")
    find(lambda p, e: "loopstall_stalls_total" in e and "by (cause)" in e, "stall rate by cause")
    find(lambda p, e: p["type"] == "heatmap" and "loopstall_stall_duration_seconds_bucket" in e
         and 'format' in json.dumps(p["targets"]), "the stall-duration heatmap")
    for q in ("0.5", "0.99", "1"):
        find(lambda p, e, q=q: f"histogram_quantile({q}," in e
             and "loopstall_heartbeat_gap_seconds_bucket" in e, f"heartbeat gap quantile {q}")
    find(lambda p, e: "loopstall_loop_busy_seconds_total" in e
         and p["fieldConfig"]["defaults"]["unit"] == "percentunit", "busy ratio")
    find(lambda p, e: "topk(" in e and "loopstall_blocking_syscall_seconds_total" in e,
         "top blocking syscalls")
    find(lambda p, e: "loopstall_lost_events_total" in e, "agent drops")
    find(lambda p, e: re.search(r"\bup\{", e), "agents up")
    assert not problems, "dashboard problems:\n" + "\n".join(problems)
    print(f"  {path}: {len(panels)} panels ({sum(p['type'] != 'row' for p in panels)} with"
          f" queries), {len(exprs)} expressions, variables {sorted(variables)}")


def check_yaml(d):
    with open(os.path.join(d, "alerts.yml")) as f:
        alerts = yaml.safe_load(f)
    rules = [r for g in alerts["groups"] for r in g["rules"]]
    names = {r["alert"] for r in rules}
    assert names == {"LoopstallLoopStalled", "LoopstallStallRate", "LoopstallAgentDown",
                     "LoopstallNoTargets"}, names
    for r in rules:
        assert r["labels"].get("severity") in ("warning", "critical"), r["alert"]
        assert r["annotations"].get("summary") and r["annotations"].get("description"), r["alert"]
        for name in re.findall(r"\b(loopstall_[a-z_]+)", r["expr"]):
            assert known(name), f"{r['alert']}: loopstalld exports no {name}"

    with open(os.path.join(d, "prometheus.yml")) as f:
        prom = yaml.safe_load(f)
    jobs = [j["job_name"] for j in prom["scrape_configs"]]
    assert "loopstalld" in jobs and "alerts.yml" in prom["rule_files"], prom

    with open(os.path.join(d, "provisioning", "dashboards", "loopstall.yml")) as f:
        prov = yaml.safe_load(f)
    assert prov["apiVersion"] == 1 and prov["providers"][0]["type"] == "file", prov
    assert prov["providers"][0]["options"]["path"], prov
    with open(os.path.join(d, "provisioning", "datasources", "prometheus.yml")) as f:
        dsp = yaml.safe_load(f)
    assert dsp["datasources"][0]["type"] == "prometheus", dsp
    print(f"  alerts.yml: {sorted(names)}; prometheus.yml jobs {jobs}; provisioning ok")


def test():
    d = lstest.dashboards()
    check_dashboard(os.path.join(d, "loopstall.json"))
    check_yaml(d)


if __name__ == "__main__":
    lstest.main(test)
