#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Python asyncio, a coroutine blocking in threading.Lock.acquire() while
another thread holds the lock for 300 ms: one stall with cause lock_wait and
a futex entry in its syscalls."""
import lstest


def test():
    with lstest.Session() as s:
        run = lstest.record_pid(
            s, lstest.victim("py_lock_wait.py") + ["--wait-signal", "--ms", "300"])
        st = lstest.one_stall(run, "lock wait")
        assert st["tid"] == run.target.pid, f"stall on thread {st['tid']}, not the loop thread"
        # the kernel's own account of the loop thread decides: on a loaded
        # machine it can count the wait as run-queue time (then preempted is
        # the honest answer), otherwise it is a lock wait
        lstest.check_cause(st, lstest.victim_account(run.target, "lock"), "lock_wait")
        lstest.assert_close(st["duration_ms"], 300, 0.10, "stall duration_ms")
        names = [sc["name"] for sc in st["syscalls"]]
        assert "futex" in names, f"no futex among the syscalls {names}"


if __name__ == "__main__":
    lstest.main(test)
