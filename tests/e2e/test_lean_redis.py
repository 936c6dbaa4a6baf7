#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A real redis-server under load runs lean, and its stalls stay whole.

test_lean_loop.py drives lean mode with a Python victim made for it; this
is the same path on a program nobody wrote for loopstall: Debian's
redis-server (stripped, epoll), kept busy by redis-benchmark (10 clients,
GET, thousands of loop iterations a second), recorded with `loopstall
record -p` and a 50 ms threshold.

Before each command the recorder's perf-event fds must come down to the
hooked wait call alone: the main thread runs lean (its context-switch
event closed). Then, from another client:

  DEBUG SLEEP 0.2   one stall in clock_nanosleep, the sleep in progress
                    when the agent followed the thread again: its length
                    within the command's own (Redis's latency monitor) and
                    3 ms more (the rest of that iteration), its stack
                    reaching the C library;
  EVAL (busy Lua)   one stall of 250 ms spinning on redis.call('TIME'),
                    of the cause the main thread's schedstat calls for.

Any other stall reported while the benchmark ran must be one the main
thread's own counters confirm: it waited for a CPU most of that time
(a 2-CPU machine under load); a lean period timed wrongly would be none.
"""
import subprocess
import time

import lstest
from test_lean_loop import wait_lean
from test_redis import (LUA_SPIN, Redis, account, command_stall, during, latency_ms,
                        schedstat, start_redis, stop_recording)


def test():
    lstest.require_root()
    with lstest.Session() as s:
        server, port = start_redis(s)
        rec = s.record(["-p", str(server.pid)], ["-v", "--threshold", "50ms"])
        load = subprocess.Popen(["redis-benchmark", "-p", str(port), "-c", "10", "-t", "get",
                                 "-n", "1000000000", "-q"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        windows, own = {}, {}
        try:
            r = Redis(port)
            r.call("LATENCY", "RESET")

            wait_lean(rec, timeout=20)
            t0 = lstest.now_ns()
            assert r.call("DEBUG", "SLEEP", "0.2") == "OK"
            windows["sleep"] = (t0, lstest.now_ns())
            own["sleep"] = latency_ms(r, "command")
            r.call("LATENCY", "RESET")

            # the follow opened the event again: lean once more before the next
            wait_lean(rec, timeout=20)
            a0 = schedstat(server.pid)
            t0 = lstest.now_ns()
            r.call("EVAL", LUA_SPIN, "0", "250")
            windows["lua"] = (t0, lstest.now_ns())
            lua_account = account(a0, schedstat(server.pid))
            own["lua"] = latency_ms(r, "command")
            r.close()
            time.sleep(0.2)
        finally:
            load.terminate()
            load.wait(10)
        run = stop_recording(s, rec, server)

        for name in ("sleep", "lua"):
            assert own[name], f"{name}: Redis's latency monitor saw no slow command"
            st = command_stall(run, windows[name], name, own[name], server.pid)
            if name == "sleep":
                assert st["cause"] == "blocking_syscall", lstest.brief(st)
                sc = st["syscalls"][0]
                assert sc["name"] == "clock_nanosleep" and sc["total_ms"] >= 190, (
                    f"the sleep in progress at the follow is not in the stall's calls: "
                    f"{st['syscalls']}")
                stack = lstest.syscall_stack(st, "clock_nanosleep")
                print("  clock_nanosleep stack:\n" + lstest.format_stack(stack))
                assert any((f.get("module") or "").split("/")[-1].startswith("libc")
                           for f in stack), "the sleep's stack does not reach the C library"
            else:
                lstest.check_cause(st, lua_account)

        others = [x for x in run.stalls
                  if x not in during(run, windows["sleep"]) + during(run, windows["lua"])]
        wrong = [x for x in others if x["runqueue_ms"] < 0.5 * x["duration_ms"]]
        assert not wrong, "stalls the main thread's counters do not explain: " + "; ".join(
            lstest.brief(x) for x in wrong)
        t = run.thread(server.pid)
        assert t["iterations"] > 10000, f"the loop iterated {t['iterations']} times only"


if __name__ == "__main__":
    lstest.main(test)
