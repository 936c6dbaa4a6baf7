#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Hostile ELF files in a target's mappings: the agent (root) opens and
parses every module a stack passes through, so a process can hand it any
bytes. tests/victims/elf_mapper.c runs code from each file below while its
loop thread blocks ~150 ms; the agent must neither crash nor hang (the
recorder ends within a bounded time after the target), and every stall must
still be written.

Mapped with mmap(PROT_EXEC), calling raw code at 0x1000 (no valid ELF needed):
  truncated   the first 4 KiB of a real library: headers pointing past EOF
  garbage     the ELF magic, then random bytes
  not-elf     zeros
  phnum       e_phnum = 0xffff (PN_XNUM) with program headers past EOF
dlopen()ed (they load: the loader ignores section headers):
  shnum       e_shnum = 0xffff, section headers over the program headers
  shoff       e_shoff near 2^64
  xindex      e_shnum = 0, e_shstrndx = SHN_XINDEX, section 0 claiming
              4 billion sections and a string table index past them
  shstrndx    e_shstrndx out of range
  sections    every section 2^63 bytes long at an offset near 2^64
  cfi loops   .eh_frame CFA expressions that jump to themselves
  sibling     a DW_AT_sibling pointing backwards
  dwarf loop  a DIE that is its own specification, one that is its own
              abstract origin (evil_elf.c)
  dwarf deep  lexical blocks nested 100000 deep
(every DWARF variant with a line table whose header claims 4 GiB).

