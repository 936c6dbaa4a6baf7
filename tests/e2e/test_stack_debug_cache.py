#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The debug-info cache (agent/src/debugcache.h): Debian's python3 keeps its
DWARF zlib-compressed in /usr/lib/debug; the first run inflates it itself
(agent/src/inflate.h, libdeflate) into an inflated copy named by its
build-id in $LOOPSTALL_DEBUG_CACHE, the location lists left out; the next
run opens that copy. The copy is the agent's own file (root's, not writable
by others), an ELF with no compressed section left, each section it keeps
byte for byte what binutils' objcopy --decompress-debug-sections makes of
the original. Every run names the same stack, frame for frame (symbol,
file, line, inlined): the first, the next, one that reads objcopy's whole
inflated file (location lists too) from the cache, and one with the cache
off (the copy in memory). A file there that carries another build-id, or
that others may write, is not used (and the first one is replaced by a good
copy); LOOPSTALL_SYMBOLIZE=check holds the per-function caches to libdw on
every run, and with them the line rows the agent reads from .debug_line
itself (agent/src/linetab.h) for the functions a run meets first.
"""
import os
import re
import shutil
import stat
import struct
import subprocess
from types import SimpleNamespace

import lstest
import test_stack_symbol_cache as symcheck

FROM_CACHE_RE = re.compile(
    r"debug info: (\d+) files from the cache, (\d+) stored in it, (\d+) inflated by the agent")
LINES_RE = re.compile(r"line tables: (\d+) lookups read by the agent, (\d+) left to libdw")


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    return m.group(1) if m else None


def compressed_sections(path):
    """Names of the file's sections flagged SHF_COMPRESSED (readelf's 'C')."""
    out = subprocess.run(["readelf", "-SW", path], capture_output=True, text=True).stdout
    names = []
    for line in out.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S*)\s+\d+\s+\d+\s+\d+",
                     line)
        if m and "C" in m.group(2):
            names.append(m.group(1))
    return names


def sections(path):
    """{name: (sh_type, sh_flags, bytes or None for NOBITS)} of an ELF64 little-endian file."""
    with open(path, "rb") as f:
        data = f.read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = hdrs[shstrndx]
    out = {}
    for name, typ, flags, _, off, size, *_ in hdrs[1:]:
        at = strtab[4] + name
        key = data[at:data.index(b"\0", at)].decode()
        out[key] = (typ, flags, None if typ == 8 else data[off:off + size])
    return out


def same_bytes_as_objcopy(cached, inflated):
    """The agent's copy against objcopy's inflating of the same file: every
    DWARF section it keeps, the same bytes; the location lists left out
    (NOBITS). (objcopy may lay out its own string and symbol tables anew.)"""
    ours, theirs = sections(cached), sections(inflated)
    assert set(ours) == set(theirs), f"sections differ: {set(ours) ^ set(theirs)}"
    kept = 0
    for name, (typ, flags, data) in theirs.items():
        if not name.startswith(".debug_"):
            continue
        if name in (".debug_loc", ".debug_loclists"):
            assert ours[name][0] == 8, f"{cached}: {name} is kept (type {ours[name][0]})"
            continue
        assert ours[name][2] == data, f"{cached}: {name} differs from objcopy's"
        kept += 1
    assert kept >= 5, f"only {kept} debug sections compared"


def sleep_stall(s, what):
    """One run of the Python sleep stall under `record -v`, its symbolizer
    checked: (the sleep's stack, the agent's stderr)."""
    argv = lstest.victim("py_frames_app.py") + ["--scenario", "sleep", "--seconds", "0.2",
                                               "--wait-signal"]
    run = lstest.record_pid(s, argv, opts=["-v"])
    stalls = run.stalls_in(run.scenario_window("sleep"))
    assert len(stalls) == 1, "\n".join(lstest.brief(x) for x in run.stalls)
    stack = lstest.syscall_stack(stalls[0], "clock_nanosleep")
    lstest.frames_in_order(stack, ["clock_nanosleep", "_PyEval_EvalFrameDefault"],
                           f"{what}: sleep stack")
    err = run.recorder.text("stderr")
    symcheck.check_counts(err, what, 10)
    return stack, err


def sleep_run(s, what):
    """One run of the Python sleep stall: its stack, and how many debug files
    came from the cache (.cached) and the agent inflated (.inflated)."""
    stack, err = sleep_stall(s, what)
    m = FROM_CACHE_RE.search(err)
    assert m, f"{what}: no debug info line in the agent's stderr:\n{err}"
    lines = LINES_RE.search(err)
    assert lines, f"{what}: no line tables line in the agent's stderr:\n{err}"
    run = SimpleNamespace(stack=stack, cached=int(m.group(1)), inflated=int(m.group(3)),
                          lines_read=int(lines.group(1)), lines_libdw=int(lines.group(2)))
    print(f"  {what}: {len(native_frames(stack))} native frames, {run.cached} debug files"
          f" from the cache, {run.inflated} inflated by the agent; line tables: "
          f"{run.lines_read} lookups read by the agent, {run.lines_libdw} left to libdw")
    return run


def native_frames(stack):
    """A stack's native frames as the symbolizer named them, to compare runs."""
    return [(f["symbol"], f["module"], f["file"], f["line"], f.get("inlined"))
            for f in stack if f["kind"] == "native"]


