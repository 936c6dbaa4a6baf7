#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What V8's --interpreted-frames-native-stack costs a Node.js service.

Every row runs node with --perf-basic-prof (what loopstall needs for JIT
names), without and then with the flag, alternating run by run so drift
cancels; medians over --rounds. Rows:
  startup      `node -e 0`: wall time
  require-all  require() every builtin module (compiles thousands of
               functions: the flag copies a trampoline for each)
  steady       a 2 s JSON/string/closure workload: operations per second
and, for the require-all run, peak RSS (ru_maxrss) and the perf map's size.

Then what the other way, reading V8's interpreter frames, would name: an
interpreted function's BytecodeArray (the object such a frame points to,
and the address --perf-basic-prof lists it under) before and after full
GCs (%DebugPrint, --allow-natives-syntax), and whether the map lists the
address it moved to.

usage: tests/bench/node_interp_flag.py [--rounds N]
"""
import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REQUIRE_ALL = ("const m = require('module');"
               "for (const n of m.builtinModules) { try { require(n); } catch (e) {} }")
STEADY = r"""
function render(user) { return `<li>${user.name} (${user.age})</li>`; }
function parse(s) { return JSON.parse(s); }
function work(i) {
  const users = [];
  for (let j = 0; j < 20; j++) users.push({ name: 'u' + (i + j), age: j });
  const s = JSON.stringify(users);
  return parse(s).map(render).join('').length;
}
const end = Date.now() + 2000;
let ops = 0, sum = 0;
while (Date.now() < end) { sum += work(ops); ops++; }
console.log(ops / 2);
"""


MOVES = r"""
function readFifoSync(p) { return p.length; }
readFifoSync('x');
%DebugPrint(readFifoSync);
let keep = [];
for (let r = 0; r < 20; r++) {
  let a = [];
  for (let j = 0; j < 200000; j++) a.push({ j, s: 'v' + j });
  keep.push(a.filter((_, i) => i % 97 === 0));
  a = null;
  gc();
}
%DebugPrint(readFifoSync);
"""


def bytecode_moves(node, d):
    """readFifoSync's BytecodeArray addresses before and after the GCs, and
    for each whether the perf map has an entry for it."""
    script = os.path.join(d, "moves.js")
    with open(script, "w") as f:
        f.write(MOVES)
    p = subprocess.Popen([node, "--perf-basic-prof", "--allow-natives-syntax", "--expose-gc",
                          script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = p.communicate(timeout=120)
    mp = f"/tmp/perf-{p.pid}.map"
    with open(mp) as f:
        starts = [int(line.split(" ", 1)[0], 16) for line in f if "readFifoSync" in line]
    os.unlink(mp)
    found = []
    for tagged in re.findall(r"- bytecode: (0x[0-9a-f]+)", out):
        obj = int(tagged, 16) & ~1
        # V8 lists bytecode from its first instruction, a header after the object
        found.append((obj, any(obj <= st < obj + 0x100 for st in starts)))
    return found


def run(argv):
    """(wall seconds, stdout, max RSS KiB, pid) of one node run."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    if p.returncode:
        sys.exit(f"node_interp_flag: {' '.join(argv)} exited with {p.returncode}")
    return wall, out, usage.ru_maxrss, p.pid


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    node = shutil.which("node")
    if not node:
        sys.exit("node_interp_flag: no node on PATH")
    variants = {"--perf-basic-prof": [node, "--perf-basic-prof"],
                "+ --interpreted-frames-native-stack":
                    [node, "--perf-basic-prof", "--interpreted-frames-native-stack"]}
    res = {v: {"startup": [], "require": [], "rss": [], "map": [], "steady": []}
           for v in variants}
    with tempfile.TemporaryDirectory() as d:
        steady = os.path.join(d, "steady.js")
        with open(steady, "w") as f:
            f.write(STEADY)
        for r in range(args.rounds):
            order = list(variants.items())
            if r % 2:
                order.reverse()
            for name, base in order:
                wall, _, _, pid = run(base + ["-e", "0"])
                res[name]["startup"].append(wall)
                os.unlink(f"/tmp/perf-{pid}.map")
                wall, _, rss, pid = run(base + ["-e", REQUIRE_ALL])
                res[name]["require"].append(wall)
                res[name]["rss"].append(rss)
                mp = f"/tmp/perf-{pid}.map"
                res[name]["map"].append(os.path.getsize(mp))
                os.unlink(mp)
                _, out, _, pid = run(base + [steady])
                res[name]["steady"].append(float(out))
                os.unlink(f"/tmp/perf-{pid}.map")
        moves = bytecode_moves(node, d)
    print(f"{'node ' + os.popen(node + ' --version').read().strip():40s}"
          f" {'startup ms':>10s} {'require-all ms':>14s} {'peak RSS MiB':>12s}"
          f" {'map KiB':>8s} {'steady ops/s':>12s}")
    for name in variants:
        m = {k: statistics.median(v) for k, v in res[name].items()}
        print(f"{name:40s} {m['startup'] * 1e3:10.1f} {m['require'] * 1e3:14.1f}"
              f" {m['rss'] / 1024:12.1f} {m['map'] / 1024:8.0f} {m['steady']:12.0f}")
    print("readFifoSync's BytecodeArray (what an interpreter frame points to), before and"
          " after 20 full GCs:")
    for obj, listed in moves:
        print(f"  0x{obj:x}  {'named by the perf map' if listed else 'NOT in the perf map'}")


if __name__ == "__main__":
    main()
