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

usage: tests/bench/node_interp_flag.py [--rounds N]
"""
import argparse
import os
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
    print(f"{'node ' + os.popen(node + ' --version').read().strip():40s}"
          f" {'startup ms':>10s} {'require-all ms':>14s} {'peak RSS MiB':>12s}"
          f" {'map KiB':>8s} {'steady ops/s':>12s}")
    for name in variants:
        m = {k: statistics.median(v) for k, v in res[name].items()}
        print(f"{name:40s} {m['startup'] * 1e3:10.1f} {m['require'] * 1e3:14.1f}"
              f" {m['rss'] / 1024:12.1f} {m['map'] / 1024:8.0f} {m['steady']:12.0f}")


if __name__ == "__main__":
    main()