The last two run under recorders of their own, so that one crash does not
hide what the others do. The frames through each copy of a library must
also name that copy, not another file with the same build-id.
"""
import os
import random
import shutil
import signal
import struct
import time

import lstest

STUB = b"\xb8\x23\x00\x00\x00\x0f\x05\xc3"  # mov $35 (nanosleep), %eax; syscall; ret


def patched(src, dst, edits):
    data = bytearray(open(src, "rb").read())
    for off, fmt, value in edits:
        struct.pack_into(fmt, data, off, value)
    with open(dst, "wb") as f:
        f.write(data)
    return data


def raw_file(path, head):
    head = bytes(head[:0x1000]).ljust(0x1000, b"\0")
    with open(path, "wb") as f:
        f.write(head + STUB)


def make_files(d):
    plain = lstest.env_path("EVIL_PLAIN")
    data = open(plain, "rb").read()
    e_shoff = struct.unpack_from("<Q", data, 0x28)[0]
    e_shnum = struct.unpack_from("<H", data, 0x3c)[0]
    rnd = random.Random(7)
    scen = []
    raw_file(f"{d}/truncated.bin", data)
    scen.append(("truncated", f"map:{d}/truncated.bin:0x1000"))
    raw_file(f"{d}/garbage.bin", b"\x7fELF\x02\x01\x01" + bytes(rnd.getrandbits(8) for _ in range(4089)))
    scen.append(("garbage", f"map:{d}/garbage.bin:0x1000"))
    raw_file(f"{d}/not-elf.bin", b"")
    scen.append(("not-elf", f"map:{d}/not-elf.bin:0x1000"))
    head = bytearray(data[:0x1000])
    struct.pack_into("<QH", head, 0x20, 0xff0, 0)
    struct.pack_into("<H", head, 0x38, 0xffff)
    raw_file(f"{d}/phnum.bin", head)
    scen.append(("phnum", f"map:{d}/phnum.bin:0x1000"))

    def lib(name, edits):
        path = f"{d}/{name}.so"
        patched(plain, path, edits)
        scen.append((name, f"dlopen:{path}:evil_block"))
        return path

    lib("shnum", [(0x3c, "<H", 0xffff), (0x28, "<Q", 0x40)])
    lib("shoff", [(0x28, "<Q", 0xfffffffffffff000)])
    path = lib("xindex", [(0x3c, "<H", 0), (0x3e, "<H", 0xffff)])
    body = bytearray(open(path, "rb").read())
    struct.pack_into("<Q", body, e_shoff + 0x20, 0xffffffff)   # sh_size: the section count
    struct.pack_into("<I", body, e_shoff + 0x28, 0xfffffff0)   # sh_link: the string table index
    open(path, "wb").write(body)
    lib("shstrndx", [(0x3e, "<H", 0xfffe)])
    lib("sections", [(e_shoff + 64 * i + off, "<Q", v)
                     for i in range(1, e_shnum)
                     for off, v in ((0x18, 0xffffffffffff0000), (0x20, 0x7fffffffffffffff))])
    groups = [("headers and CFI", scen)]
    for name, syms in (("EVIL_CFI", ("evil_block", "evil_block2")),
                       ("EVIL_DWARF_SIBLING", ("evil_block",)),
                       ("EVIL_DWARF_LOOP", ("evil_block",)),
                       ("EVIL_DWARF_DEEP", ("evil_block",))):
        src = lstest.env_path(name)
        dst = f"{d}/{os.path.basename(src)}"
        shutil.copy(src, dst)
        more = [(f"{name[5:].lower()}:{sym}", f"dlopen:{dst}:{sym}") for sym in syms]
        if name in ("EVIL_DWARF_LOOP", "EVIL_DWARF_DEEP"):
            groups.append((name[5:].lower(), more))
        else:
            scen.extend(more)
    return groups


def run_group(s, scen):
    target = s.start([lstest.env_path("VICTIM_ELF_MAPPER"), *[a for _, a in scen]],
                     name="elf_mapper")
    rec = s.record(["-p", str(target.pid)])
    time.sleep(0.3)
    target.signal(signal.SIGUSR2)
    rc = target.wait(60)
    assert rc == 0, f"elf_mapper exited {rc}:\n{target.text('stderr')}"
    t0 = time.monotonic()
    try:
        rc = rec.wait(60)
    except AssertionError:
        done = lstest.read_records(rec.out)
        raise AssertionError(
            "BUG: the recorder hangs on the hostile files (still running 60 s after the"
            f" target exited); {len([r for r in done if r['type'] == 'stall'])} stalls"
            f" written so far of {len(scen)}") from None
    if rc < 0:
        done = lstest.read_records(rec.out) if os.path.getsize(rec.out) else []
        raise AssertionError(
            f"BUG: the agent was killed by {signal.Signals(-rc).name} symbolizing the hostile"
            f" files ({len([r for r in done if r['type'] == 'stall'])} of {len(scen)} stalls"
            " written before it died)")
    assert rc == 0, f"recorder exited {rc}:\n{rec.text('stderr')}"
    run = lstest.Run(lstest.read_records(rec.out), rec, target)
    lstest.check_records(run)
    print(f"  recorder ended {time.monotonic() - t0:.1f} s after the target")
    failures = []
    for i, (name, arg) in enumerate(scen, 1):
        ends = [l for _, l in target.lines["stdout"] if l.startswith(f"scenario {i} end")]
        if not ends or "failed" in ends[0]:
            failures.append(f"{name}: the victim could not run it: {ends}")
            continue
        got = run.stalls_in(run.scenario_window(str(i)), slack_ms=20)
        if len(got) != 1:
            failures.append(f"{name}: expected one stall, got {len(got)}")
            continue
        st = got[0]
        frames = st["syscalls"][0]["stack"] if st["syscalls"] else []
        top = [f"{f.get('symbol') or f['addr']}@{os.path.basename(f.get('module') or '?')}"
               for f in frames[:4]]
        print(f"  {name:22} {st['duration_ms']:6.1f} ms  {st['cause']}  {' <- '.join(top)}")
        if not 130 <= st["duration_ms"] <= 400:
            failures.append(f"{name}: stall of {st['duration_ms']} ms for a 150 ms block")
        if arg.startswith("map:"):
            # the raw stub makes the syscall itself: it is the innermost frame
            path = arg[len("map:"):].rsplit(":", 1)[0]
            if not frames or frames[0].get("module") != path:
                failures.append(f"{name}: the innermost frame is not in {path}:"
                                f" {' <- '.join(top)}")
        if arg.startswith("dlopen:"):
            path, sym = arg[len("dlopen:"):].rsplit(":", 1)
            mods = [f.get("module") for f in frames if f.get("symbol") == sym]
            if not mods:
                failures.append(
                    f"{name}: no frame {sym} in the stall's stack (the loop blocked inside it):"
                    f" {' <- '.join(top)}")
            elif mods[0] != path:
                failures.append(
                    f"BUG: {name}: the frame of {sym} names module {mods[0]}, but the code ran"
                    f" from {path} (unwind.c caches frames by build-id with the path of the"
                    " first file seen, and copies share a build-id)")
    assert not failures, "\n".join(failures)


def test():
    lstest.require_root()
    failures = []
    with lstest.Session() as s:
        d = os.path.join(s.dir, "evil")
        os.mkdir(d)
        for name, scen in make_files(d):
            try:
                run_group(s, scen)
                print(f"ok: {name}")
            except AssertionError as e:
                print(f"FAILED: {name}: {e}")
                failures.append(f"{name}: {e}")
    assert not failures, f"{len(failures)} group(s) failed:\n" + "\n".join(failures)


if __name__ == "__main__":
    lstest.main(test)
