#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Blocking calls that are themselves wait calls, inside a coroutine.

Each scenario blocks the loop thread for about --ms milliseconds in a poll,
select or epoll that is not the loop's own wait: loopstall must report it as
a stall (the busy period goes on through the nested wait), with the nested
call as its top syscall.

  sock_timeout  recv on a socket with settimeout(5) (CPython waits in poll
                first) from a local server that answers after --ms, then
                closes the socket
  subprocess    subprocess.run(["sleep", S], capture_output=True): poll on
                the child's pipes
  select_pipe   select.select on a pipe a thread writes to after --ms
  select_high_fd  the same with the pipe's read end at fd 200, in the fd_set's
                fourth 64-bit word, and a socket at fd 130 (third word) on
                the write side: the pipe, the first fd read, is the target
  executor      the same sleep handed to run_in_executor (the right way: no stall)
  idle          nothing (control: no stall)
  exit_free     builds --objects objects before the loop starts, returns from
                asyncio.run() and lets the interpreter free them at exit: that
                is the process's exit, no stall may be blamed on a coroutine
"""
import asyncio
import os
import select
import socket
import subprocess
import sys
import threading
import time

import victim_common as vc

KEEP = []


def late_server(delay_s):
    """A TCP server on 127.0.0.1 that answers one client after delay_s."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def serve():
        conn, _ = srv.accept()
        conn.recv(16)
        time.sleep(delay_s)
        conn.sendall(b"pong")
        conn.close()
        srv.close()

    threading.Thread(target=serve, daemon=True).start()
    return srv.getsockname()


async def sock_timeout(args):
    addr = late_server(args.ms / 1000.0)
    s = socket.create_connection(addr)
    s.settimeout(5)
    s.sendall(b"ping")
    data = s.recv(16)  # BLOCKS THE EVENT LOOP: poll(fd, POLLIN, 5000), then recvfrom
    s.close()
    vc.say(f"peer 127.0.0.1:{addr[1]} got {data!r}")


async def run_subprocess(args):
    subprocess.run(["sleep", str(args.ms / 1000.0)], capture_output=True, check=True)


async def select_pipe(args):
    r, w = os.pipe()
    threading.Timer(args.ms / 1000.0, lambda: os.write(w, b"x")).start()
    select.select([r], [], [], 5)  # BLOCKS THE EVENT LOOP
    os.close(r)
    os.close(w)


async def select_high_fd(args):
    r, w = os.pipe()
    os.dup2(r, 200)
    os.close(r)
    a, b = socket.socketpair()
    os.dup2(a.fileno(), 130)
    # a full socket buffer: fd 130 is not writable, so select waits for the pipe
    a.setblocking(False)
    try:
        while True:
            a.send(b"x" * 65536)
    except BlockingIOError:
        pass
    threading.Timer(args.ms / 1000.0, lambda: os.write(w, b"x")).start()
    select.select([200], [130], [], 5)  # BLOCKS THE EVENT LOOP
    for fd in (200, 130, w):
        os.close(fd)
    a.close()
    b.close()


async def executor(args):
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, time.sleep, args.ms / 1000.0)


async def idle(args):
    await asyncio.sleep(args.ms / 1000.0)


async def exit_free(args):
    await asyncio.sleep(0)


SCENARIOS = {
    "sock_timeout": sock_timeout,
    "subprocess": run_subprocess,
    "select_pipe": select_pipe,
    "select_high_fd": select_high_fd,
    "executor": executor,
    "idle": idle,
    "exit_free": exit_free,
}


def main():
    p = vc.parser(__doc__)
    p.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    p.add_argument("--ms", type=float, default=300.0)
    p.add_argument("--objects", type=int, default=2_000_000)
    args = p.parse_args()
    if args.scenario != "exit_free":
        vc.run(args, args.scenario, SCENARIOS[args.scenario])
    KEEP.append([{"i": i} for i in range(args.objects)])
    # The interpreter's own exit frees KEEP after the loop has returned.
    asyncio.run(vc._main(args, args.scenario, SCENARIOS[args.scenario]))
    sys.stdout.flush()
    sys.exit(0)


if __name__ == "__main__":
    main()
