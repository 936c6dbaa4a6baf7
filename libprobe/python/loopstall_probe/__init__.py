# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""loopstall's libprobe for asyncio programs.

    import loopstall_probe; loopstall_probe.install()

times every callback of every asyncio loop of the process from then on
(Handle._run and each loop's selector.select are replaced by C code, in
the extension module _probe) and publishes it in /dev/shm/lprobe.PID for
`loopstall record -p PID`. With LPROBE_OUTPUT set it also writes its own
stall records. `python3 -m loopstall_probe app.py ARGS...` runs a program
with it installed; so does LOOPSTALL_PROBE=1 with loopstall_probe.pth in a
site-packages directory.
"""
from ._probe import install, uninstall, recent, stats, region_path

__all__ = ["install", "uninstall", "recent", "stats", "region_path"]
