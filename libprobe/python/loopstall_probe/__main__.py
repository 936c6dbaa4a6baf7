# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""python3 -m loopstall_probe SCRIPT [ARGS...] | -m MODULE [ARGS...]:
run a program with the probe installed, as python3 would run it."""
import os
import runpy
import sys

from . import install


def main():
    argv = sys.argv[1:]
    if not argv or argv[0] in ("-h", "--help") or (argv[0] == "-m" and len(argv) < 2):
        print("usage: python3 -m loopstall_probe SCRIPT [ARGS...] | -m MODULE [ARGS...]",
              file=sys.stderr)
        sys.exit(2)
    # a bad environment has been said on stderr by install(): run unprobed
    try:
        install()
    except Exception as e:  # an asyncio it does not know: the program still runs
        print(f"loopstall_probe: {e}; the program runs without the probe", file=sys.stderr)
    if argv[0] == "-m":
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        # as python3 SCRIPT: its directory first on sys.path, its __file__ absolute
        script = os.path.abspath(argv[0])
        sys.argv = argv
        sys.path[0] = os.path.dirname(script)
        runpy.run_path(script, run_name="__main__")


main()
