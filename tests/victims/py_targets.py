#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Blocking calls whose target is gone by the time the stall ends.

One callback per scenario, each closing what it blocked on before it
returns, so only what loopstall took while the call blocked can name it:

  tcp        connect to a local server that answers after --ms, recv on a
             blocking socket (no timeout: it blocks in recvfrom), close
  file       write --mb MB to --path, fsync, close
  fifo-open  open() the FIFO --path for reading; its writer comes after --ms
  fifo-read  read the FIFO --path; its writer writes after --ms

The blocking part is timed and printed as `blocked_ms N`: the tests compare
the stall's duration with it. Helpers (server, FIFO writer) are plain
threads blocked in accept/open/sleep, never in a wait call, so they are no
loop threads.
"""
import os
import socket
import threading
import time

import victim_common as vc


def tcp_server(ms):
    """A listening socket on an ephemeral port; each client gets b"pong" after ms."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def serve():
        conn, _ = srv.accept()
        conn.recv(16)
        time.sleep(ms / 1000.0)
        conn.sendall(b"pong")
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return srv.getsockname()[1]


def fifo_writer(path, ms, open_first):
    """Writes to the FIFO: with open_first it opens at once and writes after ms,
    else it opens (so the reader's open returns) only after ms."""
    def write():
        if not open_first:
            time.sleep(ms / 1000.0)
        fd = os.open(path, os.O_WRONLY)
        if open_first:
            time.sleep(ms / 1000.0)
        os.write(fd, b"data")
        os.close(fd)

    threading.Thread(target=write, daemon=True).start()


async def scenario(args):
    t0 = time.monotonic()
    if args.scenario == "tcp":
        s = socket.create_connection(("127.0.0.1", args.port))
        vc.say(f"local_port {s.getsockname()[1]}")
        t0 = time.monotonic()
        s.sendall(b"ping")
        s.recv(16)  # BLOCKS THE EVENT LOOP
        s.close()
    elif args.scenario == "file":
        chunk = b"x" * (1 << 20)
        with open(args.path, "wb") as f:  # BLOCKS THE EVENT LOOP
            for _ in range(args.mb):
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
    elif args.scenario == "fifo-open":
        fifo_writer(args.path, args.ms, open_first=False)
        with open(args.path, "rb") as f:  # BLOCKS THE EVENT LOOP until the writer opens
            f.read()
    elif args.scenario == "fifo-read":
        fifo_writer(args.path, args.ms, open_first=True)
        fd = os.open(args.path, os.O_RDONLY)
        t0 = time.monotonic()
        os.read(fd, 16)  # BLOCKS THE EVENT LOOP until the writer writes
        os.close(fd)
    vc.say(f"blocked_ms {(time.monotonic() - t0) * 1000:.1f}")


def main():
    p = vc.parser(__doc__)
    p.add_argument("--scenario", required=True, choices=["tcp", "file", "fifo-open", "fifo-read"])
    p.add_argument("--ms", type=float, default=300.0)
    p.add_argument("--mb", type=int, default=50)
    p.add_argument("--path")
    args = p.parse_args()
    if args.scenario == "tcp":
        args.port = tcp_server(args.ms)
    elif not args.path:
        p.error(f"--scenario {args.scenario} needs --path")
    if args.scenario.startswith("fifo") and not os.path.exists(args.path):
        os.mkfifo(args.path)
    vc.run(args, args.scenario, scenario)


if __name__ == "__main__":
    main()