def same_native_stack(first, other, what, first_run):
    """Two runs' stacks (as records hold them) name every native frame alike."""
    assert native_frames(first) == native_frames(other), (
        f"{what}: the stack differs from {first_run}:\n"
        f"that run:\n{lstest.format_stack(first)}\nthis run:\n{lstest.format_stack(other)}")


def same_stack(first, other, what):
    same_native_stack(first.stack, other.stack, what, "the run that read /usr/lib/debug")


def test():
    lstest.require_root()
    python = os.path.realpath(lstest.PYTHON)
    bid = build_id(python)
    source = bid and f"/usr/lib/debug/.build-id/{bid[:2]}/{bid[2:]}.debug"
    if not source or not os.path.exists(source):
        lstest.skip(f"no debug file for {python} (python3.11-dbg) in /usr/lib/debug")
    if not compressed_sections(source):
        lstest.skip(f"{source} has no compressed section: nothing to cache")
    os.environ["LOOPSTALL_SYMBOLIZE"] = "check"
    with lstest.Session() as s:
        cache = os.path.join(s.dir, "debuginfo")
        os.environ["LOOPSTALL_DEBUG_CACHE"] = cache
        cached = os.path.join(cache, f"{bid}.debug")

        first = sleep_run(s, "empty cache")
        assert first.cached == 0, f"an empty cache gave {first.cached} files"
        assert first.inflated >= 1, "the agent inflated no debug file itself: libdw did"
        # new functions' line rows read from .debug_line by the agent (linetab.h), held to
        # libdw's by LOOPSTALL_SYMBOLIZE=check; none of Debian's python3 units left to libdw
        assert first.lines_read >= 1, "the agent read no line table itself: libdw did"
        assert first.lines_libdw == 0, f"{first.lines_libdw} line lookups left to libdw"
        assert os.path.exists(cached), (
            f"no {cached} after the first run: {os.listdir(cache) if os.path.isdir(cache) else '-'}")
        st = os.stat(cached)
        assert st.st_uid == 0 and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH), oct(st.st_mode)
        assert not os.stat(cache).st_mode & 0o077, f"{cache} is open to others"
        assert build_id(cached) == bid, f"{cached} carries build-id {build_id(cached)}"
        left = compressed_sections(cached)
        assert not left, f"{cached} still has compressed sections: {left}"
        reference = os.path.join(s.dir, "objcopy.debug")
        subprocess.run(["objcopy", "--decompress-debug-sections", source, reference], check=True)
        same_bytes_as_objcopy(cached, reference)

        hit = sleep_run(s, "filled cache")
        assert hit.cached >= 1, "the second run read no debug file from the cache"
        assert hit.inflated == 0, f"a filled cache, yet the agent inflated {hit.inflated} files"
        same_stack(first, hit, "filled cache")

        # binutils' inflating of the whole file (location lists too) in its place: the same stack
        mine = os.path.join(s.dir, "agent.debug")
        shutil.copyfile(cached, mine)
        shutil.copyfile(reference, cached)
        os.chmod(cached, 0o644)
        whole = sleep_run(s, "objcopy's copy")
        assert whole.cached == hit.cached, "objcopy's copy was not read from the cache"
        same_stack(first, whole, "objcopy's copy")
        shutil.copyfile(mine, cached)

        # no cache: the copy made in memory, the same stack
        os.environ["LOOPSTALL_DEBUG_CACHE"] = "off"
        off = sleep_run(s, "cache off")
        assert off.cached == 0, f"the cache is off, yet {off.cached} files came from it"
        # the copy in memory, not libdw's own inflating
        assert off.inflated >= 1, "with the cache off the agent inflated no debug file itself"
        assert off.lines_read >= 1, "with the cache off the agent read no line table itself"
        same_stack(first, off, "cache off")
        os.environ["LOOPSTALL_DEBUG_CACHE"] = cache

        # another module's file under python's name: refused by its build-id
        other = [f for f in os.listdir(cache) if f.endswith(".debug") and f != f"{bid}.debug"]
        foreign = os.path.join(cache, other[0]) if other else lstest.loopstall()
        shutil.copyfile(foreign, cached)
        os.chmod(cached, 0o644)
        wrong = sleep_run(s, "foreign file")
        assert wrong.cached == hit.cached - 1, (
            f"a file of another build-id was used: {wrong.cached} files from the cache, "
            f"{hit.cached} before")
        same_stack(first, wrong, "foreign file")
        assert build_id(cached) == bid, "the refused file was not replaced by python's"

        # a good copy that others may write is no better
        os.chmod(cached, 0o666)
        open_to_all = sleep_run(s, "writable file")
        assert open_to_all.cached == hit.cached - 1, "a file writable by others was used"
        same_stack(first, open_to_all, "writable file")


if __name__ == "__main__":
    lstest.main(test)
