#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""`loopstall top` on a pseudo-terminal, against the demo service.

The service blocks its loop for 1.5 s once (the sleep scenario). While that
stall lasts, top's screen must show it in progress with its elapsed time,
and that time must move before the stall ends (at least two different
values read before the service says the scenario ended). Once it ended, the
stall is among the last stalls. 'q' quits with exit 0 and gives the terminal
back (the alternate screen is left, the cursor shown again). A second top
ends by itself when the service exits. A third watches a service that
stalls 400 ms and exits 200 ms later, before the next redraw: when top
ends, the stall is printed on the normal screen (after the alternate screen
is left), not lost with it. Bad input exits 2 with one line.
"""
import fcntl
import os
import re
import signal
import struct
import subprocess
import termios
import threading
import time

import lstest

ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
IN_PROGRESS = re.compile(r"STALL IN PROGRESS (\d+\.\d\d) s")


class PtyTop:
    """`loopstall top -p PID` with a pseudo-terminal as its stdin, stdout and
    stderr. A thread reads the terminal and keeps every chunk with the time
    it was read, so screen contents can be placed against the target's lines."""

    def __init__(self, pid, rows=40, cols=120):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = dict(os.environ, TERM="xterm")
        env.pop("NO_COLOR", None)
        self.p = subprocess.Popen([lstest.loopstall(), "top", "-p", str(pid)], stdin=slave,
                                  stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        self.chunks = []
        self.closed = False
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed its end
                data = b""
            with self.cond:
                if not data:
                    self.closed = True
                    self.cond.notify_all()
                    return
                self.chunks.append((lstest.now_ns(), data.decode("utf-8", "replace")))
                self.cond.notify_all()

    def raw(self):
        with self.cond:
            return "".join(c for _, c in self.chunks)

    def screen_text(self):
        return ESCAPES.sub("", self.raw())

    def read_until(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred(ESCAPES.sub("", "".join(c for _, c in self.chunks))):
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    break
                self.cond.wait(min(left, 0.1))
        assert pred(self.screen_text()), (
            f"top: no {what} within {timeout} s; screen so far:\n{self.screen_text()[-3000:]}")

    def shown_before(self, t_ns):
        """Elapsed times of a stall in progress in what was read before t_ns."""
        with self.cond:
            text = ESCAPES.sub("", "".join(c for t, c in self.chunks if t < t_ns))
        return [float(m) for m in IN_PROGRESS.findall(text)]

    def wait(self, timeout):
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.reader.join(5)
        return rc

    def close(self):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.p.wait(10)
        self.reader.join(5)
        os.close(self.master)


def live_stall(s, target):
    top = PtyTop(target.pid)
    try:
        top.read_until(lambda t: "running" in t, 15, "loop thread row")
        target.signal(signal.SIGUSR2)
        end = target.wait_line("stdout", lambda l: l == "scenario sleep end", 20)
        assert end, "the service ended before its sleep scenario did"
        top.read_until(lambda t: "blocking_syscall" in t, 5, "stall among the last stalls")
        values = sorted(set(top.shown_before(end[0])))
        print(f"  in progress on screen before the stall ended: {values}")
        assert len(values) >= 2, (
            "the stall in progress was not shown with a moving elapsed time before it ended:"
            f" {values}\nscreen:\n{top.screen_text()[-3000:]}")
        assert values[-1] >= 0.5, f"elapsed time never got far into the 1.5 s stall: {values}"
        assert re.search(r"1\.5\d s\s+blocking_syscall|1\.50 s", top.screen_text()), (
            "the ended 1.5 s stall is not listed:\n" + top.screen_text()[-2000:])
        os.write(top.master, b"q")
        rc = top.wait(5)
        assert rc == 0, f"top after 'q': exit {rc}"
        raw = top.raw()
        assert raw.rfind("\x1b[?1049l") > raw.rfind("\x1b[?1049h") >= 0, (
            "top did not leave the alternate screen")
        assert raw.rfind("\x1b[?25h") > raw.rfind("\x1b[?25l"), "top left the cursor hidden"
    finally:
        top.close()


def ends_with_target(s, target):
    top = PtyTop(target.pid)
    try:
        top.read_until(lambda t: "loopstall top" in t, 15, "header")
        rc = top.wait(20)
        assert rc == 0, f"top when its target exited: exit {rc}\n{top.screen_text()[-2000:]}"
        assert f"pid {target.pid} exited" in top.screen_text(), top.screen_text()[-1000:]
        assert target.p.poll() is not None, "top ended but the target still runs"
    finally:
        top.close()


def stall_then_exit(s):
    target = s.start([lstest.demo_service(), "--wait-signal", "--scenarios", "sleep",
                      "--sleep-ms", "400", "--linger-ms", "200"])
    top = PtyTop(target.pid)
    try:
        top.read_until(lambda t: "running" in t, 15, "loop thread row")
        target.signal(signal.SIGUSR2)
        assert target.wait(20) == 0, target.text("stderr")
        rc = top.wait(10)
        assert rc == 0, f"top when its target exited: exit {rc}\n{top.screen_text()[-2000:]}"
        raw = top.raw()
        after = ESCAPES.sub("", raw[raw.rfind("\x1b[?1049l"):])
        print(f"  on the normal screen after top: {after.strip()!r}")
        assert re.search(r"stall 4\d\d\.\d ms blocking_syscall on tid %d" % target.pid, after), (
            "the 400 ms stall is not on the screen top left behind:\n" + after[-1000:])
    finally:
        top.close()


def bad_input(s):
    pid = 999999
    while os.path.exists(f"/proc/{pid}"):
        pid += 1
    for args in (["-p", str(pid)], [], ["-p", "1", "--threshold", "5xs"]):
        p = lstest.Proc([lstest.loopstall(), "top", *args], "loopstall top")
        s.procs.append(p)
        rc = p.wait(15)
        err = [l for l in p.text("stderr").splitlines() if l.strip()]
        assert rc == 2 and len(err) == 1, f"top {' '.join(args)}: exit {rc}, stderr {err}"


def test():
    lstest.require_root()
    with lstest.Session() as s:
        bad_input(s)
        target = s.start([lstest.demo_service(), "--wait-signal", "--scenarios", "sleep",
                          "--sleep-ms", "1500", "--linger-ms", "4000"])
        live_stall(s, target)
        ends_with_target(s, target)
        stall_then_exit(s)


if __name__ == "__main__":
    lstest.main(test)
