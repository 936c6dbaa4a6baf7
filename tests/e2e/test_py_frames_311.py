#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Python frames (qualified name, file, line) in the stacks of CPython 3.11.7
(pyenv build), read from the running interpreter: see pyframes_case.py."""
import lstest
import pyframes_case

if __name__ == "__main__":
    lstest.main(lambda: pyframes_case.run("/root/.pyenv/versions/3.11.7/bin/python3"))
