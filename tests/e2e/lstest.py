# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Shared helpers of loopstall's end-to-end tests (stdlib and jsonschema only).

ctest passes the paths in the environment:
  LOOPSTALL     the loopstall CLI
  DEMO_SERVICE  loopstall-demo-service
  VICTIMS       the tests/victims directory
  SCHEMA        record/records.schema.json

A test is a plain script: `lstest.main(test)` runs it and turns the outcome
into an exit code: 0 pass, 1 fail, 77 skip (ctest's SKIP_RETURN_CODE). A test
skips when BPF cannot be used here (not root, or the CLI exits 2 with a BPF
load error), except under CI=true, where the machine is known to support it
and a skip would hide a broken build: there it fails.

Every child runs in its own process group and is killed with its group when
the test ends, pass or fail, so no victim or recorder is left behind.
"""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import jsonschema

SKIP_CODE = 77
IN_CI = os.environ.get("CI") == "true"
PYTHON = "/usr/bin/python3"
# What the CLI says when the kernel refuses BPF (not when the input is bad).
BPF_ERROR_RE = re.compile(
    r"bpf|btf|not root|permission|not permitted|CAP_", re.IGNORECASE)


class Skip(Exception):
    pass


def skip(reason):
    if IN_CI:
        raise AssertionError(f"would skip ({reason}), but CI=true: BPF must work here")
    raise Skip(reason)


def require_root():
    if os.geteuid() != 0:
        skip("loading BPF needs root")


def env_path(name):
    value = os.environ.get(name)
    assert value, f"environment variable {name} is not set (ctest sets it)"
    assert os.path.exists(value), f"{name}={value}: no such file"
    return value


def loopstall():
    return env_path("LOOPSTALL")


def demo_service():
    return env_path("DEMO_SERVICE")


def victim(name):
    """argv prefix that runs victim NAME from VICTIMS (.py with Debian's python3, .js with node)."""
    path = os.path.join(env_path("VICTIMS"), name)
    assert os.path.exists(path), f"no victim {path}"
    if name.endswith(".py"):
        return [PYTHON, path]
    if name.endswith(".js"):
        node = shutil.which("node")
        if not node:
            skip("node is not installed")
        return [node, path]
    return [path]


def now_ns():
    return time.time_ns()


class Proc:
    """A child process whose stdout and stderr lines are collected, each with
    the wall-clock time it was read (to place stalls against what the child
    said it was doing)."""

    def __init__(self, argv, name):
        self.name = name
        self.argv = list(argv)
        self.lines = {"stdout": [], "stderr": []}
        self._cond = threading.Condition()
        self._closed = set()
        self.p = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, errors="replace",
            start_new_session=True)
        self.pid = self.p.pid
        self._readers = [
            threading.Thread(target=self._read, args=(self.p.stdout, "stdout"),
                             daemon=True),
            threading.Thread(target=self._read, args=(self.p.stderr, "stderr"),
                             daemon=True),
        ]
        for t in self._readers:
            t.start()

    def _read(self, stream, which):
        for line in stream:
            with self._cond:
                self.lines[which].append((now_ns(), line.rstrip("\n")))
                self._cond.notify_all()
        with self._cond:
            self._closed.add(which)
            self._cond.notify_all()

    def text(self, which):
        with self._cond:
            return "\n".join(line for _, line in self.lines[which])

    def wait_line(self, which, pred, timeout):
        """(time_ns, line) of the first line matching pred, or None if the
        stream ends first; fails after timeout seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for item in self.lines[which]:
                    if pred(item[1]):
                        return item
                if which in self._closed:
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{self.name}: no matching line on {which} within {timeout} s;"
                        f" {which} so far:\n{self.text_locked(which)}")
                self._cond.wait(min(left, 0.1))

    def text_locked(self, which):
        return "\n".join(line for _, line in self.lines[which])

    def signal(self, sig):
        self.p.send_signal(sig)

    def wait(self, timeout):
        """The exit code; fails if the process is still running after timeout s."""
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{self.name} still running after {timeout} s:"
                f" {' '.join(self.argv)}\nstderr:\n{self.text('stderr')}") from None
        for t in self._readers:
            t.join(5)
        return rc

    def kill(self):
        """Kills the whole process group (a victim's children too)."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            pass
        for t in self._readers:
            t.join(2)


class Run:
    """What one `loopstall record` run left: records, stalls, summary and the
    processes (their output lines) involved."""

    def __init__(self, records, recorder, target):
        self.records = records
        self.recorder = recorder
        self.target = target
        self.all_stalls = [r for r in records if r["type"] == "stall"]
        # The loop thread's last busy period runs from its last wait to its
        # exit (interpreter or runtime teardown included) and is reported
        # cut short when it crosses the threshold, typically on a loaded
        # machine. It is no part of any scenario: keep it out of `stalls`.
        done = [t for t, line in target.lines["stdout"] if line == "done"]
        self.exit_stalls = [
            r for r in self.all_stalls
            if r["cut_short"] and done and r["start_unix_ns"] >= done[0] - 50_000_000]
        self.stalls = [r for r in self.all_stalls if r not in self.exit_stalls]
        self.summary = records[-1] if records and records[-1]["type"] == "summary" else None

    def scenario_window(self, name, index=0):
        """(begin_ns, end_ns) of the index-th `scenario NAME begin/end` pair
        printed by the target (times the lines were read)."""
        begins = [t for t, line in self.target.lines["stdout"]
                  if line == f"scenario {name} begin"]
        ends = [t for t, line in self.target.lines["stdout"]
                if line == f"scenario {name} end"]
        assert len(begins) > index and len(ends) > index, (
            f"target printed no complete 'scenario {name}' #{index}; stdout:\n"
            f"{self.target.text('stdout')}")
        return begins[index], ends[index]

    def stalls_in(self, window, slack_ms=50):
        """Stalls that overlap the window widened by slack_ms on both sides."""
        lo = window[0] - int(slack_ms * 1e6)
        hi = window[1] + int(slack_ms * 1e6)
        return [s for s in self.stalls if s["start_unix_ns"] <= hi and s["end_unix_ns"] >= lo]

    def thread(self, tid):
        assert self.summary, "no summary"
        for t in self.summary["threads"]:
            if t["tid"] == tid:
                return t
        raise AssertionError(f"summary has no thread {tid}: {json.dumps(self.summary)}")

    def describe(self):
        return "\n".join(json.dumps(r) for r in self.records)


class Session:
    """Owns the processes and the output directory of one test; kills every
    child it started on the way out, whatever happened."""

    def __init__(self):
        self.procs = []
        self.dir = tempfile.mkdtemp(prefix="loopstall-e2e-")
        self._nout = 0

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        for p in reversed(self.procs):
            p.kill()
        if exc_type is not None and not issubclass(exc_type, Skip) and os.listdir(self.dir):
            for p in self.procs:
                err = p.text("stderr")
                if err:
                    print(f"--- stderr of {p.name} (pid {p.pid}):\n{err}", file=sys.stderr)
            print(f"--- output kept in {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def start(self, argv, name=None, ready=True, timeout=15):
        """Starts a target; with ready, waits for its `ready` line."""
        if not name:
            scripts = [a for a in argv if a.endswith((".py", ".js"))]
            name = os.path.basename(scripts[0] if scripts else argv[0])
        p = Proc(argv, name)
        self.procs.append(p)
        if ready:
            got = p.wait_line("stdout", lambda l: l.startswith("ready"), timeout)
            assert got, (f"{p.name} exited (code {p.p.poll()}) before 'ready';"
                         f" stderr:\n{p.text('stderr')}")
        return p

    def out_path(self):
        self._nout += 1
        return os.path.join(self.dir, f"records-{self._nout}.jsonl")

    def record(self, target, opts=(), out=None, wait_recording=True, timeout=30):
        """Starts `loopstall record OPTS -o OUT TARGET` (TARGET: ['-p', PID] or
        ['--', CMD...]); waits until it says it is recording."""
        out = out or self.out_path()
        argv = [loopstall(), "record", *opts, "-o", out, *target]
        rec = Proc(argv, "loopstall record")
        rec.out = out
        self.procs.append(rec)
        if wait_recording:
            got = rec.wait_line("stderr", lambda l: "recording" in l, timeout)
            if not got:
                rc = rec.wait(10)
                check_bpf_refused(rec, rc)
                raise AssertionError(
                    f"loopstall record exited with {rc} before recording:"
                    f" {' '.join(argv)}\nstderr:\n{rec.text('stderr')}")
        return rec

    def finish(self, rec, target, timeout=30):
        """Waits for the recorder to end by itself (exit 0) and returns the Run."""
        rc = rec.wait(timeout)
        check_bpf_refused(rec, rc)
        assert rc == 0, (f"loopstall record exited with {rc}: {' '.join(rec.argv)}\n"
                         f"stderr:\n{rec.text('stderr')}")
        return Run(read_records(rec.out), rec, target)


def check_bpf_refused(rec, rc):
    """Skips (outside CI) when the CLI could not load BPF on this machine."""
    if rc == 2 and BPF_ERROR_RE.search(rec.text("stderr")):
        skip(f"loopstall cannot load BPF here: {rec.text('stderr').strip()}")


def record_pid(sess, target_argv, opts=(), name=None, timeout=60):
    """Starts the target (which must wait for SIGUSR2), attaches
    `loopstall record -p`, starts the scenario, and waits until the target has
    exited and the recorder with it. Returns the Run."""
    require_root()
    target = sess.start(target_argv, name)
    rec = sess.record(["-p", str(target.pid)], opts)
    target.signal(signal.SIGUSR2)
    rc = target.wait(timeout)
    assert rc == 0, f"{target.name} exited with {rc}; stderr:\n{target.text('stderr')}"
    run = sess.finish(rec, target, timeout=20)
    show(run)
    check_records(run)
    return run


def record_command(sess, cmd, opts=(), timeout=60):
    """Runs `loopstall record OPTS -o OUT -- CMD` to its end; the command's
    output comes through the recorder's stdout. Returns the Run (target is the
    recorder's Proc, for the command's lines)."""
    require_root()
    rec = sess.record(["--", *cmd], opts, wait_recording=False)
    run = sess.finish(rec, rec, timeout)
    show(run)
    check_records(run)
    return run


_validator = None


def validator():
    global _validator
    if _validator is None:
        with open(env_path("SCHEMA")) as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        _validator = jsonschema.Draft202012Validator(schema)
    return _validator


def read_records(path):
    """Every line of a JSON Lines file, each validated against the schema."""
    v = validator()
    records, problems = [], []
    with open(path) as f:
        text = f.read()
    assert text.endswith("\n") or not text, f"{path}: last line is not terminated"
    for n, line in enumerate(text.splitlines(), 1):
        try:
            rec = json.loads(line)
        except ValueError as e:
            problems.append(f"line {n}: not JSON ({e}): {line[:200]}")
            continue
        for err in v.iter_errors(rec):
            where = "/".join(str(p) for p in err.absolute_path) or "(record)"
            problems.append(f"line {n}: {where}: {err.message}")
        records.append(rec)
    assert not problems, (f"{path}: {len(problems)} schema violation(s):\n"
                          + "\n".join(problems[:20]))
    return records


def show(run):
    """Prints the key numbers of a run (ctest shows them with -V or on failure)."""
    for st in run.stalls:
        print(f"  stall: {brief(st)}")
    for st in run.exit_stalls:
        print(f"  stall at exit, ignored: {brief(st)}")
    for t in run.summary["threads"] if run.summary else []:
        print(f"  thread {t['tid']} ({t['comm']}): iterations={t['iterations']}"
              f" busy_ratio={t['busy_ratio']:.3f} max_busy_ms={t['max_busy_ms']:.1f}"
              f" stalls={t['stalls']}")


def check_records(run):
    """Contract checks beyond the schema that hold for every run."""
    recs = run.records
    assert recs, "no records at all"
    kinds = [r["type"] for r in recs]
    assert kinds.count("summary") == 1 and kinds[-1] == "summary", (
        f"expected exactly one summary, as the last record; got types {kinds}")
    s = run.summary
    assert s["stalls"] == len(run.all_stalls), (
        f"summary.stalls = {s['stalls']} but {len(run.all_stalls)} stall records")
    assert s["end_unix_ns"] >= s["start_unix_ns"], "summary ends before it starts"
    for st in run.all_stalls:
        span_ms = (st["end_unix_ns"] - st["start_unix_ns"]) / 1e6
        assert abs(span_ms - st["duration_ms"]) <= 1.0, (
            f"stall duration_ms {st['duration_ms']} but end-start = {span_ms:.3f} ms")
        if not st["cut_short"]:
            assert st["duration_ms"] >= st["threshold_ms"], (
                f"stall of {st['duration_ms']} ms is below its threshold {st['threshold_ms']}")
        totals = [sc["total_ms"] for sc in st["syscalls"]]
        assert totals == sorted(totals, reverse=True), (
            f"syscalls not sorted by total_ms, largest first: {totals}")


def assert_close(value, expected, rel, what):
    lo, hi = expected * (1 - rel), expected * (1 + rel)
    assert lo <= value <= hi, (
        f"{what} = {value:.1f}, expected {expected} ±{rel * 100:.0f}% ({lo:.1f}..{hi:.1f})")


def perf_event_fds(pid):
    """How many perf events process pid holds open: the recorder's hooked
    wait calls' tracepoints and its per-thread events."""
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:[perf_event]"
        except OSError:
            pass  # closed meanwhile
    return n


def hooked_lines(rec):
    """What `loopstall record -v` said it hooked, each time that changed:
    "epoll_wait,poll", ..., "none"."""
    return [line.split(": ", 2)[2] for _, line in rec.lines["stderr"]
            if line.startswith("loopstall: wait calls hooked: ")]


def brief(stall):
    """One line about a stall, for messages."""
    sc = stall["syscalls"][0]["name"] if stall["syscalls"] else "-"
    return (f"{stall['duration_ms']:.1f} ms cause={stall['cause']} on_cpu={stall['on_cpu_ms']:.1f}"
            f" off_cpu={stall['off_cpu_ms']:.1f} runqueue={stall['runqueue_ms']:.1f}"
            f" first_syscall={sc} tid={stall['tid']}")


def one_stall(run, what):
    assert len(run.stalls) == 1, (
        f"{what}: expected exactly one stall, got {len(run.stalls)}:\n"
        + "\n".join(brief(s) for s in run.stalls))
    return run.stalls[0]


def format_stack(stack, indent="    "):
    """A stack, one frame a line, innermost first, for messages."""
    lines = []
    for f in stack:
        where = f"{f['file']}:{f['line']}" if f.get("file") else f"({f.get('module')})"
        inlined = " (inlined)" if f.get("inlined") else ""
        lines.append(f"{indent}{f.get('symbol') or f['addr']}{inlined}  {where}")
    return "\n".join(lines)


def syscall_stack(stall, name):
    """The stack of the stall's syscall NAME; fails when it has none."""
    for sc in stall["syscalls"]:
        if sc["name"] == name:
            assert sc["stack"], f"{name}: empty stack in stall {brief(stall)}"
            return sc["stack"]
    raise AssertionError(f"no {name} in the stall's syscalls: {brief(stall)}")


def hottest_cpu_stack(stall):
    """The stack of the stall's first cpu_stacks entry, after checking the
    entries are sorted hottest first; fails when there is none."""
    entries = stall["cpu_stacks"]
    assert entries, f"no cpu_stacks (cpu_samples={stall.get('cpu_samples')}): {brief(stall)}"
    samples = [e["samples"] for e in entries]
    assert samples == sorted(samples, reverse=True), (
        f"cpu_stacks not sorted hottest first: {samples}")
    return entries[0]["stack"]


def frames_in_order(stack, names, what="stack"):
    """The frames named NAMES (exact symbols), found in this order going
    outwards from the innermost frame; fails showing the stack."""
    found, i = [], 0
    for name in names:
        while i < len(stack) and stack[i].get("symbol") != name:
            i += 1
        assert i < len(stack), (
            f"{what}: no frame {name!r} (after {[f['symbol'] for f in found]})"
            f" in the order {names}:\n{format_stack(stack)}")
        found.append(stack[i])
        i += 1
    return found


def libprobe():
    return env_path("LIBPROBE")


def preloaded(argv, **env):
    """argv run through env(1) with libprobe preloaded (and LPROBE_* settings):
    the pid stays the program's, env execs it."""
    return ["/usr/bin/env", f"LD_PRELOAD={libprobe()}",
            *(f"{k}={v}" for k, v in env.items()), *argv]


def check_callback(stall, symbol, watcher):
    """Asserts libprobe named the callback behind the stall; returns it."""
    cb = stall.get("callback")
    assert cb, f"stall has no libprobe callback: {brief(stall)}"
    assert cb["symbol"] == symbol and cb["watcher"] == watcher, (
        f"stall {brief(stall)}: libprobe names {cb['symbol']!r} ({cb['watcher']} watcher),"
        f" expected {symbol!r} ({watcher} watcher); callback: {json.dumps(cb)}")
    # started before the stall ended, and ran for most of it
    assert cb["started_ms_ago"] <= stall["duration_ms"] + 5, json.dumps(cb)
    if cb.get("duration_ms") is not None:
        assert cb["duration_ms"] >= 0.8 * stall["duration_ms"] - 5, (
            f"callback ran {cb['duration_ms']} ms of a {stall['duration_ms']} ms stall")
    assert cb.get("recent"), f"no flight-recorder tail: {json.dumps(cb)}"
    return cb


# Debian's debug interpreter (package python3.11-dbg, installed by
# .ci/install-deps): one unstripped executable with DWARF, time_sleep included.
DEBIAN_PY_SYMBOLS = "/usr/bin/python3.11d"


def python_with_symbols():
    """A Python 3.11+ interpreter whose code carries symbols and DWARF:
    $LOOPSTALL_PY_SYMBOLS, else Debian's python3.11d (what .ci/install-deps
    installs, so CI and a hand run use the same one), else the newest pyenv
    build from 3.11 on (pyenv's `python3` in PATH is a shell shim: this is the
    real binary; before 3.11 time.sleep waits in select(), which looks like
    the loop's own wait). None when there is none."""
    override = os.environ.get("LOOPSTALL_PY_SYMBOLS")
    if override:
        assert os.access(override, os.X_OK), f"LOOPSTALL_PY_SYMBOLS={override}: not executable"
        return override
    if os.access(DEBIAN_PY_SYMBOLS, os.X_OK):
        return DEBIAN_PY_SYMBOLS
    found = []
    for path in glob.glob("/root/.pyenv/versions/*/bin/python3.1[0-9]"):
        m = re.search(r"python3\.(\d+)$", path)
        if m and int(m.group(1)) >= 11 and os.access(path, os.X_OK):
            found.append((int(m.group(1)), path))
    return max(found)[1] if found else None


def require_python_with_symbols():
    """python_with_symbols(), or skip (fail under CI=true) when there is none."""
    path = python_with_symbols()
    if path:
        return path
    reason = (f"no Python 3.11+ interpreter with symbols: no {DEBIAN_PY_SYMBOLS}"
              " (python3.11-dbg, .ci/install-deps), none matches"
              " /root/.pyenv/versions/*/bin/python3.1[1-9] and LOOPSTALL_PY_SYMBOLS is not set")
    if IN_CI:
        raise AssertionError(reason + " (CI=true: install one or set LOOPSTALL_PY_SYMBOLS)")
    raise Skip(reason)


_ACCOUNT_RE = re.compile(
    r"wall_ms=([\d.]+) on_cpu_ms=([\d.]+) runqueue_ms=([\d.]+)")


def victim_account(proc, name, which="stdout"):
    """The kernel's own account of the victim's scenario NAME, as the victim
    printed it (`schedstat NAME wall_ms=X on_cpu_ms=X runqueue_ms=X`, read
    from /proc/thread-self/schedstat around the work): {wall_ms, on_cpu_ms,
    runqueue_ms, blocked_ms}."""
    got = [line for _, line in proc.lines[which] if line.startswith(f"schedstat {name} ")]
    assert got, f"{proc.name} printed no 'schedstat {name}' line:\n{proc.text(which)}"
    m = _ACCOUNT_RE.search(got[0])
    assert m, f"not a schedstat line: {got[0]!r}"
    wall, on_cpu, runq = (float(x) for x in m.groups())
    return {"wall_ms": wall, "on_cpu_ms": on_cpu, "runqueue_ms": runq,
            "blocked_ms": max(0.0, wall - on_cpu - runq)}


def causes_called_for(account, blocked_cause="blocking_syscall"):
    """The causes a stall may honestly have given the kernel's own account of
    the thread over it: a part over 60 % of the wall time names the cause,
    none over 40 % is mixed, in between either will do. On a shared 2-CPU
    machine a CPU-bound burst can be mostly run-queue wait: then preempted
    (or mixed) is the right answer, not cpu."""
    wall = account["wall_ms"] or 1.0
    shares = {blocked_cause: account["blocked_ms"] / wall, "cpu": account["on_cpu_ms"] / wall,
              "preempted": account["runqueue_ms"] / wall}
    best = max(shares, key=shares.get)
    if shares[best] > 0.6:
        expected = {best}
    elif shares[best] < 0.4:
        expected = {"mixed"}
    else:
        expected = {best, "mixed"}
    return expected, shares


def check_cause(stall, account, blocked_cause="blocking_syscall"):
    """Asserts the stall's cause is one the victim's own schedstat calls for."""
    expected, shares = causes_called_for(account, blocked_cause)
    assert stall["cause"] in expected, (
        f"cause {stall['cause']}, but the victim's own account calls for {sorted(expected)}:"
        f" {', '.join(f'{n} {v:.0%}' for n, v in shares.items())} of"
        f" {account['wall_ms']:.1f} ms; stall: {brief(stall)}")
    return expected


def daemon():
    return env_path("DAEMON")


def dashboards():
    return env_path("DASHBOARDS")


def free_port():
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5, method="GET"):
    """(status, body text) of one request; HTTP errors are answers, not exceptions."""
    import urllib.error
    import urllib.request
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def start_daemon(sess, args, name="loopstalld", timeout=30):
    """Starts `loopstalld ARGS` (on 127.0.0.1 with a port of its choosing unless
    ARGS set --metrics-addr) and waits until it says it runs. The Proc gets
    .metrics_url (None without HTTP)."""
    require_root()
    argv = [daemon(), *args]
    if "--metrics-addr" not in args:
        argv += ["--metrics-addr", "127.0.0.1:0"]
    p = Proc(argv, name)
    sess.procs.append(p)
    got = p.wait_line("stderr", lambda l: l.startswith("loopstalld: running"), timeout)
    if not got:
        rc = p.wait(10)
        check_bpf_refused(p, rc)
        raise AssertionError(f"loopstalld exited with {rc} before running: {' '.join(argv)}\n"
                             f"stderr:\n{p.text('stderr')}")
    p.metrics_url = None
    m = re.search(r"serving metrics on (http://\S+/metrics)", p.text("stderr"))
    if m:
        p.metrics_url = m.group(1)
    return p


_SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Samples of a text exposition: [(name, {label: value}, float)], in order.
    Label values are unescaped."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE_RE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = {}
        for k, v in _LABEL_RE.findall(m.group(2) or ""):
            labels[k] = re.sub(r'\\(.)', lambda e: "\n" if e.group(1) == "n" else e.group(1), v)
        samples.append((m.group(1), labels, float(m.group(3))))
    return samples


def metric(samples, name, **labels):
    """The value of the one sample of NAME whose labels include LABELS, or None."""
    found = [v for n, l, v in samples
             if n == name and all(l.get(k) == str(v2) for k, v2 in labels.items())]
    assert len(found) <= 1, f"{name}{labels}: {len(found)} samples match"
    return found[0] if found else None


def scrape(proc):
    """The parsed samples loopstalld serves now."""
    status, body = http_get(proc.metrics_url)
    assert status == 200, f"GET {proc.metrics_url}: {status} {body[:200]}"
    return parse_metrics(body)


def wait_for(what, pred, timeout, interval=0.05):
    """pred()'s first truthy result; fails with WHAT after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")


def main(test):
    """Runs test() and exits 0 (pass), 1 (fail) or 77 (skip)."""
    try:
        test()
    except Skip as e:
        print(f"SKIP: {e}")
        sys.exit(SKIP_CODE)
    except AssertionError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    except Exception:
        traceback.print_exc()
        print("FAIL: unexpected error", file=sys.stderr)
        sys.exit(1)
    print("PASS")
    sys.exit(0)
