#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The output file: disk full, unwritable, not what it seems.

  -o /dev/full      every write fails (ENOSPC): one clear line on stderr and
                    a non-zero exit as soon as the first record cannot be
                    written (a stall in progress, or the summary of an idle
                    run), never a recording that goes on writing nothing;
  unwritable        a symlink at the path (never followed: O_NOFOLLOW), a
                    read-only file system, a directory: exit 2, one line,
                    before anything is attached;
  a FIFO            nobody reads: the recorder must not hang opening it;
  permissions       a new file is 0640 (whatever the umask) and root's; a
                    file someone else created before (0666, theirs) must not
                    end up holding the records readable by them.
"""
import os
import signal
import stat
import subprocess
import time

import faults
import lstest


def run_recorder(s, args, timeout=20):
    rec = lstest.Proc([lstest.loopstall(), "record", *args], "loopstall record")
    s.procs.append(rec)
    rc = rec.wait(timeout)
    lines = [l for l in rec.text("stderr").splitlines() if l.strip()]
    return rc, lines


def expect_refused(s, target, out, what):
    rc, lines = run_recorder(s, ["-p", str(target.pid), "--duration", "1s", "-o", out], 10)
    assert rc == 2 and len(lines) == 1, (
        f"{what}: expected exit 2 and one stderr line, got {rc} and {lines}")
    print(f"  {what}: exit 2: {lines[0]}")
    return lines[0]


def dev_full_stall(s):
    target = s.start(faults.victim_argv("block", 1000), name="fault_victim")
    rec = lstest.Proc([lstest.loopstall(), "record", "-p", str(target.pid), "-o", "/dev/full"],
                      "loopstall record")
    s.procs.append(rec)
    time.sleep(1.0)
    assert rec.p.poll() is None, f"recorder ended before the stall: {rec.text('stderr')}"
    target.signal(signal.SIGUSR2)
    faults.victim_time(target, "blocking")
    t0 = time.monotonic()
    rc = rec.wait(10)
    took = time.monotonic() - t0
    lines = [l for l in rec.text("stderr").splitlines() if l.strip() and "recording" not in l]
    print(f"  /dev/full, a stall: exit {rc} {took * 1000:.0f} ms after the block began: {lines}")
    assert rc != 0, "recorder exited 0 writing to /dev/full"
    assert len(lines) == 1 and "/dev/full" in lines[0] and "No space left" in lines[0], lines
    assert took < 2, f"recorder went on {took:.1f} s after its first write failed"
    assert target.p.poll() is None, "the target died"
    target.kill()


def dev_full_idle(s, target):
    rc, lines = run_recorder(s, ["-p", str(target.pid), "--duration", "500ms", "-o", "/dev/full"])
    lines = [l for l in lines if "recording" not in l]
    print(f"  /dev/full, idle: exit {rc}: {lines}")
    assert rc != 0 and len(lines) == 1 and "No space left" in lines[0], (rc, lines)


def symlink(s, target):
    victim_file = os.path.join(s.dir, "precious")
    with open(victim_file, "w") as f:
        f.write("keep me\n")
    link = os.path.join(s.dir, "out-link.jsonl")
    os.symlink(victim_file, link)
    expect_refused(s, target, link, "symlink at the output path")
    with open(victim_file) as f:
        assert f.read() == "keep me\n", "the symlink's target was written"


def read_only_fs(s, target):
    ro = os.path.join(s.dir, "ro")
    os.mkdir(ro)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro], check=True)
    try:
        line = expect_refused(s, target, os.path.join(ro, "out.jsonl"), "read-only file system")
        assert "Read-only" in line, line
    finally:
        subprocess.run(["umount", ro], check=False)


def directory(s, target):
    expect_refused(s, target, s.dir, "a directory")


def fifo(s, target):
    path = os.path.join(s.dir, "out.fifo")
    os.mkfifo(path)
    rec = lstest.Proc([lstest.loopstall(), "record", "-p", str(target.pid), "--duration", "1s",
                       "-o", path], "loopstall record")
    s.procs.append(rec)
    try:
        rc = rec.p.wait(5)
    except subprocess.TimeoutExpired:
        rec.kill()
        raise AssertionError(
            "BUG: `-o FIFO` with no reader hangs the recorder in open() (writer.c opens"
            " O_WRONLY without O_NONBLOCK; a FIFO or other special file at a predictable"
            " output path stops the agent before it starts)") from None
    lines = [l for l in rec.text("stderr").splitlines() if l.strip()]
    print(f"  FIFO without a reader: exit {rc}: {lines}")


def new_file_mode(s, target):
    out = os.path.join(s.dir, "new.jsonl")
    old = os.umask(0)
    try:
        rc, lines = run_recorder(s, ["-p", str(target.pid), "--duration", "300ms", "-o", out])
    finally:
        os.umask(old)
    assert rc == 0, (rc, lines)
    st = os.stat(out)
    print(f"  new file with umask 000: mode {stat.S_IMODE(st.st_mode):o}, uid {st.st_uid}")
    assert stat.S_IMODE(st.st_mode) == 0o640 and st.st_uid == 0, oct(st.st_mode)


def pre_existing(s, target):
    out = os.path.join(s.dir, "planted.jsonl")
    os.chmod(s.dir, 0o777)
    fd = os.open(out, os.O_CREAT | os.O_WRONLY, 0o666)
    os.fchown(fd, 65534, 65534)
    os.fchmod(fd, 0o666)
    os.close(fd)
    rc, lines = run_recorder(s, ["-p", str(target.pid), "--duration", "300ms", "-o", out])
    st = os.stat(out)
    print(f"  file planted by uid 65534 (0666): exit {rc}, now mode"
          f" {stat.S_IMODE(st.st_mode):o} uid {st.st_uid}, {st.st_size} bytes")
    if rc == 2:
        return
    assert not (st.st_size and (st.st_uid != 0 or stat.S_IMODE(st.st_mode) & 0o007)), (
        "BUG: the records went into a file another user created and can read (mode"
        f" {stat.S_IMODE(st.st_mode):o}, uid {st.st_uid}): writer.c truncates an existing file"
        " without checking its owner, link count or mode")


def test():
    lstest.require_root()
    failures = []
    with lstest.Session() as s:
        idle = s.start([lstest.demo_service(), "--wait-signal", "--idle-ms", "60000"])
        cases = [
            ("/dev/full during a stall", lambda: dev_full_stall(s)),
            ("/dev/full, idle run", lambda: dev_full_idle(s, idle)),
            ("symlink", lambda: symlink(s, idle)),
            ("read-only file system", lambda: read_only_fs(s, idle)),
            ("directory", lambda: directory(s, idle)),
            ("FIFO", lambda: fifo(s, idle)),
            ("new file mode", lambda: new_file_mode(s, idle)),
            ("file planted by another user", lambda: pre_existing(s, idle)),
        ]
        for name, case in cases:
            try:
                case()
                print(f"ok: {name}")
            except AssertionError as e:
                print(f"FAILED: {name}: {e}")
                failures.append(f"{name}: {e}")
        assert idle.p.poll() is None, "the idle target died"
    assert not failures, f"{len(failures)} case(s) failed:\n" + "\n".join(failures)


if __name__ == "__main__":
    lstest.main(test)
