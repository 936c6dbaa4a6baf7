#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What loopstall costs and how well it measures, side by side with what
people would otherwise reach for (strace, perf trace, bpftrace).

usage: overhead.py [--rounds N] [--requests N] [--quick] [--no-wait]
                   [--sections LIST] [more: see --help]

Sections (all by default):
  service    redis-server throughput under redis-benchmark with nothing,
             loopstall record, loopstalld, strace -f, perf trace, bpftrace
             attached; interleaved rounds, medians, ratio to nothing. Also
             each tracer's own CPU time and RSS (the agent's cost).
  paired     two redis-servers on one CPU, two redis-benchmark clients at
             once; each tool attached to one server (alternating by round):
             the traced server's rate over the other's, same moment.
  hooks      one more run each with loopstall and bpftrace attached and
             kernel.bpf_stats_enabled=1: runs and ns per BPF program.
  wakeups    wakeup_cost.c: a traced loop that blocks on every iteration,
             with and without the agent (interleaved rounds, an A/A row);
             and what a per-thread task-clock sampling event (the agent's
             CPU sampler) alone costs it.
  single     redis-benchmark -c 1 -t get (one wake-up per request), side by
             side: two redis-servers, two clients at once, the agent on one
             (alternating by round); interleaved rounds, an A/A row.
  bystander  untraced processes, agent on/off: bystander_toggle (the agent
             library loaded and freed every second, 20 rounds; an A/A run;
             empty programs on the same hooks), then tests/bench/bystander.sh
             (`loopstall record` started and stopped, phases of seconds).
  libprobe   libprobe_bench's per-callback cost, if it is built.
  latency    demo service, 120 ms sleeps: from the threshold crossing to
             the stall_begin line being in the output file (p50/p99).
  accuracy   tests/bench/inject.c stalls: reported vs injected durations;
             redis DEBUG SLEEP stalls: reported vs Redis's LATENCY monitor.
  agentcpu   the agent's own CPU (tests/bench/stall_cost.py): to attach, per
             300 ms CPU stall and per blocking stall, Python and the demo
             service, loopstalld's second process, a first stall with an
             empty debug-info cache; this build twice (A/A)
             and $LOOPSTALL_BASE (the build before) when set, interleaved.

Prints a table and writes everything to $OUT (default overhead.json).
Needs root, redis-server, redis-benchmark, strace, perf, bpftrace, bpftool,
a C compiler.

Environment:
  BUILD          build directory (default <repo>/build)
  LOOPSTALL      default $BUILD/cli/loopstall
  LOOPSTALLD     default $BUILD/daemon/loopstalld (row skipped if absent)
  DEMO_SERVICE   default $BUILD/cli/loopstall-demo-service
  LIBPROBE_BENCH default: libprobe_bench under $BUILD, if any
  REDIS_CPU      CPU for redis-server (default 0)
  BENCH_CPU      CPU for redis-benchmark (default: the last CPU)
  SETTLE         seconds between a tracer being ready and measuring (default 2)
  QUIET_LOAD     load average to wait for before starting (default 0.5)
  QUIET_SECONDS  ... held for this long (default 30)
  QUIET_TIMEOUT  give up waiting for a quiet machine after this (default 900)
  LOOPSTALL_BASE another loopstall build to compare in section agentcpu
  OUT            JSON results (default overhead.json)
  BASELINE_LOOPSTALL  another build's loopstall (e.g. main's): the wakeups
                 and single sections add its rows, measured in the same
                 interleaved rounds, for a before/after from one run
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
PROG = "overhead"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# A phase that saw someone else's BPF tracer is measured at most this often.
ATTEMPTS_MAX = 3

# Targets from issue 8.
TARGET_SERVICE_RATIO = 0.97
TARGET_BYSTANDER_RATIO = 0.98
TARGET_DETECTION_MS = 10.0
TARGET_ERROR_MS = 1.0
# Targets from issue 19 (the agent's own CPU).
TARGET_ATTACH_MS = 200.0
TARGET_CPU_STALL_MS = 15.0
TARGET_BLOCK_STALL_MS = 5.0
# Targets from issue 19: a loop that wakes on every iteration or request.
TARGET_WAKEUP_RATIO = 0.95
# seconds of each wakeups run before its measured segments (see section_wakeups)
WAKEUP_WARMUP_S = 3
TARGET_SINGLE_CLIENT_RATIO = 0.98


def log(msg):
    print(f"{PROG}: {msg}", file=sys.stderr, flush=True)


def die(msg):
    log(msg)
    sys.exit(1)


def env(name, default):
    return os.environ.get(name) or default


# ---------------------------------------------------------------- processes

class Children:
    """Every process we start, in its own process group, so cleanup can stop
    tracers first (SIGINT, as a user would), then targets, and leave nothing."""

    def __init__(self):
        self.procs = []

    def start(self, argv, cpu=None, stdout=None, stderr=None, role="target"):
        def pin():
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})

        p = subprocess.Popen(argv, stdout=stdout or subprocess.DEVNULL,
                             stderr=stderr or subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL, preexec_fn=pin,
                             start_new_session=True)
        p.role = role
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGINT, timeout=10):
        """Signal p, wait, then kill its group; returns the exit code."""
        if p.poll() is None:
            try:
                p.send_signal(sig)
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"{p.args[0]} (pid {p.pid}) ignored {signal.Signals(sig).name} "
                    f"for {timeout}s; killing it")
        self._kill_group(p)
        if p in self.procs:
            self.procs.remove(p)
        return p.returncode

    def _kill_group(self, p):
        # the group also holds what p started (record -- COMMAND)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def cleanup(self):
        for role in ("tracer", "target"):
            for p in [p for p in self.procs if p.role == role]:
                self.stop(p, signal.SIGINT if role == "tracer" else signal.SIGTERM, 5)


def wait_for(pred, timeout, what, proc=None, logfile=None):
    deadline = time.monotonic() + timeout
    while not pred():
        if proc is not None and proc.poll() is not None:
            tail = read_text(logfile)[-2000:] if logfile else ""
            die(f"{what}: {proc.args[0]} exited ({proc.returncode}) first:\n{tail}")
        if time.monotonic() > deadline:
            tail = read_text(logfile)[-2000:] if logfile else ""
            die(f"{what}: not within {timeout}s\n{tail}")
        time.sleep(0.05)


def read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def proc_cpu_s(pid):
    """user+system CPU seconds of a process (all threads) so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def machine_busy_s():
    """CPU seconds all CPUs spent not idle, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is in user)
    return (sum(v[:8]) - v[3] - v[4]) / CLK_TCK


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------- other tracers

def tracing_progs():
    """{id: name} of the BPF programs on tracing hooks, machine-wide."""
    try:
        out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True,
                             text=True, timeout=10).stdout
        progs = json.loads(out or "[]")
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return {}
    return {p["id"]: p.get("name", "?") for p in progs
            if re.search(r"tracepoint|tracing|perf_event|kprobe|raw_tracepoint",
                         p.get("type", ""))}


def owned_prog_ids(pid):
    """BPF program ids a process holds (prog and link fds name them)."""
    ids = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fdinfo")
    except OSError:
        return ids
    for fd in fds:
        for line in read_text(f"/proc/{pid}/fdinfo/{fd}").splitlines():
            if line.startswith("prog_id:"):
                ids.add(int(line.split()[1]))
    return ids


def prog_stats(pid):
    """{prog_id: (run_cnt, run_time_ns)} from a process's prog fds."""
    stats = {}
    try:
        fds = os.listdir(f"/proc/{pid}/fdinfo")
    except OSError:
        return stats
    for fd in fds:
        info = {}
        for line in read_text(f"/proc/{pid}/fdinfo/{fd}").splitlines():
            k, _, v = line.partition(":")
            info[k.strip()] = v.strip()
        # a prog fd has prog_type; link fds also name a prog_id
        if "prog_type" in info and "run_cnt" in info:
            stats[int(info["prog_id"])] = (int(info["run_cnt"]), int(info["run_time_ns"]))
    return stats


class ForeignWatch:
    """Counts, once a second while a phase runs, the BPF tracing programs
    that are not ours: someone else's tracer on the same machine (another
    loopstall, a test of the agent) would put its cost into our baseline."""

    def __init__(self, ours):
        self.ours = set(ours)
        self.most = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def count(self):
        return len(set(tracing_progs()) - self.ours)

    def _run(self):
        while not self._stop.wait(1.0):
            self.most = max(self.most, self.count())

    def __enter__(self):
        self.most = self.count()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.most = max(self.most, self.count())


def wait_no_foreign(ours, timeout):
    waited = 0
    while True:
        n = len(set(tracing_progs()) - set(ours))
        if n == 0:
            if waited:
                log(f"no foreign BPF tracing programs after {waited}s")
            return True
        if waited == 0:
            log(f"waiting for {n} BPF tracing programs of someone else to go away")
        if waited >= timeout:
            log(f"warning: still {n} after {timeout}s; measuring anyway")
            return False
        time.sleep(1)
        waited += 1


