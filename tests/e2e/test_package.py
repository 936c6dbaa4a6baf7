#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The .deb installs a working service and leaves nothing behind.

`cpack -G DEB` in the build directory (into a temporary directory); the
package's control data: Depends from dpkg-shlibdeps, the configuration a
conffile. Installed on this machine with `dpkg -i`:
- `loopstall demo` from the installed bin directory finds the installed demo
  service and reports its sleep (blocking_syscall) and its computation;
- the man pages and the bash completion are where man and bash-completion
  look; libprobe.so.0 is in the dynamic linker's cache (ldconfig trigger);
- the installed unit passes `systemd-analyze verify` and rates at most 5.0 in
  `systemd-analyze security`; its ExecStart runs the installed daemon with the
  installed configuration; it is run by hand (systemd need not be PID 1 here) the way
  the unit would run it: its capability bounding set, no_new_privs and UMask
  (setpriv), in a mount namespace of its own without tracefs (so that it
  mounts it), and under strace, so that every system call the daemon makes is
  checked against the unit's SystemCallFilter (as `systemd-analyze
  syscall-filter` expands it). It follows the installed demo service (-p on
  the command line): its /metrics, on a free port given on the command line,
  counts the demo's stalls and passes `promtool check metrics`; SIGHUP reads
  the installed configuration again; SIGTERM stops it with 0, its records
  not world-readable, its --metrics-file readable by all (node_exporter).
- `dpkg -r` keeps the configuration, `dpkg -P` removes it: afterwards every
  path the package brought that was not there before is gone, and so is
  libprobe from the linker's cache.

Nothing the package holds may exist on the machine before the test (it
would be overwritten, then removed): the test fails instead. The package
is purged in a finally, pass or fail.
"""
import fnmatch
import glob
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time

import lstest

PACKAGE = "loopstall"


def run(argv, timeout=120, check=True, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if check:
        assert r.returncode == 0, (f"{' '.join(argv)}: exit {r.returncode}\n"
                                   f"stdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}")
    return r


def dpkg(*args, check=True):
    """dpkg ARGS; waits (up to a minute) while another dpkg or apt holds the lock."""
    deadline = time.monotonic() + 60
    while True:
        r = run(["dpkg", *args], check=False)
        if r.returncode and "lock" in r.stderr and time.monotonic() < deadline:
            time.sleep(1)
            continue
        if check:
            assert r.returncode == 0, f"dpkg {' '.join(args)}: exit {r.returncode}\n{r.stderr}"
        return r


def installed():
    r = run(["dpkg-query", "-W", "-f", "${db:Status-Status}", PACKAGE], check=False)
    return r.returncode == 0 and r.stdout.strip() not in ("", "not-installed")


def build_deb(out_dir):
    build = lstest.env_path("BUILD_DIR")
    r = run(["cpack", "-G", "DEB", "-B", out_dir], cwd=build, timeout=300)
    debs = glob.glob(os.path.join(out_dir, f"{PACKAGE}_*.deb"))
    assert len(debs) == 1, f"cpack made {debs}; its output:\n{r.stdout}"
    return debs[0]


def deb_paths(deb):
    """(files, dirs) the package holds, as absolute paths."""
    files, dirs = [], []
    for line in run(["dpkg-deb", "-c", deb]).stdout.splitlines():
        # drwxr-xr-x root/root 0 2026-12-07 18:55 ./usr/bin/ [-> target]
        path = line.split(None, 5)[5].split(" -> ")[0]
        path = "/" + path.lstrip("./").rstrip("/")
        (dirs if line.startswith("d") else files).append(path)
    return files, dirs


def check_control(deb):
    fields = {f: run(["dpkg-deb", "-f", deb, f]).stdout.strip()
              for f in ("Package", "Depends", "Version")}
    print(f"  {os.path.basename(deb)}: {fields}")
    assert fields["Package"] == PACKAGE, fields
    # dpkg-shlibdeps found the libraries the binaries link
    for lib in ("libbpf1", "libelf1", "libcjson1", "libmicrohttpd12", "libc6"):
        assert re.search(rf"\b{lib}\b", fields["Depends"]), f"Depends lacks {lib}: {fields}"
    conffiles = run(["dpkg-deb", "-I", deb, "conffiles"]).stdout.split()
    assert len(conffiles) == 1 and conffiles[0].endswith("/loopstall/loopstalld.conf"), conffiles
    return conffiles[0]


def unit_settings(path):
    """{key: [values]} of a unit file (no line continuations in ours)."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", ";", "[")) and "=" in line:
                k, v = line.split("=", 1)
                out.setdefault(k.strip(), []).append(v.strip())
    return out


_groups = {}


def expand(name):
    """The system calls a SystemCallFilter word stands for, nested groups expanded."""
    if not name.startswith("@"):
        return {name}
    if name not in _groups:
        text = run(["systemd-analyze", "syscall-filter", name]).stdout
        calls = set()
        for line in text.splitlines()[1:]:
            word = line.strip()
            if word and not word.startswith("#"):
                calls |= expand(word)
        assert calls, f"systemd-analyze syscall-filter {name}: empty"
        _groups[name] = calls
    return _groups[name]


def allowed_syscalls(settings):
    allow, deny = set(), set()
    for value in settings.get("SystemCallFilter", []):
        words = value.split()
        if words and words[0].startswith("~"):
            words[0] = words[0][1:]
            for w in words:
                deny |= expand(w)
        else:
            for w in words:
                allow |= expand(w)
    assert allow, f"the unit has no SystemCallFilter allow list: {settings}"
    return allow - deny


def traced_syscalls(trace, exe):
    """Names of the calls in an `strace -f -o` file after EXE was executed."""
    seen, started = set(), False
    with open(trace) as f:
        for line in f:
            m = re.match(r"^\d+\s+([a-z0-9_]+)\(", line)
            if not m:
                continue
            if not started:
                started = m.group(1) == "execve" and f'"{exe}"' in line and "= 0" in line
                continue
            seen.add(m.group(1))
    assert started, f"no successful execve of {exe} in the trace"
    return seen


def setpriv_argv(settings):
    """setpriv options that do what the unit's capability and privilege settings do."""
    caps = " ".join(settings["CapabilityBoundingSet"]).split()
    bounding = ",".join(["-all"] + ["+" + c.lower().removeprefix("cap_") for c in caps])
    argv = ["setpriv", f"--bounding-set={bounding}"]
    if settings.get("NoNewPrivileges", ["no"])[-1] == "yes":
        argv.append("--no-new-privs")
    return argv


def run_demo(paths):
    loopstall = next(p for p in paths if re.search(r"/bin/loopstall$", p))
    r = run([loopstall, "demo"], timeout=90)
    out = r.stdout
    m = re.search(r"JSON records: (\S+)", out)
    if m and m.group(1).startswith("/tmp/loopstall-demo-"):
        os.unlink(m.group(1))
    print(f"  {loopstall} demo: " + "; ".join(
        l.strip() for l in out.splitlines() if re.match(r"\s+#\d", l)))
    causes = re.findall(r"#\d+\s+[\d.]+ ms\s+(\w+)", out)
    # the 200 ms computation is `preempted` when this busy machine kept it waiting
    assert "blocking_syscall" in causes and ({"cpu", "preempted"} & set(causes)), (
        f"{loopstall} demo: stalls {causes}, expected the sleep and the computation:\n"
        f"{out}\n{r.stderr}")


def dpkg_excluded(path):
    """Whether dpkg's configuration keeps PATH off this machine (path-exclude,
    as Debian's container images do for /usr/share/man)."""
    excluded = False
    for cfg in glob.glob("/etc/dpkg/dpkg.cfg.d/*"):
        with open(cfg, errors="replace") as f:
            for line in f:
                m = re.match(r"\s*path-(exclude|include)[=\s]+(\S+)", line)
                if m and fnmatch.fnmatch(path, m.group(2)):
                    excluded = m.group(1) == "exclude"
    return excluded


def check_docs(paths):
    for section, page in (("8", "loopstall"), ("8", "loopstalld"), ("5", "loopstalld.conf"),
                          ("3", "libprobe")):
        ours = [p for p in paths if re.search(rf"/man{section}/{re.escape(page)}\.{section}", p)]
        assert len(ours) == 1, f"the package has no {page}({section}): {sorted(paths)}"
        if dpkg_excluded(ours[0]):
            print(f"  {ours[0]}: not installed here (dpkg path-exclude)")
            continue
        where = run(["man", "-w", section, page]).stdout.strip()
        assert where == ours[0], f"man -w {section} {page} = {where}, not the package's {ours[0]}"
    # bash-completion loads these by command name; bash alone can run them
    comp = [p for p in paths if "/bash-completion/completions/" in p]
    for command, words, want in (("loopstall", ["loopstall", "rep"], "report"),
                                 ("loopstalld", ["loopstalld", "--metrics-f"], "--metrics-file")):
        script = next(p for p in comp if p.endswith("/" + command))
        r = run(["bash", "-c", f'. "$1"; COMP_WORDS=({" ".join(words)}); COMP_CWORD=1; '
                 f'_{command}; echo "${{COMPREPLY[*]}}"', "bash", script])
        assert r.stdout.strip() == want, f"{script}: {words} completes to {r.stdout!r}"
    cache = run(["ldconfig", "-p"]).stdout
    assert "libprobe.so.0 " in cache, "libprobe.so.0 is not in the dynamic linker's cache"


def tracefs_mounted_alone():
    """Whether tracefs is mounted at /sys/kernel/tracing and debugfs offers no
    tracing directory: then a daemon that finds it unmounted mounts it."""
    with open("/proc/mounts") as f:
        mounts = [line.split() for line in f]
    return (any(m[1] == "/sys/kernel/tracing" and m[2] == "tracefs" for m in mounts)
            and not any(m[2] == "debugfs" for m in mounts))


def daemon_pid(proc):
    """The daemon under strace: strace's only child (strace ends with its exit status)."""
    with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
        children = f.read().split()
    assert len(children) == 1, f"strace has children {children}"
    return int(children[0])


def run_service(s, paths, conffile):
    unit = next(p for p in paths if p.endswith("/systemd/system/loopstalld.service"))
    settings = unit_settings(unit)
    exec_start = shlex.split(settings["ExecStart"][-1])
    print(f"  {unit}: ExecStart={' '.join(exec_start)}")
    assert exec_start[0] in paths, f"ExecStart runs {exec_start[0]}, not the package's daemon"
    assert exec_start[1:] == ["--config", conffile], (
        f"ExecStart's arguments {exec_start[1:]} are not --config {conffile}")
    assert os.path.exists(conffile), f"{conffile} not installed"
    umask = int(settings["UMask"][-1], 8)
    # offline: systemd need not run here; verify also runs `man` on Documentation=
    r = run(["systemd-analyze", "verify", unit], check=False)
    said = [l for l in (r.stdout + r.stderr).splitlines()
            if not ("Command 'man " in l and any(dpkg_excluded(p) for p in paths if "/man/" in p))]
    assert r.returncode == 0 and not said, f"systemd-analyze verify {unit}:\n" + "\n".join(said)
    r = run(["systemd-analyze", "security", "--offline=yes", "--threshold=50", unit], check=False)
    score = re.search(r"Overall exposure level for \S+: ([\d.]+)", r.stdout)
    print(f"  systemd-analyze security: {score and score.group(1)}")
    assert r.returncode == 0 and score, f"exposure above 5.0 (or none):\n{r.stdout[-2000:]}"

    # a target, so that the traced daemon attaches, samples, unwinds and writes
    service = next(p for p in paths if p.endswith("/loopstall-demo-service"))
    victim = s.start([service, "--scenarios", "sleep,cpu", "--wait-signal", "--linger-ms", "400"])
    port = lstest.free_port()
    trace = os.path.join(s.dir, "strace.out")
    out_dir = os.path.join(s.dir, "out")
    prom_file = os.path.join(s.dir, "loopstall.prom")
    # In a mount namespace of its own, as the unit's ProtectSystem= gives it,
    # without tracefs: the daemon mounts it (agent/src/tracefs.c), which the
    # filter must allow. The machine's own mount is untouched.
    unmount = tracefs_mounted_alone()
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            ("umount /sys/kernel/tracing && " if unmount else "") + 'exec "$@"', "sh",
            "strace", "-f", "-qq", "-o", trace, *setpriv_argv(settings), *exec_start,
            "--metrics-addr", f"127.0.0.1:{port}", "--output", out_dir, "-p", f"demo={victim.pid}",
            "--metrics-file", prom_file]
    old = os.umask(umask)
    try:
        d = lstest.Proc(argv, "loopstalld (installed)")
    finally:
        os.umask(old)
    s.procs.append(d)
    got = d.wait_line("stderr", lambda l: l.startswith("loopstalld: running"), 60)
    assert got, f"the installed loopstalld did not start:\n{d.text('stderr')}"
    victim.signal(signal.SIGUSR2)
    assert victim.wait(30) == 0, f"demo service: {victim.text('stderr')}"

    def stalls():
        status, body = lstest.http_get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert status == 200, f"GET /metrics: {status} {body[:300]}"
        n = sum(v for name, labels, v in lstest.parse_metrics(body)
                if name == "loopstall_stalls_total" and labels.get("target") == "demo")
        return body if n >= 2 else None
    body = lstest.wait_for("the demo's two stalls in /metrics", stalls, 20, interval=0.3)
    r = subprocess.run(["promtool", "check", "metrics"], input=body, text=True,
                       capture_output=True, timeout=30)
    said = (r.stdout + r.stderr).strip()
    print(f"  promtool check metrics: rc={r.returncode} output={said!r}")
    assert r.returncode == 0 and not said, f"promtool check metrics says:\n{said}"
    samples = lstest.parse_metrics(body)
    assert lstest.metric(samples, "loopstall_build_info", version="0.1.0") == 1, body[:500]
    # SIGHUP: the installed configuration is read again (no targets of its own)
    d_pid = daemon_pid(d)
    os.kill(d_pid, signal.SIGHUP)
    assert d.wait_line("stderr", lambda l: "configuration reloaded" in l, 20), (
        f"no reload after SIGHUP:\n{d.text('stderr')}")

    os.kill(d_pid, signal.SIGTERM)
    rc = d.wait(20)
    assert rc == 0, f"installed loopstalld on SIGTERM: exit {rc}\n{d.text('stderr')}"
    records = os.path.join(out_dir, "stalls.jsonl")
    mode = os.stat(records).st_mode & 0o777
    assert not mode & 0o007, f"{records} is mode {mode:o} under UMask {umask:04o}"
    # ...but node_exporter, another user, reads the metrics file
    mode = os.stat(prom_file).st_mode & 0o777
    assert mode == 0o644, f"{prom_file} is mode {mode:o} under UMask {umask:04o}, not 644"
    kinds = [r["type"] for r in lstest.read_records(records)]
    assert kinds.count("stall") >= 2 and kinds[-1] == "summary", kinds

    used = traced_syscalls(trace, exec_start[0])
    allowed = allowed_syscalls(settings)
    outside = sorted(used - allowed)
    print(f"  {len(used)} distinct system calls, all in SystemCallFilter:"
          f" {not outside} (allowed: {len(allowed)})")
    assert not outside, (f"loopstalld made calls the unit's SystemCallFilter refuses: {outside}"
                         f" (filter: {settings['SystemCallFilter']})")
    for call in ("bpf", "perf_event_open") + (("mount",) if unmount else ()):
        assert call in used, f"the trace shows no {call}: was the daemon traced?"


def test():
    lstest.require_root()
    for tool in ("dpkg", "cpack", "strace", "setpriv", "systemd-analyze", "promtool", "man"):
        assert shutil.which(tool), f"{tool} is not installed (.ci/install-deps)"
    assert not installed(), (f"package {PACKAGE} is already installed on this machine:"
                             " this test does not touch an install it did not make")
    with lstest.Session() as s, tempfile.TemporaryDirectory(prefix="loopstall-deb-") as out:
        deb = build_deb(out)
        conffile = check_control(deb)
        files, dirs = deb_paths(deb)
        there = [p for p in files if os.path.lexists(p)]
        assert not there, f"the package would overwrite files it does not own: {there}"
        new_dirs = [p for p in dirs if not os.path.exists(p)]
        try:
            dpkg("-i", deb)
            paths = set(dpkg("-L", PACKAGE).stdout.split())
            run_demo(paths)
            check_docs(paths)
            run_service(s, paths, conffile)

            dpkg("-r", PACKAGE)
            left = [p for p in files if os.path.lexists(p) and p != conffile]
            assert not left, f"dpkg -r left {left}"
            assert os.path.exists(conffile), "dpkg -r removed the configuration (a conffile)"
            dpkg("-P", PACKAGE)
            assert not installed(), "still known to dpkg after dpkg -P"
        finally:
            for p in reversed(s.procs):
                p.kill()
            if installed():
                dpkg("-P", PACKAGE, check=False)
        left = [p for p in files + new_dirs if os.path.lexists(p)]
        assert not left, f"left behind after dpkg -P: {left}"
        assert "libprobe.so.0 " not in run(["ldconfig", "-p"]).stdout, (
            "libprobe.so.0 still in the linker's cache after the purge")
        print(f"  installed and purged {len(files)} files, {len(new_dirs)} new directories:"
              " nothing left")


if __name__ == "__main__":
    lstest.main(test)
