#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A real redis-server (Debian's), started by this test on a free port with
`--enable-debug-command yes` and its own latency monitor on (threshold
50 ms), recorded with `loopstall record -p`:

  DEBUG SLEEP 0.3   one stall on Redis's main thread, blocking_syscall in
                    clock_nanosleep, as long as what Redis's own
                    `LATENCY HISTORY command` says the command took (Redis
                    counts whole ms, rounded down, and times the command
                    alone: the stall, the whole iteration, may be up to
                    3 ms longer, never shorter);
  EVAL (busy Lua)   a script spinning 330 ms on redis.call('TIME'): one
                    stall, of the cause the main thread's own schedstat
                    over the call calls for (cpu on an idle machine), and
                    as long as `LATENCY LATEST` says.
"""
import socket
import time

import lstest

LUA_SPIN = """
local t = redis.call('TIME')
local start = t[1] * 1000000 + t[2]
local n = 0
repeat
  t = redis.call('TIME')
  n = n + 1
until t[1] * 1000000 + t[2] - start >= tonumber(ARGV[1]) * 1000
return n
"""


class Redis:
    """A minimal RESP client: enough for the commands this test sends."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def close(self):
        self.sock.close()

    def _line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            assert data, "redis closed the connection"
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise AssertionError(f"redis error: {rest.decode()}")
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                data = self.sock.recv(65536)
                assert data, "redis closed the connection"
                self.buf += data
            value, self.buf = self.buf[:n], self.buf[n + 2:]
            return value.decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise AssertionError(f"not a RESP reply: {line!r}")

    def call(self, *args):
        out = [f"*{len(args)}\r\n".encode()]
        for a in args:
            b = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.sock.sendall(b"".join(out))
        return self._reply()


def schedstat(pid):
    with open(f"/proc/{pid}/task/{pid}/schedstat") as f:
        on_cpu, runq = (int(x) for x in f.read().split()[:2])
    return time.monotonic_ns(), on_cpu, runq


def account(a0, a1):
    wall, on_cpu, runq = ((b - a) / 1e6 for a, b in zip(a0, a1))
    return {"wall_ms": wall, "on_cpu_ms": on_cpu, "runqueue_ms": runq,
            "blocked_ms": max(0.0, wall - on_cpu - runq)}


def latency_ms(r, event):
    """The latest spike of EVENT per Redis's own LATENCY LATEST (whole ms)."""
    for name, _, latest, _ in r.call("LATENCY", "LATEST"):
        if name == event:
            return latest
    return None


def during(run, window):
    """The stalls whose middle falls in window (sending a command, reading
    its reply): commands follow each other closely."""
    lo, hi = window
    return [x for x in run.stalls if lo <= (x["start_unix_ns"] + x["end_unix_ns"]) // 2 <= hi]


def command_stall(run, window, name, want_ms, tid):
    """The one stall a command made on thread tid, as long as Redis's own
    LATENCY account of it (want_ms, whole ms, the command alone): the stall,
    the whole iteration, may be up to 3 ms longer, never shorter."""
    got = during(run, window)
    assert len(got) == 1, (
        f"{name}: expected one stall, got:\n" + "\n".join(lstest.brief(x) for x in got))
    st = got[0]
    assert st["tid"] == tid, f"{name}: not on Redis's main thread: {lstest.brief(st)}"
    err = st["duration_ms"] - want_ms
    print(f"  {name}: stall {st['duration_ms']:.3f} ms, Redis {want_ms} ms,"
          f" difference {err:+.3f} ms")
    assert -0.5 <= err <= 3.0, (
        f"{name}: stall of {st['duration_ms']:.3f} ms, Redis's LATENCY says {want_ms} ms"
        f" (whole ms, the command alone): {lstest.brief(st)}")
    return st


def wait_for_redis(port):
    def ping():
        try:
            r = Redis(port)
        except OSError:
            return None
        try:
            return r.call("PING") == "PONG"
        finally:
            r.close()
    lstest.wait_for("redis-server answering PING", ping, 10)


def start_redis(s):
    """A redis-server of session s on a free port, DEBUG allowed, its latency
    monitor on at 50 ms, answering: (the process, its port)."""
    port = lstest.free_port()
    server = s.start(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                      "--enable-debug-command", "yes", "--save", "", "--appendonly", "no",
                      "--latency-monitor-threshold", "50", "--dir", s.dir],
                     name="redis-server", ready=False)
    wait_for_redis(port)
    return server, port


def stop_recording(s, rec, server):
    """Ctrl-C to the recorder; its records, checked and shown."""
    rec.signal(2)
    run = s.finish(rec, server, 20)
    lstest.show(run)
    lstest.check_records(run)
    return run


def test():
    lstest.require_root()
    with lstest.Session() as s:
        server, port = start_redis(s)
        rec = s.record(["-p", str(server.pid)])
        r = Redis(port)
        r.call("LATENCY", "RESET")
        windows = {}

        t0 = lstest.now_ns()
        assert r.call("DEBUG", "SLEEP", "0.3") == "OK"
        windows["sleep"] = (t0, lstest.now_ns())
        history = r.call("LATENCY", "HISTORY", "command")
        assert history, "Redis's latency monitor saw no slow command"
        sleep_ms = history[-1][1]
        # one sample per event per second in the monitor: start afresh
        r.call("LATENCY", "RESET")

        a0 = schedstat(server.pid)
        t0 = lstest.now_ns()
        spins = r.call("EVAL", LUA_SPIN, "0", "330")
        windows["lua"] = (t0, lstest.now_ns())
        lua_account = account(a0, schedstat(server.pid))
        lua_ms = latency_ms(r, "command")
        assert lua_ms, f"Redis's latency monitor saw no slow EVAL: {r.call('LATENCY', 'LATEST')}"
        print(f"  Redis's own account: DEBUG SLEEP {sleep_ms} ms, EVAL {lua_ms} ms"
              f" ({spins} TIME calls); main thread over the EVAL: {lua_account}")
        r.close()
        time.sleep(0.2)
        run = stop_recording(s, rec, server)

        for name, want_ms in (("sleep", sleep_ms), ("lua", lua_ms)):
            st = command_stall(run, windows[name], name, want_ms, server.pid)
            if name == "sleep":
                assert st["cause"] == "blocking_syscall", lstest.brief(st)
                assert st["syscalls"][0]["name"] == "clock_nanosleep", lstest.brief(st)
            else:
                lstest.check_cause(st, lua_account)
        others = [x for x in run.stalls
                  if x not in during(run, windows["sleep"]) + during(run, windows["lua"])]
        assert not others, "stalls outside the two commands: " + "; ".join(
            lstest.brief(x) for x in others)


if __name__ == "__main__":
    lstest.main(test)