def wait_quiet_machine(load_max, hold_s, timeout):
    """Until the 1-minute load average stays under load_max for hold_s
    seconds and nobody else's BPF tracer is loaded."""
    start = time.monotonic()
    quiet_since = None
    announced = False
    while True:
        now = time.monotonic()
        quiet = loadavg()[0] < load_max and not tracing_progs()
        if quiet:
            quiet_since = quiet_since or now
            if now - quiet_since >= hold_s:
                if announced:
                    log(f"quiet after {now - start:.0f}s")
                return True
        else:
            quiet_since = None
            if not announced:
                log(f"waiting for a quiet machine (load < {load_max} for {hold_s}s, "
                    f"no BPF tracers); now load {loadavg()[0]}")
                announced = True
        if now - start > timeout:
            log(f"warning: machine not quiet after {timeout}s (load {loadavg()}); "
                "measuring anyway")
            return False
        time.sleep(1)


# ------------------------------------------------------------------ stats

def median(xs):
    return statistics.median(xs) if xs else None


def pct(xs, p):
    """Nearest-rank percentile."""
    if not xs:
        return None
    s = sorted(xs)
    k = max(0, min(len(s) - 1, -(-p * len(s) // 100) - 1))
    return s[int(k)]


def rnd(x, n=3):
    return None if x is None else round(x, n)


# ------------------------------------------------------------------ redis

class Redis:
    def __init__(self, children, tmp, cpu, name="redis"):
        self.port = free_port()
        self.log = os.path.join(tmp, f"{name}.log")
        self.proc = children.start(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--enable-debug-command", "yes",
             "--dir", tmp, "--logfile", self.log],
            cpu=cpu)
        self.pid = self.proc.pid
        wait_for(self._pong, 20, "redis-server to answer PING", self.proc, self.log)
        self.version = self.cmd("INFO", "server").split("redis_version:")[1].split()[0]

    def _pong(self):
        try:
            return self.cmd("PING") == "PONG"
        except OSError:
            return False

    def cmd(self, *args, timeout=30):
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            req = f"*{len(args)}\r\n" + "".join(
                f"${len(str(a).encode())}\r\n{a}\r\n" for a in args)
            s.sendall(req.encode())
            return _resp(s.makefile("rb"))


def _resp(f):
    """One RESP2 reply."""
    line = f.readline()
    if not line:
        raise OSError("redis closed the connection")
    kind, rest = line[:1], line[1:-2].decode()
    if kind == b"+":
        return rest
    if kind == b"-":
        raise RuntimeError(f"redis: {rest}")
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2].decode(errors="replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_resp(f) for _ in range(n)]
    raise OSError(f"redis: unexpected reply {line!r}")


def redis_benchmark_rates(stdout, tests=("set", "get")):
    """The tests' rates from redis-benchmark --csv, and their harmonic mean."""
    rates = {}
    for line in stdout.splitlines():
        cols = [c.strip('"') for c in line.split(",")]
        if len(cols) >= 2 and cols[0].lower() in tests:
            rates[cols[0].lower()] = float(cols[1])
    if set(rates) != set(tests):
        return None
    # every test ran the same number of requests: the combined rate is their harmonic mean
    rates["rps"] = len(tests) / sum(1 / rates[t] for t in tests)
    return rates


def redis_benchmark_pair(servers, cpu, requests, clients, tests=("set", "get")):
    """redis-benchmark against each of `servers` at the same time, both
    clients on `cpu`: one rates dict per server."""
    argv = ["redis-benchmark", "-h", "127.0.0.1", "-n", str(requests), "-c", str(clients),
            "-P", "1", "-t", ",".join(tests), "--csv"]
    procs = [subprocess.Popen(argv + ["-p", str(s.port)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
             for s in servers]
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=3600)
        rates = redis_benchmark_rates(stdout, tests)
        if p.returncode or rates is None:
            die(f"redis-benchmark failed ({p.returncode}): {stdout[-500:]} {stderr[-500:]}")
        out.append(rates)
    return out


def redis_benchmark(redis, cpu, requests, clients):
    """One redis-benchmark run: SET and GET rates and the combined rate."""
    argv = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(redis.port), "-n",
            str(requests), "-c", str(clients), "-P", "1", "-t", "set,get", "--csv"]
    t0 = time.monotonic()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=3600,
                       preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.monotonic() - t0
    rates = redis_benchmark_rates(r.stdout)
    if r.returncode or rates is None:
        die(f"redis-benchmark failed ({r.returncode}): {r.stdout[-500:]} {r.stderr[-500:]}")
    # the client is a bystander on the same machine: its CPU per request
    # tells whether it or redis limits the rate
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    rates["bench_cpu_us_per_req"] = round(cpu / (2 * requests) * 1e6, 3)
    rates["bench_cpu_pct"] = round(cpu / wall * 100, 1)
    return rates, wall


# --------------------------------------------------------------- tracers

class Tracer:
    """A tool attached to a pid: how to start it and how to tell it is ready."""

    def __init__(self, key, label, argv=None, ready=None, available=True, note=None,
                 probe=False):
        self.key, self.label, self.argv = key, label, argv
        self.ready = ready  # regex on its output, or None: wait for its perf fds
        self.available, self.note = available, note
        # not a tool people would use: a control that isolates one cost
        self.probe = probe


def perf_fds(pid):
    n = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if "perf_event" in os.readlink(f"/proc/{pid}/fd/{fd}"):
                    n += 1
            except OSError:
                pass
    except OSError:
        pass
    return n


class Attached:
    """A tracer running against a pid, from ready until stop()."""

    def __init__(self, bench, tracer, pid, tag):
        self.bench, self.tracer = bench, tracer
        self.log = os.path.join(bench.tmp, f"{tracer.key}.{tag}.log")
        argv = [a.replace("{pid}", str(pid)).replace("{idle}", str(bench.idle_pid))
                for a in tracer.argv]
        with open(self.log, "w") as out:
            self.proc = bench.children.start(argv, stdout=out, stderr=subprocess.STDOUT,
                                             role="tracer")
        what = f"{tracer.label} to attach to pid {pid}"
        if tracer.ready:
            rx = re.compile(tracer.ready)
            wait_for(lambda: rx.search(read_text(self.log)), bench.attach_timeout, what,
                     self.proc, self.log)
        else:
            # perf trace says nothing: ready once its event fds stop growing
            last, stable_since = -1, time.monotonic()
            def stable():
                nonlocal last, stable_since
                n = perf_fds(self.proc.pid)
                if n != last:
                    last, stable_since = n, time.monotonic()
                return n > 0 and time.monotonic() - stable_since > 0.5
            wait_for(stable, bench.attach_timeout, what, self.proc, self.log)
        # start-up work (BTF, symbols, perf's maps) is not a steady cost
        time.sleep(bench.settle)
        if self.proc.poll() is not None:
            die(f"{tracer.label} exited ({self.proc.returncode}):\n{read_text(self.log)[-2000:]}")
        self.prog_ids = owned_prog_ids(self.proc.pid)

    def stop(self):
        rc = self.bench.children.stop(self.proc, signal.SIGINT, 15)
        # strace and bpftrace end with 128+SIGINT or 0; both are fine
        ok = rc in (0, -signal.SIGINT, 128 + signal.SIGINT)
        if not ok:
            log(f"warning: {self.tracer.label} exited {rc}:\n{read_text(self.log)[-1000:]}")
        return rc


# ----------------------------------------------------------------- bench

class Bench:
    def __init__(self, args):
        self.args = args
        self.children = Children()
        self.tmp = tempfile.mkdtemp(prefix="overhead.")
        self.build = os.path.abspath(env("BUILD", os.path.join(REPO, "build")))
        self.loopstall = env("LOOPSTALL", os.path.join(self.build, "cli", "loopstall"))
        self.loopstalld = env("LOOPSTALLD", os.path.join(self.build, "daemon", "loopstalld"))
        self.demo = env("DEMO_SERVICE", os.path.join(self.build, "cli",
                                                     "loopstall-demo-service"))
        self.baseline = os.environ.get("BASELINE_LOOPSTALL")
        if self.baseline and not os.access(self.baseline, os.X_OK):
            die(f"BASELINE_LOOPSTALL={self.baseline}: not an executable")
        self.redis_cpu = int(env("REDIS_CPU", "0"))
        self.bench_cpu = int(env("BENCH_CPU", str(os.cpu_count() - 1)))
        self.settle = float(env("SETTLE", "2"))
        self.attach_timeout = 60
        self.results = {}
        self.rows = []  # (section, label, value, target, verdict)
        self.bpf_stats_old = None
        self.idle = self.idle_pid = None

    # helpers built from tests/bench/*.c into tmp
    def helper(self, name):
        path = os.path.join(self.tmp, name)
        if not os.path.exists(path):
            cc = env("CC", "cc")
            r = subprocess.run([cc, "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror",
                                "-pthread", "-o", path, os.path.join(HERE, name + ".c")],
                               capture_output=True, text=True)
            if r.returncode:
                die(f"cannot build {name}.c:\n{r.stderr}")
        return path

    def row(self, section, label, value, target="", verdict=""):
        self.rows.append((section, label, value, target, verdict))

    def tracers(self):
        port = free_port()
        d_out = os.path.join(self.tmp, "loopstalld.out")
        os.makedirs(d_out, exist_ok=True)
        have_d = os.access(self.loopstalld, os.X_OK)
        return [
            Tracer("none", "nothing attached"),
            Tracer("none_aa", "nothing attached (A/A)"),
            Tracer("loopstall", "loopstall record",
                   [self.loopstall, "record", "-p", "{pid}", "-o", "/dev/null"], r"recording"),
            Tracer("loopstalld", "loopstalld",
                   [self.loopstalld, "-p", "{pid}", "--metrics-addr", f"127.0.0.1:{port}",
                    "--output", d_out], r"attached to pid",
                   available=have_d, note=None if have_d else f"not built ({self.loopstalld})"),
            Tracer("strace", "strace -f", ["strace", "-f", "-p", "{pid}", "-o", "/dev/null"],
                   r"attached"),
            Tracer("perf", "perf trace", ["perf", "trace", "-p", "{pid}", "-o", "/dev/null"]),
            Tracer("bpftrace", "bpftrace busy_period.bt",
                   ["bpftrace", os.path.join(HERE, "busy_period.bt"), "{pid}"],
                   r"Attaching \d+ probe"),
            # Controls that split loopstall's cost. The agent on another,
            # idle loop: redis pays the machine-wide hooks (an early return)
            # and the agent's polling, not the tracking of its own loop.
            Tracer("loopstall_idle", "control: loopstall on an idle other loop",
                   [self.loopstall, "record", "-p", "{idle}", "-o", "/dev/null"],
                   r"recording", probe=True),
            # One empty program on a syscall nobody makes: what enabling
            # any per-syscall tracepoint costs every syscall of every task.
            Tracer("syscall_tp_floor", "control: empty sys_enter_acct probe",
                   ["bpftrace", "-e", "tracepoint:syscalls:sys_enter_acct { @n = count(); }"],
                   r"Attaching \d+ probe", probe=True),
        ] + ([Tracer("baseline", "loopstall record, baseline build",
                     [self.baseline, "record", "-p", "{pid}", "-o", "/dev/null"], r"recording")]
             if self.baseline else [])

    # ------------------------------------------------------------ service

    def start_idle(self):
        """An idle loop (10 ms heartbeat) for the agent to trace instead of redis."""
        if self.idle and self.idle.poll() is None:
            return
        # --idle-ms is at most an hour: started again when it has ended
        self.idle = self.children.start([self.demo, "--idle-ms", "3600000"])
        self.idle_pid = self.idle.pid
        time.sleep(0.5)
        if self.idle.poll() is not None:
            die(f"{self.demo} --idle-ms 3600000 exited ({self.idle.returncode})")

    def measure_phase(self, redis, tracer, rnd_no):
        """One benchmark run with `tracer` attached (or nothing); repeated
        while someone else's BPF tracer shows up."""
        a = self.args
        for attempt in range(1, ATTEMPTS_MAX + 1):
            wait_no_foreign(set(), int(env("QUIET_TIMEOUT", "900")))
            if any("{idle}" in arg for arg in tracer.argv or ()):
                self.start_idle()
            att = Attached(self, tracer, redis.pid, f"r{rnd_no}a{attempt}") if tracer.argv else None
            ours = att.prog_ids if att else set()
            tpid = att.proc.pid if att else None
            c0 = (proc_cpu_s(redis.pid), proc_cpu_s(tpid) if tpid else 0, machine_busy_s())
            with ForeignWatch(ours) as watch:
                rates, wall = redis_benchmark(redis, self.bench_cpu, a.requests, a.clients)
            c1 = (proc_cpu_s(redis.pid), proc_cpu_s(tpid) if tpid else 0, machine_busy_s())
            m = dict(rates)
            m["wall_s"] = rnd(wall)
            m["redis_cpu_us_per_req"] = rnd((c1[0] - c0[0]) / (2 * a.requests) * 1e6)
            m["redis_cpu_pct"] = rnd((c1[0] - c0[0]) / wall * 100, 1)
            if att:
                m["tracer_cpu_pct"] = rnd((c1[1] - c0[1]) / wall * 100, 1)
                m["tracer_rss_kb"] = proc_status_kb(tpid, "VmRSS")
                m["tracer_hwm_kb"] = proc_status_kb(tpid, "VmHWM")
                m["tracer_bpf_progs"] = len(ours)
                if att.proc.poll() is not None:
                    die(f"{tracer.label} died during the run:\n{read_text(att.log)[-2000:]}")
                m["tracer_exit"] = att.stop()
            # how busy the whole machine was: others' work shows up here
            m["machine_busy_pct"] = rnd((c1[2] - c0[2]) / wall * 100, 1)
            m["foreign_tracers"] = watch.most
            m["attempt"] = attempt
            m["loadavg"] = loadavg()[0]
            if watch.most == 0:
                break
            log(f"round {rnd_no} {tracer.key}: {watch.most} foreign BPF tracing programs "
                "appeared; measuring again" if attempt < ATTEMPTS_MAX else
                f"round {rnd_no} {tracer.key}: foreign tracers in every attempt; kept")
        log(f"round {rnd_no} {tracer.key:10s} {m['rps']:9.0f} req/s  "
            f"redis {m['redis_cpu_us_per_req']} us CPU/req ({m['redis_cpu_pct']}%), "
            f"client {m['bench_cpu_us_per_req']} us ({m['bench_cpu_pct']}%)"
            + (f"  tracer {m['tracer_cpu_pct']}% CPU" if att else ""))
        return m

    def section_service(self, redis):
        a = self.args
        tracers = [t for t in self.tracers() if t.available and (a.controls or not t.probe)]
        skipped = [t for t in self.tracers() if not t.available]
        runs = {t.key: [] for t in tracers}
        orders = []
        log(f"service: {a.rounds} rounds of redis-benchmark -n {a.requests} -c {a.clients} "
            f"-t set,get; redis on CPU {self.redis_cpu}, benchmark on CPU {self.bench_cpu}")
        for r in range(a.rounds):
            # rotate the order each round so slow drift cancels
            order = tracers[r % len(tracers):] + tracers[:r % len(tracers)]
            orders.append([t.key for t in order])
            for t in order:
                runs[t.key].append(self.measure_phase(redis, t, r + 1))
        base = median([m["rps"] for m in runs["none"]])
        base_cpu = median([m["redis_cpu_us_per_req"] for m in runs["none"]])
        out = {"requests": a.requests, "clients": a.clients, "rounds": a.rounds,
               "redis_cpu": self.redis_cpu, "bench_cpu": self.bench_cpu,
               "redis_version": redis.version, "order": orders, "configs": {}}
        for t in tracers:
            ms = runs[t.key]
            rps = median([m["rps"] for m in ms])
            cpu = median([m["redis_cpu_us_per_req"] for m in ms])
            per_round = [rnd(m["rps"] / n["rps"], 4) for m, n in zip(ms, runs["none"])]
            c = {"label": t.label, "argv": t.argv, "median_rps": rnd(rps, 1),
                 "ratio": rnd(rps / base, 4), "ratio_per_round": per_round,
                 "median_redis_cpu_us_per_req": cpu,
                 "median_redis_cpu_pct": median([m["redis_cpu_pct"] for m in ms]),
                 "median_bench_cpu_us_per_req": median([m["bench_cpu_us_per_req"] for m in ms]),
                 "median_bench_cpu_pct": median([m["bench_cpu_pct"] for m in ms]),
                 "cpu_ratio": rnd(base_cpu / cpu, 4) if cpu else None, "runs": ms}
            if t.argv:
                c["median_tracer_cpu_pct"] = median([m["tracer_cpu_pct"] for m in ms])
                c["max_tracer_rss_kb"] = max(m["tracer_rss_kb"] or 0 for m in ms)
                c["max_tracer_hwm_kb"] = max(m["tracer_hwm_kb"] or 0 for m in ms)
            out["configs"][t.key] = c
        for t in skipped:
            out["configs"][t.key] = {"label": t.label, "skipped": t.note}
        self.results["service"] = out

        sec = f"1. traced service: redis-server {redis.version}, SET+GET, " \
              f"{a.requests} req each x {a.rounds} rounds"
        for t in self.tracers():
            c = out["configs"].get(t.key)
            if c is None:
                continue
            if "skipped" in c:
                self.row(sec, t.label, f"skipped: {c['skipped']}")
                continue
            spread = f"{min(c['ratio_per_round']):.3f}..{max(c['ratio_per_round']):.3f}"
            value = (f"{c['median_rps']:8.0f} req/s  ratio {c['ratio']:.3f} "
                     f"(rounds {spread}, redis CPU/req {c['cpu_ratio']:.3f})")
            if t.argv:
                value += f"  tracer {c['median_tracer_cpu_pct']:.1f}% CPU"
            target = verdict = ""
            if t.key in ("loopstall", "loopstalld"):
                target = f">= {TARGET_SERVICE_RATIO}"
                verdict = verdict_ge(c["ratio"], TARGET_SERVICE_RATIO)
            self.row(sec, t.label, value, target, verdict)

        sec = "4. agent cost while attached to redis under load (median over rounds)"
        for key in ("loopstall", "loopstalld"):
            c = out["configs"].get(key, {})
            if "median_tracer_cpu_pct" not in c:
                continue
            self.row(sec, c["label"],
                     f"CPU {c['median_tracer_cpu_pct']:.1f}% of one CPU, "
                     f"RSS {c['max_tracer_rss_kb'] / 1024:.1f} MiB "
                     f"(peak {c['max_tracer_hwm_kb'] / 1024:.1f} MiB), "
                     f"{c['runs'][0]['tracer_bpf_progs']} BPF programs")

    # -------------------------------------------------------------- paired

    def pair_round(self, section, t, traced, plain, r, requests, clients, per,
                   tests=("set", "get")):
        """One round of sections 1d and 1e: tracer t on the traced server,
        both servers' clients at once; measured again (up to ATTEMPTS_MAX)
        while someone else's BPF tracer was loaded. Rates, their ratio and
        the plain/traced ratio of redis CPU per request (per: the requests
        one server served)."""
        for attempt in range(1, ATTEMPTS_MAX + 1):
            wait_no_foreign(set(), int(env("QUIET_TIMEOUT", "900")))
            att = Attached(self, t, traced.pid, f"{section[0]}{r}a{attempt}") if t.argv else None
            ours = att.prog_ids if att else set()
            c0 = (proc_cpu_s(traced.pid), proc_cpu_s(plain.pid))
            with ForeignWatch(ours) as watch:
                rt, rp = redis_benchmark_pair((traced, plain), self.bench_cpu, requests, clients,
                                              tests)
            c1 = (proc_cpu_s(traced.pid), proc_cpu_s(plain.pid))
            if att:
                if att.proc.poll() is not None:
                    die(f"{t.label} died during the run:\n{read_text(att.log)[-2000:]}")
                att.stop()
            if watch.most == 0:
                break
            log(f"{section} {t.key} round {r + 1}: foreign BPF tracing programs; "
                + ("measuring again" if attempt < ATTEMPTS_MAX else "kept"))
        cpu_t = (c1[0] - c0[0]) / per
        cpu_p = (c1[1] - c0[1]) / per
        m = {"traced_port": traced.port, "traced_rps": rnd(rt["rps"], 1),
             "plain_rps": rnd(rp["rps"], 1), "ratio": rnd(rt["rps"] / rp["rps"], 4),
             "cpu_ratio": rnd(cpu_p / cpu_t, 4) if cpu_t else None,
             "foreign_tracers": watch.most}
        log(f"{section} {t.key:10s} round {r + 1}: {m['traced_rps']:.0f} vs "
            f"{m['plain_rps']:.0f} req/s, ratio {m['ratio']}, redis CPU/req {m['cpu_ratio']}")
        return m

    def section_paired(self, redis):
        """Two redis-servers on one CPU, two clients at once on another; the
        tool attached to one server, which one alternating by round. Both
        run in the same state of the machine, seconds apart: the ratio of
        the two rates needs no A/A across time, only the servers' own."""
        a = self.args
        other = Redis(self.children, self.tmp, self.redis_cpu, "redis-b")
        servers = (redis, other)
        tracers = [t for t in self.tracers() if t.available and not t.probe and t.key != "none"]
        sec = f"1d. traced service side by side: two redis-servers on CPU {self.redis_cpu}, " \
              f"two clients at once, {a.paired_requests} req each x {a.paired_rounds} rounds"
        log(f"paired: {a.paired_rounds} rounds per tool, {a.paired_requests} requests per client")
        out = {"requests": a.paired_requests, "rounds": a.paired_rounds, "configs": {}}
        for t in tracers:
            rounds = []
            for r in range(a.paired_rounds):
                traced, plain = servers[r % 2], servers[1 - r % 2]
                m = self.pair_round("paired", t, traced, plain, r, a.paired_requests,
                                    a.clients, 2 * a.paired_requests)
                rounds.append(m)
            ratios = [m["ratio"] for m in rounds]
            cpus = [m["cpu_ratio"] for m in rounds if m["cpu_ratio"]]
            c = {"label": t.label, "ratio": rnd(median(ratios), 4), "rounds": rounds,
                 "cpu_ratio": rnd(median(cpus), 4) if cpus else None}
            out["configs"][t.key] = c
            label = "nothing attached (A/A)" if t.key == "none_aa" else t.label
            target = verdict = ""
            if t.key in ("loopstall", "loopstalld"):
                target = f">= {TARGET_SERVICE_RATIO}"
                verdict = verdict_ge(c["ratio"], TARGET_SERVICE_RATIO)
            self.row(sec, label,
                     f"ratio {c['ratio']:.3f} (rounds {min(ratios):.3f}..{max(ratios):.3f}, "
                     f"redis CPU/req {c['cpu_ratio']:.3f})", target, verdict)
        self.results["paired"] = out
        self.children.stop(other.proc, signal.SIGTERM)

    # -------------------------------------------------------------- hooks

    def section_hooks(self, redis):
        """Which BPF program costs what, with the kernel's run-time stats on."""
        a = self.args
        out = {}
        sec = "1b. BPF programs while redis is under load (kernel.bpf_stats_enabled=1)"
        path = "/proc/sys/kernel/bpf_stats_enabled"
        self.bpf_stats_old = read_text(path).strip() or "0"
        for t in self.tracers():
            if t.key not in ("loopstall", "baseline", "bpftrace") or not t.available:
                continue
            wait_no_foreign(set(), int(env("QUIET_TIMEOUT", "900")))
            att = Attached(self, t, redis.pid, "stats")
            with open(path, "w") as f:
                f.write("1")
            s0 = prog_stats(att.proc.pid)
            rates, wall = redis_benchmark(redis, self.bench_cpu, a.requests, a.clients)
            s1 = prog_stats(att.proc.pid)
            with open(path, "w") as f:
                f.write(self.bpf_stats_old)
            # names while the programs are still loaded
            names = tracing_progs()
            att.stop()
            progs, total_ns = [], 0
            for pid_, (cnt1, ns1) in s1.items():
                cnt0, ns0 = s0.get(pid_, (0, 0))
                runs, ns = cnt1 - cnt0, ns1 - ns0
                total_ns += ns
                if runs:
                    progs.append({"id": pid_, "name": names.get(pid_, "?"), "runs": runs,
                                  "runs_per_sec": rnd(runs / wall, 0),
                                  "ns_per_run": rnd(ns / runs, 1), "total_ms": rnd(ns / 1e6)})
            progs.sort(key=lambda p: -p["total_ms"])
            reqs = 2 * a.requests
            out[t.key] = {"rps": rnd(rates["rps"], 1), "wall_s": rnd(wall),
                          "bpf_ns_per_request": rnd(total_ns / reqs, 1),
                          "bpf_cpu_pct": rnd(total_ns / 1e9 / wall * 100, 2), "programs": progs}
            self.row(sec, f"{t.label}: all programs",
                     f"{total_ns / reqs:.0f} ns per request, "
                     f"{total_ns / 1e9 / wall * 100:.2f}% of a CPU")
            for p in progs[:6]:
                self.row(sec, f"  {p['name']}",
                         f"{p['runs_per_sec']:.0f} runs/s x {p['ns_per_run']:.0f} ns")
        self.bpf_stats_old = None
        self.results["hooks"] = out

    # ---------------------------------------------------------- bystander

    def run_bystander(self, extra):
        """bystander.sh with `extra` arguments: (exit code, its JSON or None)."""
        a = self.args
        out_json = os.path.join(self.tmp, "bystander.json")
        e = dict(os.environ, OUT=out_json, LOOPSTALL=self.loopstall,
                 HOOK_FLOOR=os.path.join(self.build, "tests", "hook_floor"))
        cmd = [os.path.join(HERE, "bystander.sh"), "--rounds", str(a.bystander_rounds),
               "--seconds", str(a.bystander_seconds)] + extra
        log("bystander: " + " ".join(["tests/bench/bystander.sh"] + cmd[1:]))
        r = subprocess.run(cmd, env=e, stdout=subprocess.PIPE, text=True)
        sys.stderr.write(r.stdout)
        if r.returncode:
            return r.returncode, None
        with open(out_json) as f:
            return 0, json.load(f)

    def run_toggle(self, mode, extra):
        """bystander_toggle [extra] MODE: (error or None, its JSON or None)."""
        a = self.args
        binary = os.path.join(self.build, "tests", "bystander_toggle")
        if not os.access(binary, os.X_OK):
            return f"not built ({binary})", None
        out_json = os.path.join(self.tmp, "toggle.json")
        cmd = [binary, "--rounds", str(a.toggle_rounds), "--json", out_json] + extra + [mode]
        log("bystander: " + " ".join(["bystander_toggle"] + cmd[1:]))
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=3600)
        sys.stderr.write(r.stdout)
        if r.returncode:
            return f"exited {r.returncode}: {r.stderr.strip()[-200:]}", None
        with open(out_json) as f:
            return None, json.load(f)

    def section_bystander(self):
        a = self.args
        # Primary: the agent library loaded and freed every second around one
        # long-running bystander, many rounds, with its own A/A.
        sec = f"2. bystanders (not traced): agent loaded/freed every 1 s, " \
              f"bystander_toggle {a.toggle_rounds} rounds"
        toggle = {}
        # The traced loop waits in epoll_wait, and the agent hooks that call
        # alone: a bystander in poll makes no hooked call, one in epoll_wait
        # runs the agent's program (which returns after a lookup) once per
        # iteration of its five syscalls.
        for key, mode, base, name in (
                ("syscalls", "syscalls", ["--wait", "poll"],
                 "syscalls (waits in poll, not hooked)"),
                ("syscalls_same", "syscalls", ["--wait", "epoll"],
                 "syscalls (waits in epoll_wait, hooked)"),
                ("switches", "switches", [], "switches")):
            for extra, suffix, label in (
                    ([], "", name),
                    (["--aa"], "_aa", f"{name}, A/A (no agent in either phase)"),
                    (["--floor"], "_floor",
                     f"control: {name}, empty programs on the same hooks")):
                err, res = self.run_toggle(mode, base + extra)
                judged = not extra
                if err:
                    toggle[key + suffix] = {"error": err}
                    self.row(sec, label, err, "", "ERROR")
                    continue
                toggle[key + suffix] = res
                self.row(sec, label,
                         f"ratio {res['ratio_cpu']:.3f} per CPU second (rounds "
                         f"{res['ratio_cpu_min']:.3f}..{res['ratio_cpu_max']:.3f}), "
                         f"{res['ratio_wall']:.3f} per wall second",
                         f">= {TARGET_BYSTANDER_RATIO}" if judged else "",
                         verdict_ge(res["ratio_cpu"], TARGET_BYSTANDER_RATIO) if judged else "")
        self.results["bystander_toggle"] = toggle
        # Secondary: `loopstall record` itself started and stopped around
        # bystander runs of seconds (fewer, farther apart: noisier).
        sec = f"2b. bystanders, `loopstall record` started/stopped, bystander.sh " \
              f"{a.bystander_rounds} x {a.bystander_seconds}s"
        rc, res = self.run_bystander([])
        if rc:
            self.results["bystander"] = {"error": f"bystander.sh exited {rc}"}
            self.row(sec, "bystander.sh", f"failed (exit {rc})", "", "ERROR")
            return
        self.results["bystander"] = res
        self.bystander_rows(sec, res, "", False)

    def bystander_rows(self, sec, res, label, judged):
        """One row per bystander mode; `label` formats the mode ("" = the mode)."""
        for mode, m in res["modes"].items():
            w, c = m["wall"]["ratio"], m["cpu"]["ratio"]
            self.row(sec, label.format(mode) if label else mode,
                     f"ratio {w:.3f} per wall second, {c:.3f} per CPU second "
                     f"(+{m['cpu']['delta_ns_per_op']:.0f} ns/{m['unit'].split('_per')[0]})",
                     f">= {TARGET_BYSTANDER_RATIO}" if judged else "",
                     verdict_ge(c, TARGET_BYSTANDER_RATIO) if judged else "")

    # ----------------------------------------------------------- libprobe

    def section_libprobe(self):
        """tests/bench/libprobe_bench (its own README section), run as is."""
        a = self.args
        sec = "3. libprobe per-callback cost (libprobe_bench, LD_PRELOAD, side by side)"
        cands = [os.environ.get("LIBPROBE_BENCH")] + [
            os.path.join(self.build, *p) for p in
            (("tests", "libprobe_bench"), ("tests", "bench", "libprobe_bench"),
             ("libprobe", "libprobe_bench"))]
        binary = next((c for c in cands if c and os.access(c, os.X_OK)), None)
        if not binary:
            self.results["libprobe"] = {"skipped": "libprobe_bench not built"}
            self.row(sec, "libprobe_bench", f"not built (looked under {self.build})")
            return
        out_json = os.path.join(self.tmp, "libprobe.json")
        argv = [binary, "--rounds", str(a.libprobe_rounds), "--json", out_json]
        log(f"libprobe: {' '.join(argv[:3])}")
        r = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
        sys.stderr.write(r.stdout)
        res = {"binary": binary, "argv": argv[1:3], "exit": r.returncode}
        try:
            with open(out_json) as f:
                res.update(json.load(f))
        except (OSError, ValueError):
            pass
        self.results["libprobe"] = res
        if r.returncode or "added_ns_median" not in res:
            self.row(sec, "libprobe_bench",
                     f"exited {r.returncode}: {(r.stderr or r.stdout).strip()[-200:]}", "",
                     "ERROR")
            return
        self.row(sec, "added cost per callback",
                 f"median {res['added_ns_median']:.1f} ns, p99 {res['added_ns_p99']:.1f} ns "
                 f"({res['callback_ns_without']:.1f} -> {res['callback_ns_with']:.1f} ns)",
                 "<= 40 ns", verdict_le(res["added_ns_median"], 40))
        self.row(sec, "libev ping-pong throughput with/without",
                 f"{res['throughput_ratio']:.3f} per CPU s "
                 f"(rounds {res['throughput_ratio_min']:.3f}..{res['throughput_ratio_max']:.3f}, "
                 f"{res['throughput_ratio_wall']:.3f} per wall s)",
                 ">= 0.97", verdict_ge(res["throughput_ratio"], 0.97))

    # ------------------------------------------------------------ wakeups

    def agents(self):
        """The agents the wakeups and single sections compare with nothing:
        (key, label, loopstall binary); the baseline build's if given."""
        out = [("loopstall", "loopstall record", self.loopstall)]
        if self.baseline:
            out.append(("baseline", "loopstall record, baseline build", self.baseline))
        return out

    def section_wakeups(self):
        """A traced loop that blocks on every iteration, and what the
        agent's per-thread sampling event alone costs such a loop."""
        a = self.args
        sec = "1c. a traced loop that blocks and wakes on every iteration " \
              f"(wakeup_cost.c, poll ping-pong), {a.wakeup_rounds} rounds of " \
              f"{a.wakeup_seconds:g} s after {WAKEUP_WARMUP_S} s"
        helper = self.helper("wakeup_cost")
        cpu = str(self.bench_cpu)
        variants = [("none", "nothing", None), ("none_aa", "nothing (A/A)", None)] + \
            self.agents()
        floor = env("HOOK_FLOOR", os.path.join(self.build, "tests", "hook_floor"))
        if os.access(floor, os.X_OK):
            # the kernel's mechanism alone: what no BPF code can make cheaper
            variants.append(("floor", "control: empty programs on the agent's hooks "
                             "(the wait calls', the loop thread's switch event)", floor))
            # what any hook on the wait call's return costs (a syscall
            # tracepoint puts every syscall of every task on the slow path)
            variants.append(("floor_tp", "control: an empty program on the wait calls' "
                             "return alone", floor))
            # of that, what the slow path every syscall takes costs by itself:
            # the loop waits in poll, the program is on epoll_wait's exit
            variants.append(("floor_slow", "control: an empty program on a wait call the "
                             "loop never makes (the syscall slow path alone)", floor))
        runs = {k: [] for k, _, _ in variants}
        log(f"wakeups: {a.wakeup_rounds} rounds of {', '.join(k for k, _, _ in variants)}")
        for r in range(a.wakeup_rounds):
            # rotated each round: drift of the shared machine cancels
            order = variants[r % len(variants):] + variants[:r % len(variants)]
            for key, _, agent in order:
                wait_no_foreign(set(), int(env("QUIET_TIMEOUT", "900")))
                if key.startswith("floor"):
                    runs[key].append(self.wakeup_floor(
                        helper, cpu, a.wakeup_seconds, agent,
                        {"floor_tp": ["--no-switches"],
                         "floor_slow": ["--slow-path-only"]}.get(key)))
                    log(f"wakeups: round {r + 1} {key}: {runs[key][-1]}")
                    continue
                cmd = [helper, "--cpu", cpu, "loop", str(a.wakeup_seconds + WAKEUP_WARMUP_S)]
                if agent:
                    # traced from its first instruction, so every segment is
                    cmd = [agent, "record", "-o", "/dev/null", "--"] + cmd
                out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
                segs = [(int(m), int(c)) for m, c in
                        re.findall(r"^loop round_trip_ns=(\d+) cpu_ns=(\d+)", out.stdout, re.M)]
                # the steady state: the agent follows every thread of a new
                # target for its first seconds (thread_events.h), untraced runs
                # are cut the same way; segments are half a second
                segs = segs[int(WAKEUP_WARMUP_S * 2):]
                if out.returncode or not segs:
                    die(f"wakeup_cost ({key}) failed ({out.returncode}): "
                        f"{out.stderr[-500:]}")
                runs[key].append({"round_trip_ns": median([x[0] for x in segs]),
                                  "cpu_ns": median([x[1] for x in segs]),
                                  "segments": len(segs)})
                log(f"wakeups: round {r + 1} {key}: {runs[key][-1]['round_trip_ns']} ns per "
                    f"round trip, {runs[key][-1]['cpu_ns']} ns CPU")
        res = {"rounds": a.wakeup_rounds, "seconds": a.wakeup_seconds, "configs": {}}
        base = runs["none"]
        for key, label, agent in variants:
            ms = runs[key]
            # per round, against the same round's untraced run: speed and CPU per iteration
            speed = [rnd(n["round_trip_ns"] / m["round_trip_ns"], 4) for m, n in zip(ms, base)]
            cpu_r = [rnd(n["cpu_ns"] / m["cpu_ns"], 4) for m, n in zip(ms, base)]
            res["configs"][key] = {
                "label": label, "agent": agent, "runs": ms, "ratio_per_round": speed,
                "cpu_ratio_per_round": cpu_r, "ratio": rnd(median(speed), 4),
                "cpu_ratio": rnd(median(cpu_r), 4),
                "median_round_trip_ns": median([m["round_trip_ns"] for m in ms]),
                "median_cpu_ns": median([m["cpu_ns"] for m in ms])}
            if key == "none":
                continue
            c = res["configs"][key]
            b = res["configs"]["none"]
            target = verdict = ""
            if key == "loopstall":
                # both threads run back to back on one CPU: on a CPU of its
                # own the loop's speed is 1 / CPU per iteration, which other
                # processes on a shared CPU do not disturb (wall time they do)
                target = f">= {TARGET_WAKEUP_RATIO} (CPU/iteration)"
                verdict = verdict_ge(c["cpu_ratio"], TARGET_WAKEUP_RATIO)
            self.row(sec, label,
                     f"speed ratio {c['ratio']:.3f} (rounds {min(speed):.3f}..{max(speed):.3f}), "
                     f"CPU/iteration ratio {c['cpu_ratio']:.3f} "
                     f"({b['median_cpu_ns']:.0f} -> {c['median_cpu_ns']:.0f} ns)", target, verdict)
        out = subprocess.run([helper, "--cpu", cpu, "perf", str(a.wakeup_segments)],
                             capture_output=True, text=True, timeout=600)
        perf = {k: int(v) for k, v in
                re.findall(r"^perf (\w+) median_round_trip_ns=(\d+)", out.stdout, re.M)}
        res["perf_event_round_trip_ns"] = perf
        self.results["wakeups"] = res
        if "no_event" in perf:
            base_ns = perf["no_event"]
            for k, label in (("disabled", "task-clock event opened, disabled"),
                             ("enabled_1ms_period", "  enabled, 1 ms period (the agent's)"),
                             ("enabled_100ms_period", "  enabled, 100 ms period")):
                if k in perf:
                    self.row(sec, label, f"{base_ns} -> {perf[k]} ns per iteration "
                             f"(+{perf[k] - base_ns} ns), no agent")

    def wakeup_floor(self, helper, cpu, seconds, floor, floor_args=None):
        """wakeup_cost loop with hook_floor's empty programs and the
        context-switch event on its loop thread, as the agent has in the
        steady state (floor_args ["--no-switches"]: the hooks alone;
        ["--slow-path-only"]: a hook on a call the loop never makes):
        medians of the half-second segments measured wholly after the
        attach."""
        p = self.children.start([helper, "--cpu", cpu, "loop", str(seconds + 3)],
                                stdout=subprocess.PIPE)
        lines = []  # (arrival, round_trip_ns, cpu_ns)

        def read():
            for raw in p.stdout:
                m = re.match(rb"loop round_trip_ns=(\d+) cpu_ns=(\d+)", raw)
                if m:
                    lines.append((time.monotonic(), int(m.group(1)), int(m.group(2))))
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        err = os.path.join(self.tmp, "hook_floor.err")
        with open(err, "w") as e:
            f = self.children.start([floor] + (floor_args or [str(p.pid)]), stderr=e,
                                    role="tracer")
        wait_for(lambda: "attached" in read_text(err), 60, "hook_floor to attach", f, err)
        attached = time.monotonic()
        if p.wait(600):
            die(f"wakeup_cost (floor) failed ({p.returncode})")
        reader.join(10)
        self.children.stop(f, signal.SIGTERM)
        self.children.stop(p)
        # a line ends the half second before it: keep those that began after the attach
        kept = [(rt, c) for t, rt, c in lines if t - 0.5 >= attached]
        if not kept:
            die("wakeup_cost (floor): no segment measured after hook_floor attached")
        return {"round_trip_ns": median([k[0] for k in kept]),
                "cpu_ns": median([k[1] for k in kept]), "segments": len(kept)}

    # ------------------------------------------------------------- single

    def section_single(self, redis):
        """redis-benchmark -c 1 -t get: every request wakes the loop once.
        Side by side (as section 1d): two servers on one CPU, both clients
        at once on another, the agent on one server, which one alternating
        by round; the agents and nothing (A/A) interleaved in each round."""
        a = self.args
        other = Redis(self.children, self.tmp, self.redis_cpu, "redis-single")
        servers = (redis, other)
        variants = [Tracer("none_aa", "nothing attached (A/A)")] + [
            Tracer(key, label, [agent, "record", "-p", "{pid}", "-o", "/dev/null"], r"recording")
            for key, label, agent in self.agents()]
        sec = f"1e. one client (redis-benchmark -c 1 -t get), side by side: two redis-servers " \
              f"on CPU {self.redis_cpu}, {a.single_requests} req each x {a.single_rounds} rounds"
        log(f"single: {a.single_rounds} rounds of {', '.join(t.key for t in variants)}")
        runs = {t.key: [] for t in variants}
        for r in range(a.single_rounds):
            traced, plain = servers[r % 2], servers[1 - r % 2]
            order = variants[r % len(variants):] + variants[:r % len(variants)]
            for t in order:
                m = self.pair_round("single", t, traced, plain, r, a.single_requests, 1,
                                    a.single_requests, ("get",))
                runs[t.key].append(m)
        out = {"requests": a.single_requests, "rounds": a.single_rounds, "configs": {}}
        for t in variants:
            ms = runs[t.key]
            ratios = [m["ratio"] for m in ms]
            cpus = [m["cpu_ratio"] for m in ms if m["cpu_ratio"]]
            c = {"label": t.label, "argv": t.argv, "ratio": rnd(median(ratios), 4),
                 "cpu_ratio": rnd(median(cpus), 4) if cpus else None, "rounds": ms}
            out["configs"][t.key] = c
            target = verdict = ""
            if t.key == "loopstall":
                target = f">= {TARGET_SINGLE_CLIENT_RATIO}"
                verdict = verdict_ge(c["ratio"], TARGET_SINGLE_CLIENT_RATIO)
            self.row(sec, t.label,
                     f"ratio {c['ratio']:.3f} (rounds {min(ratios):.3f}..{max(ratios):.3f}, "
                     f"redis CPU/req {c['cpu_ratio']:.3f})", target, verdict)
        self.results["single"] = out
        self.children.stop(other.proc, signal.SIGTERM)

    # ------------------------------------------------------------ latency

    def record_with_stamps(self, name, command, timeout):
        """`loopstall record -o FILE -- command`, with each line of FILE
        stamped (CLOCK_REALTIME) as it appears. Returns [(stamp_ns, record)]
        and the command's output."""
        rec = os.path.join(self.tmp, f"{name}.jsonl")
        stamps = os.path.join(self.tmp, f"{name}.stamps")
        cmd_out = os.path.join(self.tmp, f"{name}.out")
        open(rec, "w").close()
        with open(stamps, "w") as so, open(stamps + ".err", "w") as se:
            ls = self.children.start([self.helper("linestamp"), rec, '"type":"summary"'],
                                     stdout=so, stderr=se, role="tracer")
        wait_for(lambda: "ready" in read_text(stamps + ".err"), 10, "linestamp", ls,
                 stamps + ".err")
        wait_no_foreign(set(), int(env("QUIET_TIMEOUT", "900")))
        # records go to FILE; the command inherits record's stdout
        with open(cmd_out, "w") as co, open(rec + ".err", "w") as ce:
            p = self.children.start([self.loopstall, "record", "-o", rec, "--"] + command,
                                    stdout=co, stderr=ce, role="tracer")
            try:
                rc = p.wait(timeout)
            except subprocess.TimeoutExpired:
                die(f"{name}: loopstall record did not end within {timeout}s")
        if rc:
            die(f"{name}: loopstall record exited {rc}:\n{read_text(rec + '.err')[-2000:]}")
        try:
            ls.wait(10)
        except subprocess.TimeoutExpired:
            log(f"{name}: linestamp did not see the summary line")
        self.children.stop(ls, signal.SIGTERM)
        lines = []
        for line in read_text(stamps).splitlines():
            stamp, _, text = line.partition(" ")
            try:
                lines.append((int(stamp), json.loads(text)))
            except ValueError:
                pass
        return lines, read_text(cmd_out)

    def section_latency(self):
        a = self.args
        sec = f"5. detection latency: demo service, {a.stalls} sleeps of 120 ms " \
              "(threshold 50 ms)"
        lines, _ = self.record_with_stamps(
            "latency", [self.demo, "--scenarios", "sleep", "--sleep-ms", "120", "--repeat",
                        str(a.stalls), "--gap-ms", "30"], a.stalls * 0.5 + 60)
        begins = [(s, r) for s, r in lines if r.get("type") == "stall_begin"]
        stalls = [r for s, r in lines if r.get("type") == "stall"]
        lat = [(s - r["start_unix_ns"]) / 1e6 - r["threshold_ms"] for s, r in begins]
        # the agent's own view: how far past the threshold its scan noticed
        scan = [r["elapsed_ms"] - r["threshold_ms"] for s, r in begins]
        begun = {r["start_unix_ns"] for s, r in begins}
        missed = [r for r in stalls if r["start_unix_ns"] not in begun]
        # the first stall of a run pays for loading debug info (see README)
        durs = [r["duration_ms"] - 120 for r in stalls]
        res = {"stalls": len(stalls), "stall_begins": len(begins),
               "stalls_without_stall_begin": len(missed),
               "latency_ms": {"p50": rnd(pct(lat, 50)), "p90": rnd(pct(lat, 90)),
                              "p99": rnd(pct(lat, 99)), "max": rnd(max(lat) if lat else None),
                              "mean": rnd(statistics.mean(lat)) if lat else None},
               "agent_scan_late_ms": {"p50": rnd(pct(scan, 50)), "p99": rnd(pct(scan, 99)),
                                      "max": rnd(max(scan) if scan else None)},
               "latency_ms_each": [rnd(x) for x in lat],
               "duration_minus_120ms": {"mean": rnd(statistics.mean(durs)) if durs else None,
                                        "max": rnd(max(durs)) if durs else None,
                                        "min": rnd(min(durs)) if durs else None}}
        self.results["latency"] = res
        if not lat:
            self.row(sec, "stall_begin past threshold", "no stall_begin records", "", "ERROR")
            return
        p99 = res["latency_ms"]["p99"]
        self.row(sec, "stall_begin on disk, past threshold",
                 f"p50 {res['latency_ms']['p50']:.2f} ms, p99 {p99:.2f} ms, "
                 f"max {res['latency_ms']['max']:.2f} ms",
                 f"<= {TARGET_DETECTION_MS:g} ms", verdict_le(p99, TARGET_DETECTION_MS))
        self.row(sec, "  of which the agent's scan",
                 f"p50 {res['agent_scan_late_ms']['p50']:.2f} ms, "
                 f"p99 {res['agent_scan_late_ms']['p99']:.2f} ms")
        self.row(sec, "stalls with no stall_begin",
                 f"{len(missed)} of {len(stalls)}", "0", "ok" if not missed else "MISSED")

    # ----------------------------------------------------------- accuracy

    def section_accuracy(self, redis):
        a = self.args
        sec = "6. accuracy of reported durations"
        lines, out = self.record_with_stamps(
            "inject", [self.helper("inject"), "--count", str(a.injections), "--min-ms", "60",
                       "--max-ms", "500", "--gap-ms", "100"], a.injections * 1.5 + 60)
        inj = []
        for m in re.finditer(r"^inject (.*)$", out, re.M):
            d = dict(kv.split("=", 1) for kv in m.group(1).split())
            inj.append({k: (v if k == "kind" else int(v)) for k, v in d.items()})
        stalls = sorted((r for s, r in lines if r.get("type") == "stall"),
                        key=lambda r: r["start_unix_ns"])
        pairs = []
        for i in inj:
            near = min(stalls, key=lambda r: abs(r["start_unix_ns"] - i["start_unix_ns"]),
                       default=None)
            if near and abs(near["start_unix_ns"] - i["start_unix_ns"]) < 5e6:
                pairs.append({"seq": i["seq"], "kind": i["kind"], "target_ms": i["target_ms"],
                              "blocked_ms": i["blocked_ns"] / 1e6,
                              "busy_ms": i["busy_ns"] / 1e6,
                              "reported_ms": near["duration_ms"], "cause": near["cause"],
                              **split(near),
                              "start_offset_us": (near["start_unix_ns"] - i["start_unix_ns"])
                              / 1e3})
        err_blk = [p["reported_ms"] - p["blocked_ms"] for p in pairs]
        err_busy = [p["reported_ms"] - p["busy_ms"] for p in pairs]
        res = {"injected": len(inj), "matched": len(pairs),
               "error_vs_blocking_call_ms": summary(err_blk),
               "error_vs_loop_busy_period_ms": summary(err_busy),
               "by_kind": {k: summary([p["reported_ms"] - p["blocked_ms"] for p in pairs
                                       if p["kind"] == k]) for k in ("sleep", "spin")},
               "pairs": pairs}
        self.results["accuracy_inject"] = res
        label = f"inject.c, {len(pairs)}/{len(inj)} stalls of 60..500 ms (sleep, spin)"
        if err_blk:
            s = res["error_vs_blocking_call_ms"]
            self.row(sec, label + ": vs blocking call",
                     f"mean {s['mean']:+.3f} ms, max |err| {s['max_abs']:.3f} ms",
                     f"<= {TARGET_ERROR_MS:g} ms", verdict_le(s["max_abs"], TARGET_ERROR_MS))
            s = res["error_vs_loop_busy_period_ms"]
            self.row(sec, "  vs the loop's own busy period",
                     f"mean {s['mean']:+.3f} ms, max |err| {s['max_abs']:.3f} ms")
        else:
            self.row(sec, label, "no stalls matched", "", "ERROR")
        if len(pairs) < len(inj):
            self.row(sec, "  injected stalls not reported", str(len(inj) - len(pairs)), "0",
                     "MISSED")
        lat = self.results.get("latency", {}).get("duration_minus_120ms")
        if lat and lat["mean"] is not None:
            self.row(sec, "demo service, usleep(120 ms): reported - 120 ms",
                     f"mean {lat['mean']:+.3f} ms, max {lat['max']:+.3f} ms "
                     "(usleep oversleeps; no measured truth)")
        if redis:
            self.accuracy_redis(redis, sec)

    def accuracy_redis(self, redis, sec):
        a = self.args
        rec = os.path.join(self.tmp, "redis-latency.jsonl")
        redis.cmd("CONFIG", "SET", "latency-monitor-threshold", "50")
        redis.cmd("LATENCY", "RESET")
        wait_no_foreign(set(), int(env("QUIET_TIMEOUT", "900")))
        t = Tracer("loopstall", "loopstall record",
                   [self.loopstall, "record", "-p", "{pid}", "-o", rec], r"recording")
        att = Attached(self, t, redis.pid, "latency")
        rtts = []
        for _ in range(a.redis_sleeps):
            t0 = time.monotonic()
            redis.cmd("DEBUG", "SLEEP", "0.2")
            rtts.append((time.time(), (time.monotonic() - t0) * 1e3))
            # LATENCY keeps one sample per event and second
            time.sleep(1.2)
        att.stop()
        hist = redis.cmd("LATENCY", "HISTORY", "command") or []
        latest = redis.cmd("LATENCY", "LATEST")
        redis.cmd("CONFIG", "SET", "latency-monitor-threshold", "0")
        stalls = [json.loads(x) for x in read_text(rec).splitlines() if x.strip()]
        stalls = [r for r in stalls if r.get("type") == "stall"]
        pairs = []
        for ts, ms in hist:
            ts, ms = int(ts), int(ms)
            # Redis stamps the sample with time(NULL) right after the command
            near = min(stalls, key=lambda r: abs(r["end_unix_ns"] / 1e9 - ts - 0.5),
                       default=None)
            if near and abs(near["end_unix_ns"] / 1e9 - ts - 0.5) <= 1.0:
                pairs.append({"redis_ts": ts, "redis_ms": ms, "reported_ms": near["duration_ms"],
                              "cause": near["cause"], **split(near)})
        err = [p["reported_ms"] - p["redis_ms"] for p in pairs]
        # Redis times the command alone; the stall is the whole iteration
        # (reading the request, serverCron, writing replies): its blocked
        # part is the sleep itself
        err_off = [p["off_cpu_ms"] - p["redis_ms"] for p in pairs
                   if p.get("off_cpu_ms") is not None]
        res = {"sleeps": a.redis_sleeps, "latency_history": hist, "latency_latest": latest,
               "stalls": len(stalls), "matched": len(pairs),
               "error_vs_redis_ms": summary(err),
               "blocked_part_vs_redis_ms": summary(err_off),
               "client_rtt_ms": summary([x for _, x in rtts]),
               "reported_ms": summary([r["duration_ms"] for r in stalls]),
               "pairs": pairs}
        self.results["accuracy_redis"] = res
        label = f"redis DEBUG SLEEP 0.2 x {a.redis_sleeps}: vs LATENCY HISTORY"
        if err:
            s = res["error_vs_redis_ms"]
            self.row(sec, label,
                     f"mean {s['mean']:+.3f} ms, max |err| {s['max_abs']:.3f} ms, "
                     f"{len(pairs)} matched (Redis counts whole ms, rounding down)")
            s = res["blocked_part_vs_redis_ms"]
            if s["n"]:
                self.row(sec, "  the stall's blocked part vs LATENCY HISTORY",
                         f"mean {s['mean']:+.3f} ms, max |err| {s['max_abs']:.3f} ms "
                         "(Redis times the command alone)")
        else:
            self.row(sec, label, f"nothing matched ({len(stalls)} stalls, "
                     f"{len(hist)} LATENCY samples)", "", "ERROR")

    # --------------------------------------------------------------- main

    def section_agentcpu(self):
        """The agent's own CPU time (stall_cost.py): this build twice (A/A)
        and, when set, $LOOPSTALL_BASE, in interleaved rounds."""
        import stall_cost

        a = self.args
        sec = ("7. agent CPU (sum of its threads' run time) per attach and per 300 ms stall, "
               f"median of {a.cost_rounds} rounds")
        bins = [("this build", self.loopstall), ("A/A", self.loopstall)]
        base = os.environ.get("LOOPSTALL_BASE")
        if base:
            bins.insert(0, ("before", base))
        cases = ["py-cpu", "py-sleep", "demo-cpu", "daemon-py-cpu", "py-cpu-cold"]
        res = stall_cost.measure(bins, cases, a.cost_rounds, a.cost_stalls)
        self.results["agentcpu"] = res
        rows = (("py-cpu", "attach", "attach, before the first stall", TARGET_ATTACH_MS),
                # on a fresh machine attach inflates the debug files the attach scan opens
                ("py-cpu-cold", "attach", "attach, empty debug cache", TARGET_ATTACH_MS),
                ("py-cpu", "each later stall", "python CPU stall", TARGET_CPU_STALL_MS),
                ("py-cpu", "first stall", "python CPU stall, the first (debug info)", None),
                ("py-cpu-cold", "first stall", "python CPU stall, the first, empty debug cache",
                 None),
                ("py-sleep", "each later stall", "python blocking stall", TARGET_BLOCK_STALL_MS),
                ("py-sleep", "first stall", "python blocking stall, the first", None),
                ("demo-cpu", "each later stall", "demo service CPU stall", TARGET_CPU_STALL_MS),
                ("demo-cpu", "first stall", "demo service CPU stall, the first", None),
                ("daemon-py-cpu", "2nd process, first stall",
                 "loopstalld: a 2nd python's first CPU stall", None))
        for case, key, text, target in rows:
            for label, _ in bins:
                xs = stall_cost.series(res[label][case], case)[key]
                m = median(xs) if xs else None
                value = (f"{m:6.1f} ms (rounds {min(xs):.1f}..{max(xs):.1f})" if xs else "n/a")
                judged = target is not None and label == "this build"
                self.row(sec, f"{text} [{label}]", value,
                         f"<= {target:.0f} ms" if judged else "",
                         verdict_le(m, target) if judged else "")

    def machine(self):
        model = "?"
        for line in read_text("/proc/cpuinfo").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        return {"nproc": os.cpu_count(), "kernel": os.uname().release, "cpu_model": model,
                "mem_total_kb": int(read_text("/proc/meminfo").split()[1]),
                "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
                "loopstall": self.loopstall,
                "loopstall_sha256_prefix": sha256_prefix(self.loopstall),
                "git_head": git("rev-parse", "--short", "HEAD"),
                # what the build may hold beyond HEAD
                "git_dirty": (git("status", "--porcelain", "--untracked-files=no", "--",
                                  "agent", "record", "daemon", "cli", "examples") or "").split("\n")}

    def run(self):
        a = self.args
        for tool in ("redis-server", "redis-benchmark", "bpftool"):
            if not shutil.which(tool):
                die(f"{tool} not found (see .ci/install-deps)")
        for path in (self.loopstall, self.demo):
            if not os.access(path, os.X_OK):
                die(f"no {path} (build it, or set BUILD / LOOPSTALL / DEMO_SERVICE)")
        self.helper("inject")
        self.helper("linestamp")
        quiet = True
        if not a.no_wait:
            quiet = wait_quiet_machine(float(env("QUIET_LOAD", "0.5")),
                                       float(env("QUIET_SECONDS", "30")),
                                       float(env("QUIET_TIMEOUT", "900")))
        self.results["machine"] = self.machine()
        self.results["machine"]["quiet_at_start"] = quiet
        self.results["machine"]["loadavg_start"] = loadavg()
        self.results["argv"] = sys.argv
        t0 = time.monotonic()
        secs = a.sections
        redis = None
        if {"service", "paired", "single", "hooks", "accuracy"} & secs:
            redis = Redis(self.children, self.tmp, self.redis_cpu)
        if "service" in secs:
            self.section_service(redis)
        if "paired" in secs:
            self.section_paired(redis)
        if "single" in secs:
            self.section_single(redis)
        if "hooks" in secs:
            self.section_hooks(redis)
        if "bystander" in secs:
            self.section_bystander()
        if "wakeups" in secs:
            self.section_wakeups()
        if "libprobe" in secs:
            self.section_libprobe()
        if "latency" in secs:
            self.section_latency()
        if "accuracy" in secs:
            self.section_accuracy(redis)
        if "agentcpu" in secs:
            self.section_agentcpu()
        self.results["machine"]["loadavg_end"] = loadavg()
        self.results["seconds"] = round(time.monotonic() - t0)
        self.results["table"] = [dict(zip(("section", "row", "value", "target", "verdict"), r))
                                 for r in self.rows]
        self.print_table()
        with open(a.out, "w") as f:
            json.dump(self.results, f, indent=1)
            f.write("\n")
        log(f"results in {a.out}")

    def print_table(self):
        m = self.results["machine"]
        print(f"\nloopstall overhead and accuracy - {m['date']}")
        print(f"machine: {m['nproc']} CPUs ({m['cpu_model']}), kernel {m['kernel']}, "
              f"load {m['loadavg_start'][0]} at start, {m['loadavg_end'][0]} at end")
        section = None
        for sec, label, value, target, verdict in self.rows:
            if sec != section:
                print(f"\n{sec}")
                section = sec
            tail = f"  [target {target}: {verdict}]" if target else (
                f"  [{verdict}]" if verdict else "")
            print(f"  {label:44s} {value}{tail}")
        print()

    def cleanup(self):
        if self.bpf_stats_old is not None:
            try:
                with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
                    f.write(self.bpf_stats_old)
            except OSError:
                pass
        self.children.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)


