#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""loopstall_probe, libprobe for asyncio, under CPython 3.10-3.13 (pyenv) and
Debian's python3.11, each with the module built for it (the build lists them
in libprobe/python/interpreters.txt). Under CI=true a missing interpreter or
module fails the test; elsewhere it is skipped.

Per interpreter, victim tests/victims/py_probe_service.py run through
`python -m loopstall_probe` with LPROBE_OUTPUT:
- sleep: a handler task calls time.sleep(0.3) between two awaits: one stall
  record naming the task, its coroutine and the lines of both awaits;
  `loopstall record -p` on the same victim names them too;
- callsoon: a plain loop.call_soon callback is named by its function and line;
- 80 loops one after another: each timed, none kept once collected, the
  region's size unchanged;
- raise: a callback that raises reaches the loop's exception handler as it
  does unprobed (the probe's _run calls the callback itself);
- batch: a job yielding every 1,000 items: many short Task steps, no stall;
- nobatch: the same job without the yield: one long step, a stall of that
  length, and a heartbeat tick late by as much.
Once: the agent attaches and detaches twice to a probed process (no crash,
no lost events, the region's size unchanged); bad environment values give
one line on stderr and the program runs unprobed; LOOPSTALL_PROBE=1 with
loopstall_probe.pth in a site directory activates it without `-m`.
"""
import glob
import json
import os
import re
import signal
import subprocess
import sys

import lstest

VICTIM = os.path.join(lstest.env_path("VICTIMS"), "py_probe_service.py")
THRESHOLD_MS = 50


def in_ci():
    return os.environ.get("CI") == "true"


def missing(what):
    """A missing interpreter or module: a failure in CI, else a skip later."""
    if in_ci():
        raise AssertionError(f"{what} (CI=true: every interpreter must be tested)")
    print(f"  not tested: {what}")


def interpreters():
    """[(label, python, package dir)] of the interpreters the test needs."""
    with open(lstest.env_path("PYPROBE_MANIFEST")) as f:
        built = dict(line.rstrip("\n").split("\t") for line in f if "\t" in line)
    roots = [r for r in (os.environ.get("PYENV_ROOT"), os.path.expanduser("~/.pyenv"),
                         "/root/.pyenv") if r]
    wanted = [("debian-3.11", ["/usr/bin/python3.11"])]
    for minor in ("3.10", "3.11", "3.12", "3.13"):
        found = sorted({p for r in roots for p in glob.glob(f"{r}/versions/{minor}.*/bin/python{minor}")})
        wanted.append((f"pyenv-{minor}", found[-1:]))
    out = []
    for label, paths in wanted:
        if not paths or not os.path.exists(paths[0]):
            missing(f"{label}: no interpreter")
            continue
        real = os.path.realpath(paths[0])
        if real not in built:
            missing(f"{label}: {real} has no loopstall_probe built (its headers missing?)")
            continue
        out.append((label, real, built[real]))
    if not out:
        lstest.skip("no interpreter with loopstall_probe built")
    return out


def marks():
    """Line numbers of the victim's `# mark: NAME` comments, and of its defs."""
    lines = {}
    with open(VICTIM) as f:
        for n, line in enumerate(f, 1):
            m = re.search(r"# mark: ([\w-]+)", line)
            if m:
                lines[m.group(1)] = n
            m = re.match(r"(?:async )?def (\w+)", line)
            if m:
                lines["def " + m.group(1)] = n
    return lines


MARK = marks()


def where(name):
    return f"{VICTIM}:{MARK[name]}"


def probed(python, pkg, *args, **env):
    """argv: the victim under `python -m loopstall_probe`, with env settings."""
    return ["/usr/bin/env", f"PYTHONPATH={pkg}", *(f"{k}={v}" for k, v in env.items()),
            python, "-m", "loopstall_probe", VICTIM, *args]


def run_standalone(sess, label, python, pkg, scenario, **env):
    """Runs one scenario to its end; returns (records, dump)."""
    out = os.path.join(sess.dir, f"{label}-{scenario}.%p.jsonl")
    dump = os.path.join(sess.dir, f"{label}-{scenario}.dump.json")
    target = sess.start(probed(python, pkg, "--scenario", scenario, LPROBE_OUTPUT=out,
                               PYPROBE_DUMP=dump, **env), f"{label} {scenario}")
    rc = target.wait(60)
    assert rc == 0, f"{label} {scenario}: exit {rc}:\n{target.text('stderr')}"
    assert not target.text("stderr"), f"{label} {scenario}: stderr:\n{target.text('stderr')}"
    region = f"/dev/shm/lprobe.{target.pid}"
    assert not os.path.exists(region), f"{region} left behind after exit"
    path = out.replace("%p", str(target.pid))
    recs = lstest.read_records(path) if os.path.exists(path) else []
    with open(dump) as f:
        return recs, json.load(f)


def check_task_callback(cb, what):
    assert cb["watcher"] == "asyncio_task", f"{what}: {json.dumps(cb)}"
    assert cb["task"] == "request-handler" and cb["coroutine"] == "handle_request", (
        f"{what}: task {cb.get('task')!r}, coroutine {cb.get('coroutine')!r}: {json.dumps(cb)}")
    assert cb["resumed_at"] == where("resume"), (
        f"{what}: resumed_at {cb['resumed_at']!r}, expected {where('resume')!r}")
    assert cb["suspended_at"] == where("suspend"), (
        f"{what}: suspended_at {cb['suspended_at']!r}, expected {where('suspend')!r}")
    assert cb["module"] == VICTIM and cb["line"] == MARK["def handle_request"], json.dumps(cb)


def stalls(recs):
    return [r for r in recs if r["type"] == "stall"]


def check_sleep(sess, label, python, pkg):
    recs, _ = run_standalone(sess, label, python, pkg, "sleep")
    st = stalls(recs)
    assert len(st) == 1, f"{label} sleep: expected one stall record, got {recs}"
    lstest.assert_close(st[0]["duration_ms"], 300, 0.15, f"{label} sleep stall duration_ms")
    cb = st[0]["callback"]
    check_task_callback(cb, f"{label} sleep (standalone)")
    assert cb["duration_ms"] >= 0.9 * st[0]["duration_ms"], json.dumps(cb)
    begins = [r for r in recs if r["type"] == "stall_begin"]
    assert len(begins) == 1, f"{label}: expected a stall_begin, got {begins}"
    print(f"  {label} sleep: {st[0]['duration_ms']} ms in {cb['task']} {cb['coroutine']}"
          f" {cb['resumed_at'].rsplit('/', 1)[-1]} -> {cb['suspended_at'].rsplit('/', 1)[-1]}")


def check_callsoon(sess, label, python, pkg):
    recs, _ = run_standalone(sess, label, python, pkg, "callsoon")
    st = stalls(recs)
    assert len(st) == 1, f"{label} callsoon: expected one stall record, got {recs}"
    cb = st[0]["callback"]
    assert (cb["watcher"], cb["symbol"], cb["module"], cb["line"]) == (
        "asyncio_callback", "slow_callback", VICTIM, MARK["def slow_callback"]), json.dumps(cb)
    assert "task" not in cb, json.dumps(cb)


def check_raise(sess, label, python, pkg):
    """A callback that raises: the loop's exception handler gets what it gets unprobed."""
    def handler_lines(argv):
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, f"{argv}: {p.returncode}\n{p.stderr}"
        return [l for l in p.stdout.splitlines() if l.startswith("exception handler:")]
    plain = handler_lines([python, VICTIM, "--scenario", "raise", "--delay-ms", "20"])
    probe = handler_lines(probed(python, pkg, "--scenario", "raise", "--delay-ms", "20"))
    assert len(plain) == 1 and "failing_callback" in plain[0], plain
    assert probe == plain, f"{label}: probed, the handler got {probe}, unprobed {plain}"


def batch_steps(dump):
    return [e for e in dump["recent"] if e["task"] == "batch-job"]


def check_batch(sess, label, python, pkg):
    recs, dump = run_standalone(sess, label, python, pkg, "batch", LPROBE_RING=4096)
    assert not stalls(recs), f"{label} batch: the yielding job stalled: {stalls(recs)}"
    steps = batch_steps(dump)
    # 600 batches of 1,000 items: a step each (the last one finishes the task)
    assert len(steps) >= 590, f"{label} batch: {len(steps)} batch-job steps, expected ~600"
    longest = max(s["duration_ms"] for s in steps)
    assert longest < THRESHOLD_MS, f"{label} batch: a step ran {longest} ms"
    middle = steps[1:-1]
    assert all(s["resumed_at"] == where("batch-yield") == s["suspended_at"] for s in middle), (
        f"{label} batch: steps not between two yields: {middle[:3]}")
    loop = dump["stats"][0]
    assert loop["stalls"] == 0 and loop["awaits"] >= 590, loop
    print(f"  {label} batch: {len(steps)} steps, longest {longest:.2f} ms,"
          f" {loop['awaits']} awaits, heartbeat max {loop['heartbeat_max_ms']:.1f} ms")


def check_nobatch(sess, label, python, pkg):
    recs, dump = run_standalone(sess, label, python, pkg, "nobatch", LPROBE_RING=4096)
    st = stalls(recs)
    assert len(st) == 1, f"{label} nobatch: expected one stall, got {st}"
    steps = batch_steps(dump)
    assert len(steps) == 1, f"{label} nobatch: {len(steps)} batch-job steps: {steps}"
    span = steps[0]["duration_ms"]
    cb = st[0]["callback"]
    assert (cb["task"], cb["coroutine"]) == ("batch-job", "batch_job"), json.dumps(cb)
    assert abs(cb["duration_ms"] - span) < 1, f"stall names a {cb['duration_ms']} ms step, not {span}"
    assert span >= 0.9 * st[0]["duration_ms"], f"step {span} ms of a {st[0]['duration_ms']} ms stall"
    hb = dump["stats"][0]["heartbeat_max_ms"]
    # the heartbeat was due at most one period (10 ms) after the step began
    assert span - 15 <= hb <= span + 5, f"{label}: heartbeat {hb} ms late, the step ran {span} ms"
    print(f"  {label} nobatch: one step of {span:.1f} ms, stall {st[0]['duration_ms']} ms,"
          f" heartbeat {hb:.1f} ms late")


def check_agent(sess, label, python, pkg):
    run = lstest.record_pid(sess, probed(python, pkg, "--wait-signal"), name=f"{label} agent")
    st = lstest.one_stall(run, f"{label} under loopstall record")
    cb = st["callback"]
    assert cb, f"{label}: the agent's stall has no callback: {lstest.brief(st)}"
    check_task_callback(cb, f"{label} sleep (loopstall record)")
    assert cb["recent"], json.dumps(cb)
    # the probe's own count of the loop thread, in the summary
    lp = run.thread(st["tid"]).get("libprobe")
    assert lp and lp["iterations"] > 10 and lp["stalls"] == 1, f"{label}: summary libprobe {lp}"
    late = lp["heartbeat_late_ms"]["max"]
    assert 0.9 * st["duration_ms"] - 15 <= late <= st["duration_ms"] + 5, (
        f"{label}: heartbeat at most {late} ms late over a {st['duration_ms']} ms stall")


def region_size(pid):
    return os.stat(f"/dev/shm/lprobe.{pid}").st_size


MANY_LOOPS = r"""
import asyncio, gc, json, os, sys, loopstall_probe
assert loopstall_probe.install()
size = None
async def one():
    await asyncio.sleep(0.002)
    return loopstall_probe.stats()
for i in range(80):
    live = asyncio.run(one())
    gc.collect()
    size = size or os.stat(loopstall_probe.region_path()).st_size
    assert os.stat(loopstall_probe.region_path()).st_size == size
print(json.dumps({"live_in_last": live, "live_after": loopstall_probe.stats()}))
"""


def check_many_loops(label, python, pkg):
    """80 loops one after another (more than the region's 16 slots and the probe's 64):
    each is timed while it runs and let go when it is collected."""
    p = subprocess.run([python, "-c", MANY_LOOPS], env={**os.environ, "PYTHONPATH": pkg},
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"{label}: {p.stderr}"
    got = json.loads(p.stdout)
    last = got["live_in_last"]
    assert len(last) == 1 and last[0]["iterations"] > 0 and last[0]["slot"] >= 0, last
    assert got["live_after"] == [], f"{label}: loops kept after they were collected: {got}"
    print(f"  {label}: 80 loops in turn, the last in a region slot, none kept")


def check_attach_twice(sess, label, python, pkg):
    """The agent comes and goes twice while the probe runs: both runs see their stall."""
    lstest.require_root()
    target = sess.start(probed(python, pkg, "--wait-signal", "--rounds", "3"),
                        f"{label} attach-twice")
    size = region_size(target.pid)
    for n in (1, 2):
        rec = sess.record(["-p", str(target.pid)], ["--duration", "1500ms"])
        target.signal(signal.SIGUSR2)
        lstest.wait_for(f"round {n}'s end", lambda: target.text("stdout").split("\n").count(
            "scenario sleep done") == n, 10)
        run = sess.finish(rec, target)
        lstest.check_records(run)
        st = lstest.one_stall(run, f"attach #{n}")
        check_task_callback(st["callback"], f"attach #{n}")
        assert run.summary["lost_events"] == 0, f"attach #{n}: {run.summary['lost_events']} lost"
        assert region_size(target.pid) == size, f"region grew from {size} bytes"
    target.signal(signal.SIGUSR2)  # the last round, without the agent
    rc = target.wait(30)
    assert rc == 0, f"{label}: exit {rc} after two attaches:\n{target.text('stderr')}"
    print(f"  {label}: attached and detached twice; region {size} bytes throughout")


def check_bad_env(sess, label, python, pkg):
    cases = [{"LPROBE_THRESHOLD_MS": "fast"}, {"LPROBE_RING": "100"},
             {"LPROBE_HEARTBEAT_MS": "-1"}, {"LPROBE_OUTPUT": "/nonexistent/dir/out.jsonl"}]
    for n, env in enumerate(cases):
        dump = os.path.join(sess.dir, f"bad-env-{n}.json")
        argv = probed(python, pkg, "--scenario", "callsoon", "--ms", "60", PYPROBE_DUMP=dump,
                      **env)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        err = p.stderr.strip().splitlines()
        assert p.returncode == 0 and "done" in p.stdout.split(), (
            f"{env}: the program did not run to its end: {p.returncode}\n{p.stderr}")
        assert len(err) == 1 and err[0].startswith("loopstall_probe: ") and (
            "without the probe" in err[0]), f"{env}: expected one line on stderr, got {err}"
        with open(dump) as f:
            d = json.load(f)
        assert d["stats"] == [] and d["region"] is None, f"{env}: probed anyway: {d['stats']}"
        print(f"  {label} {env}: {err[0]}")
    # the same, through the .pth hook (no -m)
    check_pth(sess, label, python, pkg, {"LOOPSTALL_PROBE": "yes"})


def check_pth(sess, label, python, pkg, env):
    """LOOPSTALL_PROBE with loopstall_probe.pth in the user site directory."""
    base = os.path.join(sess.dir, f"userbase-{label}")
    site = subprocess.run([python, "-c", "import site; print(site.getusersitepackages())"],
                          env={**os.environ, "PYTHONUSERBASE": base}, capture_output=True,
                          text=True, check=True).stdout.strip()
    os.makedirs(site, exist_ok=True)
    with open(os.path.join(pkg, "loopstall_probe.pth")) as f:
        hook = f.read()
    with open(os.path.join(site, "loopstall_probe.pth"), "w") as f:
        f.write(pkg + "\n" + hook)
    out = os.path.join(sess.dir, f"pth-{label}.jsonl")
    p = subprocess.run([python, VICTIM, "--scenario", "callsoon", "--ms", "120"],
                       env={**os.environ, "PYTHONUSERBASE": base, "LPROBE_OUTPUT": out, **env},
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"{env}: exit {p.returncode}\n{p.stderr}"
    if env.get("LOOPSTALL_PROBE") == "1":
        assert not p.stderr, p.stderr
        st = stalls(lstest.read_records(out))
        assert [s["callback"]["symbol"] for s in st] == ["slow_callback"], st
        print(f"  {label} LOOPSTALL_PROBE=1 through the .pth: {st[0]['duration_ms']} ms stall named")
    else:
        err = p.stderr.strip().splitlines()
        assert len(err) == 1 and "LOOPSTALL_PROBE" in err[0], err
        assert not os.path.exists(out), "probed anyway"
        print(f"  {label} {env}: {err[0]}")


def test():
    pythons = interpreters()
    with lstest.Session() as s:
        for label, python, pkg in pythons:
            print(f"{label}: {python}")
            check_sleep(s, label, python, pkg)
            check_callsoon(s, label, python, pkg)
            check_raise(s, label, python, pkg)
            check_many_loops(label, python, pkg)
            check_batch(s, label, python, pkg)
            check_nobatch(s, label, python, pkg)
            check_agent(s, label, python, pkg)
        label, python, pkg = pythons[0]
        check_bad_env(s, label, python, pkg)
        check_pth(s, label, python, pkg, {"LOOPSTALL_PROBE": "1"})
        check_attach_twice(s, label, python, pkg)


if __name__ == "__main__":
    lstest.main(test)
