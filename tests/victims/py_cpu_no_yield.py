#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Lecture Example 22.1: CPU work in a coroutine that never awaits.

The busy loop monopolizes the loop thread for --ms on the CPU without any
syscall (perf_counter is a vDSO call): loopstall must report a stall with
cause cpu.
"""
import time

import victim_common as vc


async def cpu_work(args):
    # Simulate CPU work -- no yield, monopolizes the loop
    end = time.perf_counter() + args.ms / 1000.0
    while time.perf_counter() < end:
        pass


def main():
    p = vc.parser(__doc__)
    p.add_argument("--ms", type=float, default=200.0)
    vc.run(p.parse_args(), "cpu", cpu_work)


if __name__ == "__main__":
    main()
