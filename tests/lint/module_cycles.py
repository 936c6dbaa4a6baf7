#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""No cycle between the project's modules (issue 17: "no include cycle
outside libprobe's hot path").

A module is a file name without its extension, in its folder:
cli/report.c and cli/report.h are the module cli/report. Module A depends
on module B when

- a file of A includes B's header (#include "b.h", resolved the way the
  build resolves it: the including file's folder first, then the folders
  the targets put on the include path) -- except a .c file that includes a
  header only to implement it: it defines a function the header declares
  and calls none the header declares that other files define (nm of the
  objects in the build tree tells defined from used);
- A's header declares a function or variable that B's .c defines: whoever
  includes A's header depends on B's code.

So a header that serves two sides makes a cycle: report.h declared the
renderers (report_text.c...) and the words they share (report_describe.c),
report_text.c included it for the words, hence report -> report_text ->
report. An interface header whose implementers use nothing else of it (as
cli/report_render.h) is not a cycle.

Every strongly connected component of two modules or more is printed, with
one dependency path around it; exit 1 if there is any ALLOWED does not
excuse.

usage: module_cycles.py SOURCE_DIR BUILD_DIR
"""
import os
import re
import subprocess
import sys

# The folders of sources (tests, benches and victims are leaves: nothing
# includes them) and where a quoted include is looked up after the
# including file's own folder, as the targets' include directories say.
SOURCE_DIRS = ["agent", "record", "daemon", "cli", "examples", "libprobe"]
SEARCH = {
    "libprobe": ["libprobe/src", "libprobe/shm", "libprobe/include", "record"],
    "": ["agent/src", "agent/bpf", "record", "daemon", "cli", "libprobe/shm",
         "libprobe/include"],
}
# Cycles accepted: a component all of whose modules are in one of these
# folders, with why.
ALLOWED = [
    ("libprobe/src/", "libprobe's hot path: loop.h holds the per-callback code as inline "
     "functions, and declares what they call in the other files"),
    ("libprobe/python/", "libprobe's asyncio probe: one Python extension whose private "
     "header pyprobe.h serves its four files, the per-callback path in loop.c"),
]

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
EXTS = (".c", ".h", ".cc")


def module_of(rel):
    return os.path.splitext(rel)[0]


def sources(src):
    for top in SOURCE_DIRS:
        for root, dirs, files in os.walk(os.path.join(src, top)):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(EXTS):
                    yield os.path.relpath(os.path.join(root, name), src)


def resolve(src, rel, inc):
    here = os.path.dirname(rel)
    top = "libprobe" if rel.startswith("libprobe/") else ""
    for d in [here] + SEARCH[top]:
        cand = os.path.normpath(os.path.join(d, inc))
        if os.path.isfile(os.path.join(src, cand)):
            return cand
    return None  # a generated header (.skel.h) or a system one


COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
WORD = re.compile(r"\b[A-Za-z_]\w*\b")


def read_code(src, rel):
    with open(os.path.join(src, rel), errors="replace") as f:
        return COMMENT.sub(" ", f.read())


def objects(src, build):
    """(source file, path of the .o) for each object compiled from a source here."""
    for root, _, files in os.walk(build):
        if "CMakeFiles" not in root or os.path.relpath(root, build).startswith("tests"):
            continue
        for name in files:
            if not name.endswith(".o"):
                continue
            path = os.path.join(root, name)
            # BUILD/DIR/CMakeFiles/TARGET.dir/REL.c.o: the source is SRC/DIR/REL.c
            rel_dir, _, rest = os.path.relpath(path, build).partition("/CMakeFiles/")
            rest = rest.split("/", 1)[1][:-2]
            rel = os.path.normpath(os.path.join(rel_dir, rest))
            if os.path.isfile(os.path.join(src, rel)):
                yield rel, path


def symbols(src, build):
    """({symbol: modules defining it}, {source file: (defined, used)})."""
    definers, per_file = {}, {}
    for rel, path in objects(src, build):
        out = subprocess.run(["nm", "-P", path], capture_output=True, text=True,
                             check=True).stdout
        defined, used = per_file.setdefault(rel, (set(), set()))
        for line in out.splitlines():
            parts = line.split()
            if len(parts) < 2:
                continue
            sym, kind = parts[0], parts[1]
            if kind == "U":
                used.add(sym)
            elif kind in ("T", "D", "B", "R", "V", "W"):
                defined.add(sym)
                definers.setdefault(sym, set()).add(module_of(rel))
    return definers, per_file


def edges(src, files, definers, per_file):
    graph = {}
    declared = {rel: set(WORD.findall(read_code(src, rel))) & set(definers)
                for rel in files if rel.endswith(".h")}
    for rel, names in declared.items():
        for sym in sorted(names):
            for mod in definers[sym]:
                if mod != module_of(rel):
                    graph.setdefault(module_of(rel), {}).setdefault(
                        mod, f"{rel} declares {sym}, defined in {mod}")
    for rel in files:
        for inc in INCLUDE.findall(read_code(src, rel)):
            target = resolve(src, rel, inc)
            if not target or module_of(target) == module_of(rel):
                continue
            if rel in per_file and target in declared:
                defined, used = per_file[rel]
                names = declared[target]
                if defined & names and not (used & names):
                    continue  # includes it to implement it
            graph.setdefault(module_of(rel), {}).setdefault(
                module_of(target), f"{rel} includes {inc}")
    return graph


def components(graph):
    """Tarjan's strongly connected components, iteratively."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    nodes = sorted(set(graph) | {m for e in graph.values() for m in e})
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, {}))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, {})))))
                elif nxt in on:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def path_around(graph, comp):
    """One cycle through comp's first module, as "a -> b (why) -> ... -> a"."""
    start, members = comp[0], set(comp)
    prev, queue = {start: None}, [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph.get(node, {})):
            if nxt == start:
                steps, m = [(node, start)], node
                while prev[m] is not None:
                    steps.append((prev[m], m))
                    m = prev[m]
                return [f"{a} -> {b} ({graph[a][b]})" for a, b in reversed(steps)]
            if nxt in members and nxt not in prev:
                prev[nxt] = node
                queue.append(nxt)
    return []


def main():
    if len(sys.argv) != 3:
        print("usage: module_cycles.py SOURCE_DIR BUILD_DIR", file=sys.stderr)
        return 2
    src, build = sys.argv[1], sys.argv[2]
    files = list(sources(src))
    definers, per_file = symbols(src, build)
    if not per_file:
        print(f"module_cycles: no object files under {build}: build first", file=sys.stderr)
        return 2
    graph = edges(src, files, definers, per_file)
    bad = 0
    for comp in components(graph):
        allowed = next((why for prefix, why in ALLOWED
                        if all(m.startswith(prefix) for m in comp)), None)
        print(("allowed (" + allowed + "): " if allowed else "cycle: ") + ", ".join(comp))
        for step in path_around(graph, comp):
            print("  " + step)
        bad += not allowed
    deps = sum(len(e) for e in graph.values())
    print(f"{len(files)} files, {len(per_file)} objects, {deps} dependencies between modules, "
          f"{bad} cycle(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
