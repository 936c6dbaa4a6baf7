#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# What cpu_switch costs per blocking switch-out, from the kernel's own
# bpf_stats (the agent turns them on), for two loopstall builds side by side
# (say, one without target_capture.bpf.h and one with it):
#
#   sudo tests/bench/target_cost.sh LOOPSTALL_A LOOPSTALL_B [ROUNDS] [N]
#
# Each round records block_loop.py (N blocks of each kind) with each build,
# --no-stacks so the 16 KiB stack copy's noise stays out, and prints
# cpu_switch's run count and total run time. The loop thread's blocks are N
# of the runs; the rest are the feeding thread's switches, the same in A and B.
set -euo pipefail
a=${1:?usage: target_cost.sh LOOPSTALL_A LOOPSTALL_B [ROUNDS] [N]}
b=${2:?usage: target_cost.sh LOOPSTALL_A LOOPSTALL_B [ROUNDS] [N]}
rounds=${3:-5}
n=${4:-10000}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

one() { # LOOPSTALL KIND: "runs time_ns" of this recorder's cpu_switch
	local ls=$1 kind=$2 vic rec ids
	/usr/bin/python3 -u "$here/block_loop.py" "$kind" "$n" >"$tmp/out" 2>&1 &
	vic=$!
	until grep -q ready "$tmp/out"; do sleep 0.05; done
	"$ls" record --no-stacks -p "$vic" -o "$tmp/rec.jsonl" 2>/dev/null &
	rec=$!
	until grep -q blocks "$tmp/out"; do sleep 0.05; done
	# the recorder's own programs, through its fds
	ids=$(grep -h '^prog_id:' /proc/"$rec"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u)
	bpftool prog show -j | /usr/bin/python3 -c '
import json, sys
ids = set(int(x) for x in sys.argv[1].split())
for p in json.load(sys.stdin):
    if p.get("name") == "cpu_switch" and p["id"] in ids:
        print(p.get("run_cnt", 0), p.get("run_time_ns", 0))' "$ids"
	wait "$rec" "$vic" || true
}

for kind in fifo sock sleep; do
	for r in $(seq "$rounds"); do
		echo "$kind A $(one "$a" "$kind")"
		echo "$kind B $(one "$b" "$kind")"
	done
done | tee "$tmp/rows"
/usr/bin/python3 - "$tmp/rows" "$n" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    kind, build, runs, ns = line.split()
    rows.setdefault((kind, build), []).append(int(ns))
n = int(sys.argv[2])
for kind in ("fifo", "sock", "sleep"):
    a, b = statistics.median(rows[(kind, "A")]), statistics.median(rows[(kind, "B")])
    print(f"{kind}: median cpu_switch time A {a / 1e6:.2f} ms, B {b / 1e6:.2f} ms: "
          f"{(b - a) / n:+.0f} ns per block")
PY
