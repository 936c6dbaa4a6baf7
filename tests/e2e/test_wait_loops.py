#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A loop waiting in io_uring_enter (GETEVENTS), select, ppoll or
epoll_pwait2 (tests/victims/wait_loop.c, 10 ms timeouts, no library), for
each of the four calls:

  sleep     a 300 ms nanosleep on the loop thread: the call is hooked, the
            thread is a loop thread with about 100 iterations a second, and
            there is exactly one stall, 300 ms, blocking_syscall, in
            clock_nanosleep;
  idle      the loop idles: iterations counted, no stall at all.

And in select mode, a zero-fd select() of 300 ms (the portable sleep) is a
blocking call inside the busy period, never the loop's wait: one stall whose
syscall is select. In epoll_pwait2 mode, a recv() on a TCP socket whose peer
answers 300 ms later: one stall in recvfrom whose target names that socket,
both ends, as the victim printed them.
"""

import lstest

CALLS = {"io_uring": "io_uring_enter", "select": "select", "ppoll": "ppoll",
         "epoll_pwait2": "epoll_pwait2"}


def run_case(s, mode, scenario, linger_ms=500):
    argv = [lstest.env_path("VICTIM_WAIT_LOOP"), mode, scenario, "--linger-ms", str(linger_ms)]
    run = lstest.record_pid(s, argv, opts=["-v"], name=f"wait_loop {mode} {scenario}")
    calls = [c for line in lstest.hooked_lines(run.recorder) for c in line.split(",")]
    assert CALLS[mode] in calls, (
        f"{mode}: {CALLS[mode]} never hooked; hooked: {lstest.hooked_lines(run.recorder)}")
    loop = run.thread(run.target.pid)
    # 10 ms waits: ~100 a second, over the linger (and 1 s more when idle)
    want = (linger_ms + (1000 if scenario == "idle" else 0)) / 10 * 0.5
    assert loop["iterations"] >= want, (
        f"{mode} {scenario}: {loop['iterations']} iterations of the loop, expected >= {want:.0f}"
        " (the call is not taken as the loop's wait)")
    return run


def test():
    lstest.require_root()
    failures = []
    for mode in CALLS:
        with lstest.Session() as s:
            try:
                run = run_case(s, mode, "sleep")
                st = lstest.one_stall(run, f"{mode}: 300 ms sleep")
                assert run.stalls_in(run.scenario_window("sleep")) == [st], (
                    f"{mode}: the stall is not the scenario's: {lstest.brief(st)}")
                assert st["tid"] == run.target.pid, lstest.brief(st)
                assert st["cause"] == "blocking_syscall", f"{mode}: {lstest.brief(st)}"
                assert st["syscalls"][0]["name"] == "clock_nanosleep", f"{mode}: {lstest.brief(st)}"
                lstest.assert_close(st["duration_ms"], 300, 0.1, f"{mode}: stall duration_ms")
                print(f"ok: {mode} sleep")
            except AssertionError as e:
                failures.append(f"{mode} sleep: {e}")
        with lstest.Session() as s:
            try:
                run = run_case(s, mode, "idle")
                assert not run.stalls, (f"{mode}: an idle loop stalled: "
                                        + "; ".join(lstest.brief(x) for x in run.stalls))
                print(f"ok: {mode} idle")
            except AssertionError as e:
                failures.append(f"{mode} idle: {e}")
    with lstest.Session() as s:
        try:
            run = run_case(s, "select", "select0")
            st = lstest.one_stall(run, "zero-fd select of 300 ms")
            assert st["cause"] == "blocking_syscall", lstest.brief(st)
            names = [sc["name"] for sc in st["syscalls"]]
            assert names and names[0] == "select", f"syscalls {names}: {lstest.brief(st)}"
            lstest.assert_close(st["syscalls"][0]["total_ms"], 300, 0.1, "select total_ms")
            print("ok: select with no fds is a blocking call")
        except AssertionError as e:
            failures.append(f"select0: {e}")
    with lstest.Session() as s:
        try:
            run = run_case(s, "epoll_pwait2", "recv")
            st = lstest.one_stall(run, "recv of 300 ms")
            got = run.target.wait_line("stdout", lambda l: l.startswith("socket "), 1)
            assert got, run.target.text("stdout")
            local, peer = got[1].split()[1:3]
            want = f"socket:TCP 127.0.0.1:{local}->127.0.0.1:{peer}"
            sc = st["syscalls"][0]
            print(f"  recv stall: {sc['name']} fd={sc['fd']} target={sc['target']!r}")
            assert st["cause"] == "blocking_syscall" and sc["name"] == "recvfrom", lstest.brief(st)
            lstest.assert_close(sc["total_ms"], 300, 0.1, "recvfrom total_ms")
            assert sc["target"] == want, f"recvfrom target {sc['target']!r}, expected {want!r}"
            print("ok: recv names its socket")
        except AssertionError as e:
            failures.append(f"recv: {e}")
    assert not failures, f"{len(failures)} case(s) failed:\n" + "\n".join(failures)


if __name__ == "__main__":
    lstest.main(test)
