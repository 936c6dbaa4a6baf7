#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The agent (root) never executes or writes files the target names.

`loopstall record` runs under strace while it records fault_victim `names`
(a thread name and a blocking FIFO path full of hostile bytes) and the
libev demo service: it may execute nothing but itself, open for writing
nothing but its -o file and its own debug-info cache (a directory it makes
for itself: files named by build-id, written to a temporary name and
renamed), and create, delete, rename or chmod nothing else. What
it opens of the target's (/proc/PID/..., its modules) it opens read-only;
the target's own paths (the FIFO) are never opened at all, only described
from /proc/PID/fd.
"""
import os
import re
import shutil
import signal
import time

import faults
import lstest

CALLS = ("execve,execveat,open,openat,openat2,creat,rename,renameat,renameat2,unlink,unlinkat,"
         "mkdir,mkdirat,symlink,symlinkat,link,linkat,truncate,chmod,fchmodat,chown,fchownat,"
         "lchown,mknod,mknodat")
WRITE_FLAGS = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND")


def test():
    lstest.require_root()
    strace = shutil.which("strace")
    if not strace:
        lstest.skip("strace is not installed")
    with lstest.Session() as s:
        # empty: whatever the run learns is written there
        cache = os.path.join(s.dir, "debuginfo")
        os.environ["LOOPSTALL_DEBUG_CACHE"] = cache
        target = s.start(faults.victim_argv("names"), name="fault_victim")
        hostile_dir = target.wait_line("stdout", lambda l: l.startswith("path "), 5)[1].split(" ", 1)[1]
        out = s.out_path()
        log = os.path.join(s.dir, "strace.log")
        # -y: each fd with its path, to tell the cache directory's fd
        rec = lstest.Proc([strace, "-f", "-qq", "-y", "-e", f"trace={CALLS}", "-o", log,
                           lstest.loopstall(), "record", "-p", str(target.pid), "-o", out],
                          "strace loopstall record")
        s.procs.append(rec)
        got = rec.wait_line("stderr", lambda l: "recording" in l, 30)
        assert got, f"recorder did not start: {rec.text('stderr')}"
        time.sleep(0.3)
        target.signal(signal.SIGUSR2)
        assert target.wait(15) == 0
        assert rec.wait(30) == 0, rec.text("stderr")
        with open(log, errors="replace") as f:
            calls = [l.rstrip("\n") for l in f if l.strip()]
        problems = []

        def in_cache(c, path):
            """A call on the agent's cache: on its directory, or on files in it by its fd."""
            # the arguments' fds (the result's is the file opened)
            fds = re.findall(r"\b\d+<([^>]*)>", c.rsplit(" = ", 1)[0])
            if path == cache or path.startswith(cache + "/"):
                return True
            # its parents exist already: mkdir -p fails on each
            if cache.startswith(path + "/") and "= -1 EEXIST" in c:
                return True
            return bool(fds) and all(d == cache for d in fds) and "/" not in path
        execs = [c for c in calls if re.search(r"\bexecve(at)?\(", c)]
        if len(execs) != 1:
            problems.append(f"{len(execs)} execs (only loopstall itself is allowed): {execs}")
        opens = [c for c in calls if re.search(r"\b(open|openat|openat2|creat)\(", c)]
        for c in opens:
            m = re.search(r'"((?:[^"\\]|\\.)*)"', c)
            path = m.group(1) if m else "?"
            if WRITE_FLAGS.search(c) and path != out and "= -1" not in c and not in_cache(c, path):
                problems.append(f"opened for writing: {c}")
            if hostile_dir.split("/")[-1] in path:
                problems.append(f"opened a path the target named: {c}")
        changes = [c for c in calls if re.search(
            r"\b(rename|renameat2?|unlink|unlinkat|mkdir|mkdirat|symlink|symlinkat|link|linkat|"
            r"truncate|chmod|fchmodat|chown|fchownat|lchown|mknod|mknodat)\(", c)]
        problems += [f"changed the file system: {c}" for c in changes
                     if not in_cache(c, (re.findall(r'"((?:[^"\\]|\\.)*)"', c) or ["?"])[0])]
        written = [c for c in opens if WRITE_FLAGS.search(c) and in_cache(c, "")]
        print(f"  {len(written)} files written to the agent's cache")
        print(f"  {len(calls)} calls traced: {len(execs)} exec, {len(opens)} opens,"
              f" {sum(1 for c in opens if WRITE_FLAGS.search(c))} for writing")
        assert not problems, "\n".join(problems[:20])


if __name__ == "__main__":
    lstest.main(test)
