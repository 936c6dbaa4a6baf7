# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""cgroup v2 groups for the tests: made under a temporary parent in the
unified hierarchy, named the way container runtimes and the kubelet name
theirs, and removed (leaf first) once their processes are gone."""
import os
import secrets
import time

import lstest


def unified_root():
    """Where cgroup2 is mounted (/sys/fs/cgroup on a pure v2 host,
    /sys/fs/cgroup/unified on a hybrid one); skips the test without it."""
    with open("/proc/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 2 and fields[2] == "cgroup2":
                return fields[1]
    lstest.skip("no cgroup2 hierarchy mounted")


class Groups:
    """Child groups of one temporary parent; `with` removes them all."""

    def __init__(self):
        self.root = unified_root()
        self.parent = f"loopstall-e2e-{secrets.token_hex(4)}"
        self.dirs = []
        self.make("")

    def make(self, rel):
        """Creates PARENT/REL (and what lies between); returns its path as
        /proc/PID/cgroup shows it."""
        path = os.path.join(self.root, self.parent, rel) if rel else os.path.join(
            self.root, self.parent)
        parts = []
        p = path
        while not os.path.isdir(p):
            parts.append(p)
            p = os.path.dirname(p)
        for p in reversed(parts):
            os.mkdir(p)
            self.dirs.append(p)
        return "/" + os.path.relpath(path, self.root)

    def shell_into(self, cg_path, argv):
        """argv run from a shell that first moves itself into the group, so
        the program is in it from its first instruction, as a runtime does."""
        procs = os.path.join(self.root, cg_path.lstrip("/"), "cgroup.procs")
        return ["sh", "-c", f'echo $$ > "{procs}" && exec "$@"', "sh", *argv]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for d in reversed(self.dirs):
            # the processes were killed by the session: wait until the kernel lets go
            deadline = time.monotonic() + 5
            while True:
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        print(f"could not remove cgroup {d}")
                        break
                    time.sleep(0.05)
        return False