def split(stall):
    """How a stall record divides its time."""
    return {k: stall.get(k) for k in ("on_cpu_ms", "off_cpu_ms", "runqueue_ms")}


def summary(xs):
    if not xs:
        return {"n": 0, "mean": None, "max_abs": None, "min": None, "max": None}
    return {"n": len(xs), "mean": rnd(statistics.mean(xs), 4),
            "max_abs": rnd(max(abs(x) for x in xs), 4), "min": rnd(min(xs), 4),
            "max": rnd(max(xs), 4)}


def verdict_ge(x, target):
    if x is None:
        return "n/a"
    return "ok" if x >= target else f"MISSED by {target - x:.3f}"


def verdict_le(x, target):
    if x is None:
        return "n/a"
    return "ok" if x <= target else f"MISSED by {x - target:.2f}"


def git(*args):
    try:
        r = subprocess.run(["git", "-C", REPO] + list(args), capture_output=True, text=True)
        return r.stdout.rstrip() if r.returncode == 0 else None
    except OSError:
        return None


def sha256_prefix(path):
    import hashlib
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()[:16]
    except OSError:
        return None


SECTIONS = ("service", "paired", "single", "hooks", "wakeups", "bystander", "libprobe", "latency",
            "accuracy", "agentcpu")


def parse_args():
    p = argparse.ArgumentParser(
        prog="overhead.py", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 2)[2])
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    p.add_argument("--requests", type=int, default=200000,
                   help="redis-benchmark -n, per test (default 200000)")
    p.add_argument("--clients", type=int, default=50, help="redis-benchmark -c (default 50)")
    p.add_argument("--stalls", type=int, default=100, help="demo stalls for latency (100)")
    p.add_argument("--injections", type=int, default=20, help="inject.c stalls (20)")
    p.add_argument("--redis-sleeps", type=int, default=10, help="DEBUG SLEEP 0.2 count (10)")
    p.add_argument("--wakeup-rounds", type=int, default=6,
                   help="interleaved rounds of wakeup_cost loop runs (6)")
    p.add_argument("--wakeup-seconds", type=float, default=2)
    p.add_argument("--single-rounds", type=int, default=6,
                   help="interleaved rounds of the one-client redis runs (6)")
    p.add_argument("--single-requests", type=int, default=50000,
                   help="redis-benchmark -n per client there (50000)")
    p.add_argument("--wakeup-segments", type=int, default=30,
                   help="100 ms segments per state in wakeup_cost perf (30)")
    p.add_argument("--bystander-rounds", type=int, default=5)
    p.add_argument("--paired-rounds", type=int, default=4,
                   help="rounds per tool in the side-by-side Redis section (4)")
    p.add_argument("--paired-requests", type=int, default=100000,
                   help="redis-benchmark -n per client there (100000)")
    p.add_argument("--toggle-rounds", type=int, default=20,
                   help="bystander_toggle --rounds (default 20)")
    p.add_argument("--libprobe-rounds", type=int, default=8,
                   help="libprobe_bench --rounds (default 8)")
    p.add_argument("--bystander-seconds", type=float, default=3)
    p.add_argument("--cost-rounds", type=int, default=5,
                   help="stall_cost.py rounds in section agentcpu (default 5)")
    p.add_argument("--cost-stalls", type=int, default=4,
                   help="stalls per victim there (default 4)")
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help=f"comma list of {','.join(SECTIONS)} (default all)")
    p.add_argument("--quick", action="store_true",
                   help="short everything (development): 1 round, 20000 requests, ...")
    p.add_argument("--no-controls", dest="controls", action="store_false",
                   help="leave out the control rows that split loopstall's cost")
    p.add_argument("--no-wait", action="store_true",
                   help="do not wait for a quiet machine before starting")
    a = p.parse_args()
    a.sections = set(s for s in a.sections.split(",") if s)
    bad = a.sections - set(SECTIONS)
    if bad:
        p.error(f"unknown section(s): {','.join(sorted(bad))}")
    if a.quick:
        a.rounds, a.requests, a.stalls, a.injections, a.redis_sleeps = 1, 20000, 10, 6, 3
        a.bystander_rounds, a.bystander_seconds, a.libprobe_rounds = 1, 1, 1
        a.toggle_rounds, a.paired_rounds, a.paired_requests = 2, 2, 10000
        a.wakeup_rounds, a.wakeup_seconds, a.wakeup_segments = 2, 1, 5
        a.single_rounds, a.single_requests = 2, 10000
        a.cost_rounds, a.cost_stalls = 1, 2
    for name in ("rounds", "requests", "clients", "stalls", "injections", "redis_sleeps",
                 "bystander_rounds", "toggle_rounds", "paired_rounds", "paired_requests",
                 "libprobe_rounds", "wakeup_rounds",
                 "wakeup_segments", "single_rounds", "single_requests", "cost_rounds", "cost_stalls"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} wants a positive number")
    a.out = env("OUT", "overhead.json")
    return a


def main():
    a = parse_args()
    if os.geteuid() != 0:
        print(f"{PROG}: must run as root (the tracers load BPF programs)", file=sys.stderr)
        return 2
    bench = Bench(a)

    def on_signal(sig, frame):
        raise SystemExit(128 + sig)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        bench.run()
    finally:
        bench.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
