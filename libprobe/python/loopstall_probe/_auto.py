# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Imported at interpreter start by loopstall_probe.pth when LOOPSTALL_PROBE is set."""
import os
import sys

_want = os.environ.get("LOOPSTALL_PROBE", "")
if _want == "1":
    from . import install

    try:
        install()
    except Exception as e:  # an asyncio it does not know: the program still runs
        print(f"loopstall_probe: {e}; the program runs without the probe", file=sys.stderr)
elif _want not in ("", "0"):
    print(f"loopstall_probe: LOOPSTALL_PROBE={_want[:40]!r}: expected 1 or 0;"
          " the program runs without the probe", file=sys.stderr)
