#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""An asyncio loop whose one callback blocks N times, for target_cost.sh.

  block_loop.py KIND N
KIND: fifo (read a FIFO: file, dentry walk), sock (recv on a socketpair:
socket) or sleep (nanosleep: no target). A helper thread feeds the FIFO or
socket every 100 us, so each read blocks. Prints `ready`, then `blocks N`.
"""
import asyncio
import os
import socket
import sys
import tempfile
import threading
import time


def feed(write, n):
    def run():
        for _ in range(n):
            time.sleep(0.0001)
            write()
    threading.Thread(target=run, daemon=True).start()


def blocks(kind, n):
    if kind == "fifo":
        path = os.path.join(tempfile.mkdtemp(prefix="loopstall-bench-"), "feed.fifo")
        os.mkfifo(path)

        def writer():
            wfd = os.open(path, os.O_WRONLY)
            for _ in range(n):
                time.sleep(0.0001)
                os.write(wfd, b"x")
            os.close(wfd)
        threading.Thread(target=writer, daemon=True).start()
        fd = os.open(path, os.O_RDONLY)
        for _ in range(n):
            os.read(fd, 1)
        os.close(fd)
        os.unlink(path)
        os.rmdir(os.path.dirname(path))
    elif kind == "sock":
        a, b = socket.socketpair()
        feed(lambda: b.send(b"x"), n)
        for _ in range(n):
            a.recv(1)
    else:
        for _ in range(n):
            time.sleep(0.0001)


async def main(kind, n):
    print("ready", flush=True)
    # time for the recorder to attach
    await asyncio.sleep(1.0)
    blocks(kind, n)
    print(f"blocks {n}", flush=True)
    await asyncio.sleep(0.5)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("fifo", "sock", "sleep"):
        sys.exit("usage: block_loop.py fifo|sock|sleep N")
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
