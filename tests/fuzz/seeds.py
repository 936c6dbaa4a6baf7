#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Writes the seed corpora of the fuzz harnesses (tests/fuzz/corpus/NAME/).

Run once after changing a harness's input format; the files are committed.
The linetab, aranges and symraw seeds take real sections from BUILD's binaries
(--build, build/ by default) and Debian's python3.11-dbg and libc6-dbg debug
files, where they are: the "self" seeds change with each build (commit them
only when they should).
The unwind seeds in the raw form come from the harness itself:
    seeds.py --unwind-replay BUILD/tests/fuzz/fuzz_unwind_replay
"""
import argparse
import os
import struct
import subprocess
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
FIXTURES = os.path.join(HERE, "..", "fixtures")


def write(name, files):
    d = os.path.join(CORPUS, name)
    os.makedirs(d, exist_ok=True)
    for fname, data in files.items():
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)


def perfmap():
    write("perfmap", {
        "node": "7f1c2a000000 40 LazyCompile:~main /app/index.js:1\n"
                "7f1c2a000040 1c0 Function:~busy /app/index.js:10\n"
                "7f1c2a000200 80 Builtin:ArgumentsAdaptorTrampoline\n",
        "prefixed": "0x1000 0x10 a\n0X2000 0X20 b\r\n0x3000 10 c d e\n",
        "overlap": "1000 100 old\n1000 100 new\n1080 10 inner\n0 ffffffffffffffff all\n",
        "bad": "\n \nzz 10 x\n1000 0 zero\n1000 10\n1000 10 \nffffffffffffffff 2 wrap\n"
               "11111111111111111 1 toolong\n1000  10 twospaces\n",
        "longname": "1000 10 " + "x" * 1500 + "\n2000 10 y",
        "nonewline": "dead beef last",
        "binary": b"1000 10 \x00\xff\xfe\n\x00\x00\n2000 10 ok\n",
    })


def procnet():
    tcp = ("   0: 0100007F:494D 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
           "     0        0 282300 1 000000004ee4c97f 100 0 0 10 0\n")
    tcp_est = ("   3: 0100007F:1F90 0100007F:A0D2 01 00000000:00000000 00:00000000 00000000"
               "  1000        0 99 1 0 20 4 30 10 -1\n")
    tcp6 = ("   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A"
            " 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0\n")
    unix = "00000000980ef260: 00000003 00000000 00000000 0001 03  1593 /run/x.sock\n"
    unix_anon = "00000000246d5128: 00000003 00000000 00000000 0001 03  1594\n"
    unix_abstract = "00000000246d5128: 00000002 00000000 00010000 0001 01 77 @abstract\x01name\n"
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    write("procnet", {
        # first byte: bits 0-1 parser (0 tcp/udp, 1 v6, 2-3 unix), bits 2-7 output size
        "tcp": b"\xfc" + tcp.encode(),
        "tcp_small": b"\x10" + tcp_est.encode(),
        "tcp6": b"\xfd" + tcp6.encode(),
        "tcp6_tiny": b"\x01" + tcp6.encode(),
        "unix": b"\xfe" + unix.encode(),
        "unix_small": b"\x0a" + unix.encode(),
        "unix_anon": b"\x82" + unix_anon.encode(),
        "unix_abstract": b"\x83" + unix_abstract.encode(),
        "header": b"\xfc" + header.encode(),
        "v4_as_v6": b"\xfd" + tcp.encode(),
        "bad_port": b"\xfc" + tcp.replace("494D", "FFFFFF").encode(),
    })


def duration():
    cases = ["50ms", "1.5s", "2m", "100", "5xs", ".5us", "1e9", "18446744073709551615ns",
             "99999999999999999999m", "", " 5ms", "inf", "nan", "0x10", "5 ms", "-1ms",
             "1..5s", "0", "0.0000001ns", "1" * 400 + "s", "5ms\x00junk", "+5ms", "5S"]
    write("duration", {f"d{i:02d}": c for i, c in enumerate(cases)})


def record_args():
    cases = [
        ["-p", "1234"],
        ["-p", "1234", "-t", "1235", "--threshold", "20ms", "--duration", "5m", "-o", "out.jsonl"],
        ["--", "python3", "app.py", "-p", "5"],
        ["-o", "x", "--stack-bytes", "16k", "--no-stacks", "-v", "--", "true"],
        ["--no-such-flag", "-p", "1"],
        ["--threshold", "5xs", "-p", "1"],
        ["-p"],
        ["-p", "1", "--", "true"],
        ["-t", "5"],
        ["-hv"],
        ["-xv"],
        ["--stack-bytes", "513", "-p", "1"],
        ["--stack-bytes", "99999999999999999999k", "-p", "1"],
        ["-p", "99999999999"],
        ["-p", "1", "stray"],
        ["--pid=7", "--threshold=1s"],
        ["--threshold"],
        ["-p", "1", "--ring-size", "4M"],
        ["--ring-size=3M", "-p", "1"],
        ["--ring-size", "99999999999999999999G", "-p", "1"],
    ]
    write("record_args", {f"a{i:02d}": b"\x00".join(a.encode() for a in c)
                          for i, c in enumerate(cases)})


SLOT = struct.Struct("<IiIIQQ")
BUSY = struct.Struct("<6Q4I")
REC = struct.Struct("<4I16s4Q")


def stall_rec(flags=0, pid=100, tid=101, comm=b"victim", end=2_000_000_000, maj=0,
              exec_ns=0, delay=0, start=1_000_000_000, off=0, runq=0, nvcsw=0, nivcsw=0,
              slots=(), nr_slots=None):
    busy = BUSY.pack(start, off, runq, 0, 0, 0, nvcsw, nivcsw,
                     len(slots) if nr_slots is None else nr_slots, 0)
    body = b"".join(SLOT.pack(*s) for s in slots)
    body += b"\x00" * (8 * SLOT.size - len(body))
    return REC.pack(1, flags, pid, tid, comm, end, maj, exec_ns, delay) + busy + body


def stall():
    sleep = [(230, -1, 1, 0, 999_000_000, 999_000_000)]
    many = [(i, i, i + 1, 0, 10_000_000 * (i + 1), 10_000_000) for i in range(7)]
    many.append((0xFFFE, -1, 40, 0, 5_000_000, 1_000_000))
    fault = [(0xFFFF, -1, 3, 0, 300_000_000, 200_000_000), (202, -1, 2, 0, 100_000_000, 90_000_000)]
    write("stall", {
        "sleep": stall_rec(off=999_000_000, nvcsw=1, slots=sleep),
        "sleep_kernel": stall_rec(flags=2, off=999_000_000, exec_ns=900_000, delay=100_000,
                                  nvcsw=1, slots=sleep),
        "cpu": stall_rec(flags=2, exec_ns=990_000_000, delay=5_000_000, nivcsw=3),
        "mixed_full": stall_rec(flags=3, off=400_000_000, runq=300_000_000, exec_ns=1,
                                delay=10 ** 19, slots=many),
        "fault": stall_rec(flags=2, off=400_000_000, maj=55, slots=fault),
        "overshoot": stall_rec(off=2 ** 63, runq=2 ** 63, slots=sleep),
        "comm_full": stall_rec(comm=b"0123456789abcdef", slots=sleep),
        "bad_slots": stall_rec(nr_slots=9),
        "end_before_start": stall_rec(end=1, start=2),
        "short": stall_rec()[:100],
        "wrong_type": b"\x05" + stall_rec()[1:],
        "thresholds": stall_rec(flags=2, off=500, slots=sleep) + struct.pack("<Q", 0),
    })


def recfile():
    files = {}
    for name in sorted(os.listdir(FIXTURES)):
        if name.endswith(".jsonl"):
            with open(os.path.join(FIXTURES, name), "rb") as f:
                files["fixture_" + name[:-6]] = f.read()
    stall = ('{"type":"stall","schema_version":1,"pid":1,"tid":1,"comm":"x","start_unix_ns":1,'
             '"end_unix_ns":2,"duration_ms":%s,"threshold_ms":50,"cause":"%s","on_cpu_ms":1,'
             '"off_cpu_ms":2,"runqueue_ms":0,"cut_short":%s,"syscalls":%s,"cpu_stacks":%s,'
             '"callback":%s,"advice":"a"}')
    frame = '{"addr":"0x1","symbol":%s,"module":%s,"file":%s,"line":%s}'
    big_stack = "[" + ",".join(frame % ('"f%d"' % i, '"/m"', '"/f.c"', i) for i in range(200)) + "]"
    summary = ('{"type":"summary","schema_version":1,"pid":1,"comm":"x","start_unix_ns":1,'
               '"end_unix_ns":2,"recorded_ms":%s,"threshold_ms":50,"stalls":1,"lost_events":%s,'
               '"threads":[{"pid":1,"tid":1,"comm":"x","iterations":5,"busy_ratio":0.5,'
               '"stalls":1,"heartbeat_gap_ms":{"p50":1,"p90":2,"p99":3,"max":4}}]}')
    files.update({
        "huge_numbers": (stall % ("1e308", "cpu", "false",
                                  '[{"name":"read","count":1e300,"total_ms":1e308,"max_ms":-1e308,'
                                  '"target":"x","stack":[' + frame % ('"s"', "null", "null", "1e300") + ']}]',
                                  '[{"samples":-5,"stack":[]}]', "null")) + "\n"
                        + summary % ("1e308", "1e300") + "\n",
        "negative": (stall % ("-5", "blocking_syscall", "true", "[]", "[]",
                              '{"symbol":null,"watcher":"io","started_ms_ago":-1,"span":{"name":"s"}}'))
                    + "\n" + summary % ("-1", "-1") + "\n",
        "deep_stack": (stall % ("100", "cpu", "false", "[]",
                                '[{"samples":3,"stack":' + big_stack + '}]', "null")) + "\n",
        "wrong_types": '{"type":"stall","schema_version":1,"duration_ms":5,"cause":"x","syscalls":{},'
                       '"cpu_stacks":"no","comm":5,"pid":"1","callback":[1]}\n'
                       '{"type":"summary","schema_version":1,"threads":{"a":1}}\n',
        "unknown_type": '{"type":"future","schema_version":1}\n{"type":"stall_begin","schema_version":1}\n',
        "schema2": '{"type":"stall","schema_version":2}\n',
        "no_type": '{"schema_version":1}\n',
        "not_object": '[1,2,3]\n',
        "truncated": (stall % ("100", "cpu", "false", "[]", "[]", "null"))[:150],
        "nul_inside": b'{"type":"summary","schema_version":1}\x00garbage\n',
        "nesting": "[" * 2000 + "]" * 2000 + "\n",
        "two_summaries": (summary % ("10", "0")) + "\n" + (summary % ("20", "3")) + "\n",
        "blank_lines": "\n\n   \n\t\n",
        "utf8": (stall % ("60", "cpu", "false", "[]", "[]", "null")).replace('"comm":"x"', '"comm":"\\u00e9\\ud83d\\ude00\\u0000x"') + "\n",
        "invalid_utf8": b'{"type":"summary","schema_version":1,"comm":"\xff\xfe\x80"}\n',
        # bounded output: stack records referred to by id; a repeated id, one never
        # written, one with frames cut, ids of the wrong type, a reference before its stack
        "stack_refs": '{"type":"stack","schema_version":1,"id":"00000000000000aa","frames":'
                      + big_stack + ',"frames_cut":1e300}\n'
                      '{"type":"stack","schema_version":1,"id":"00000000000000aa","frames":[]}\n'
                      + (stall % ("80", "cpu", "false",
                                  '[{"name":"read","count":1,"stack":[],"stack_ref":"00000000000000bb"}]',
                                  '[{"samples":3,"stack":[],"stack_ref":"00000000000000aa"},'
                                  '{"samples":2,"stack":[],"stack_ref":7}]', "null")) + "\n"
                      '{"type":"stack","schema_version":1,"id":"00000000000000bb","frames":['
                      + frame % ('"s"', "null", "null", "1") + ']}\n',
        "stack_bad_id": '{"type":"stack","schema_version":1,"id":5,"frames":[]}\n',
        "stack_no_frames": '{"type":"stack","schema_version":1,"id":"a","frames":{}}\n',
    })
    write("recfile", files)


def unwind(replay):
    d = os.path.join(CORPUS, "unwind")
    os.makedirs(d, exist_ok=True)
    live = {
        # odd first byte: the harness's own stack, u16 size (in 8-byte words), patches
        "live-4k": b"\x01" + struct.pack("<H", 512),
        "live-256": b"\x01" + struct.pack("<H", 32),
        "live-0": b"\x01" + struct.pack("<H", 0),
        "live-8k-patched": b"\x01" + struct.pack("<H", 1024)
        + struct.pack("<HQ", 184 + 8, 0x1000) + struct.pack("<HQ", 184 + 64, 0xffffffff00000000)
        + struct.pack("<HQ", 48 + 7 * 8, 8) + struct.pack("<HQ", 48 + 16 * 8, 1),
        "live-ip-zero": b"\x01" + struct.pack("<H", 512) + struct.pack("<HQ", 48 + 16 * 8, 0),
    }
    for name, data in live.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    # hand-made raw records: hdr = 184 bytes (see loop_tracker.h)
    hdr = struct.Struct("<6I3Q17Q")
    regs = [0] * 17
    regs[7] = 0x7ffd00001000
    regs[16] = 0xA5A5 << 48 | 1 << 32 | 0x1000  # somewhere in libc
    regs[6] = 0x5A5A << 48 | 64
    stack = b"".join(struct.pack("<Q", 0x5A5A << 48 | (i * 16 + 16)) +
                     struct.pack("<Q", 0xA5A5 << 48 | (i % 4) << 32 | (0x1000 + i * 0x40))
                     for i in range(64))
    raws = {
        "raw-chain": hdr.pack(5, 0, 0, 230, -1 & 0xffffffff, len(stack), 0, 0, 0, *regs) + stack,
        "raw-size-lies": hdr.pack(5, 0, 0, 0, 0, 32768, 0, 0, 0, *regs) + stack,
        "raw-size-huge": hdr.pack(5, 0, 0, 0, 0, 0xffffffff, 0, 0, 0, *regs),
        "raw-nopid": hdr.pack(6, 0, 0, 1, 0, len(stack), 0, 0, 0, *regs) + stack,
        "raw-loop": hdr.pack(5, 0, 0, 0, 0, 64, 0, 0, 0, *(regs[:6] + [0x5A5A << 48] + regs[7:]))
        + struct.pack("<8Q", *([0x5A5A << 48, 0xA5A5 << 48 | 0x1234] * 4)),
        "raw-short": hdr.pack(5, 0, 0, 0, 0, 0, 0, 0, 0, *regs)[:100],
    }
    for name, data in raws.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(b"\x00" + data)
    if replay:
        # the harness's own live stacks, written back in the raw form
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("live-4k", "live-8k-patched"):
                out = os.path.join(d, "raw-from-" + name)
                subprocess.run([replay, os.path.join(d, name)], check=True,
                               env={**os.environ, "FUZZ_UNWIND_WRITE_SEED": out},
                               stdout=subprocess.DEVNULL)


def config():
    with open(os.path.join(HERE, "..", "..", "daemon", "loopstalld.conf"), "rb") as f:
        shipped = f.read()
    write("config", {
        "shipped": shipped,
        "pids": "pid = 1\npid = 42 web\nmatch = redis-* cache\nmatch = *\n",
        "bad": "threshold = 5xs\n",
        "unknown": "no_such_key = 1\n",
        "noequals": "threshold\n",
        "spaces": "  threshold   =   20ms   # comment\n\n# only a comment\n",
        "addr6": "metrics_addr = [::1]:9464\nmetrics_addr = 0.0.0.0:99999\n",
        "sizes": "output_max_size = 99999999999999999999G\noutput_keep = -1\n",
        "globs": "match = [a-\nmatch = ****************************a\nmatch = \\\n",
        "long": "match = " + "x" * 5000 + "\n",
        "binary": b"threshold = 1ms\x00\nmatch = \xff\xfe\n",
        "agent": "ring_size = 256K\nbpf_stats = on\nring_size = 3M\nbpf_stats = maybe\n",
        "rules": "match = web=python3* container:3f2a threshold=20ms stacks=on\n"
                 "match = k=pod:1b2c\nmatch = cgroup:*docker-*\npid = a=5 threshold=1s\n"
                 "stack_bytes = 8K\nstacks = off\nmatch = x stack=off\n",
    })


def probe_shm():
    # geometry (4 bytes), flags, query window [start, end), then 3 equal XOR parts
    def seed(geom, flags, start, end, parts=(b"", b"", b"")):
        n = max(len(p) for p in parts)
        return bytes(geom) + bytes([flags]) + struct.pack("<QQ", start, end) + b"".join(
            p.ljust(n, b"\0") for p in parts)
    loop = struct.pack("<II", 1, 777) + struct.pack("<QQQQ", 1, 0, 50, 1)
    write("probe_shm", {
        "empty": seed([0, 4, 4, 4], 0, 0, 1000),
        "loop": seed([1, 4, 4, 4], 0, 0, 10 ** 9, (b"", loop, b"")),
        "loop_truncated": seed([3, 6, 6, 10], 2, 100, 200, (b"", loop, b"")),
        "header_noise": seed([0, 2, 2, 0], 1, 0, 2 ** 64 - 1,
                             (b"\0" * 8 + b"\xff" * 40, b"", b"")),
        "syms": seed([0, 1, 1, 1], 0, 5, 6, (b"", loop, b"\x00\x10" + b"\0" * 6 + b"\0" * 4 + b"\x07")),
    })


def procstat():
    write("procstat", {
        "kthreadd": "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 19 0\n",
        "kworker": "45 (kworker/u8:2-events_unbound) I 2 0 0 0 -1 69238880 0 0 0\n",
        "user": "1234 (redis-server) S 1 1234 1234 0 -1 4194560 211 0 0 0 12 7\n",
        "fake": "301 (x) S 0 0 0 0 -1 2129984 () R 1 301 301 0 -1 4194560 0\n",
        "parens": "302 ()) S 1 1 1 0 -1 0\n303 (() Z 1 1 1 0 -1 0\n",
        "newline": b"304 (a\nb\xff) S 1 304 304 34816 304 4194304\n",
        "short": "2 (kthreadd) S 0 0 0 0 -1",
        "huge": "99999999999 (x) S 99999999999 0 0 0 -99999999999 99999999999999999999\n",
    })


def demangle():
    write("demangle", {
        "v8": "_ZN2v84base4Time3NowEv",
        "node": "_ZN4node2fsL12ReadFileUtf8ERKN2v820FunctionCallbackInfoINS1_5ValueEEE",
        "clone": "_ZN2v88internal4Heap7CollectEv.cold",
        "template": "_ZN2v88internal12_GLOBAL__N_119HandleApiCallHelperILb0EEENS0_11MaybeHandle"
                    "INS0_6ObjectEEEPNS0_7IsolateENS0_6HandleINS0_10HeapObjectEEE",
        "c": "clock_nanosleep",
        "jit": "JS:~readFifoSync /srv/app.js:34:22",
        "deep": "_Z1f" + "P" * 3000 + "i",
        "subst": "_Z1fIJ" + "PS_" * 300,
        "long": "_Z1000" + "a" * 1000 + "v",
        "bare": "_Z",
    })


def report_when():
    write("report_when", {
        "ago": "5m", "hours": "1.5h", "days": "2d", "ns": "7ns",
        "rfc": "2026-12-07T18:20:00Z", "frac": "2026-12-07T18:20:00.000000001Z",
        "offset": "2026-12-07T12:50:00-05:30", "leap": "2024-02-29T00:00:00Z",
        "bad_day": "2026-02-30T00:00:00Z", "unix": "1796667600",
        "unix_ns": "1795697982651557123", "unix_frac": "1796667600.5",
        "status": "Name:\tnode\nPid:\t4242\nNSpid:\t4242\t17\t1\n",
        "status_old": "Name:\tx\nPid:\t99\nPPid:\t3\n",
        "status_bad": "NSpid:\t99999999999999999999\nPid:\t-1\n",
    })


def pycode():
    """Memory images holding a code object (fuzz_pycode.c's header first):
    each version's layout, real line tables, and hostile variants."""
    base = 0x100000
    # (minor selector, qualname, name, filename, firstlineno, linetable, ascii size)
    layouts = {10: (None, 112, 104, 40, 120, 48), 11: (128, 120, 112, 72, 136, 48),
               12: (128, 120, 112, 68, 136, 40), 13: (128, 120, 112, 68, 136, 40)}
    vectors = {}
    with open(os.path.join(HERE, "..", "unit", "pycode_vectors.h")) as f:
        for line in f:
            if line.startswith("\t{ 1"):
                parts = line.strip("\t{ },\n").split(", ")
                vectors[int(parts[0])] = bytes.fromhex(parts[2].strip('"'))

    def pystr(text, ascii_size):
        head = struct.pack("<QQQqI", 1, 0, len(text), -1, (1 << 2) | (1 << 5) | (1 << 6))
        return (head + b"\0" * (ascii_size - len(head)) + text.encode() + b"\0").ljust(
            (ascii_size + len(text) + 8) // 8 * 8 + 8, b"\0")

    def image(minor, table, table_size=None, code_type=base):
        qual, name, fname, first, ltab, asz = layouts[minor]
        code_at, name_at, file_at, tab_at = 0, 256, 512, 1024
        mem = bytearray(2048 + len(table))
        code = bytearray(160)
        struct.pack_into("<QQ", code, 0, 1, code_type)
        if qual is not None:
            struct.pack_into("<Q", code, qual, base + name_at)
        struct.pack_into("<Q", code, name, base + name_at)
        struct.pack_into("<Q", code, fname, base + file_at)
        struct.pack_into("<i", code, first, 4)
        struct.pack_into("<Q", code, ltab, base + tab_at)
        mem[code_at:code_at + 160] = code
        s = pystr("Handler.fetch_user", asz)
        mem[name_at:name_at + len(s)] = s
        s = pystr("/srv/app.py", asz)
        mem[file_at:file_at + len(s)] = s
        tab = struct.pack("<QQQQ", 1, 0, len(table) if table_size is None else table_size, 0)
        mem[tab_at:tab_at + 32 + len(table)] = tab + table
        return bytes(mem)

    def header(minor, lasti, flags=1):
        return struct.pack("<BQIB", minor - 10, 0, lasti, flags)

    files = {}
    for minor, table in vectors.items():
        files[f"code_3{minor}"] = header(minor, 20) + image(minor, table)
        files[f"huge_table_3{minor}"] = header(minor, 3) + image(minor, table, 1 << 62)
    files["wrong_type"] = header(11, 1) + image(11, vectors[11], code_type=base + 8)
    files["lasti_none"] = header(12, 0xffffffff) + image(12, vectors[12])
    dbg = bytearray(512)
    dbg[0:8] = b"xdebugpy"
    for at, v in ((8, 0x030d00f0), (40, 632), (64, 7264), (72, 7344), (168, 8), (184, 72),
                  (192, 152), (232, 8), (240, 0), (248, 56), (264, 70), (280, 112), (288, 120),
                  (296, 128), (304, 136), (312, 68), (344, 200)):
        struct.pack_into("<Q", dbg, at, v)
    files["debug_offsets"] = header(13, 0, 0) + bytes(dbg)
    write("pycode", files)


def pytask():
    """Memory images of a process running an asyncio Task (fuzz_pytask.c's
    header first): PyInterpreterState -> sys.modules -> _asyncio ->
    _current_tasks -> {loop: Task}, per version, and hostile variants.
    tests/unit/test_pytask.c checks what is read from each."""
    base = 0x100000
    t_dict, t_str, t_int, t_module = base + 8, base + 16, base + 24, base + 32
    # minor: (interp_modules, coro_frame, task_coro, task_name, state_task_type, ascii size)
    layouts = {10: (856, 16, 160, 168, None, 48), 11: (888, 80, 136, 144, None, 48),
               12: (944, 72, 136, 144, 24, 40), 13: (7656, 72, 120, 128, 24, 40)}

    def image(minor, name="fetch-7", int_name=None, task_type_name=b"_asyncio.Task\0",
              split=False, nentries=None, kind=None, modules_type=t_dict, subclass=None):
        modules_off, coro_frame, task_coro, task_name, state_tt, asz = layouts[minor]
        mem = bytearray(16384)
        at = [64]

        def alloc(data):
            off = at[0]
            mem[off:off + len(data)] = data
            at[0] = (off + len(data) + 15) // 16 * 16
            return base + off

        def pystr(text):
            if text.isascii():
                head = struct.pack("<QQQqI", 1, t_str, len(text), -1,
                                   (1 << 2) | (1 << 5) | (1 << 6))
                return alloc(head + b"\0" * (asz - len(head)) + text.encode() + b"\0")
            # compact, 2 bytes a character: the data follows PyCompactUnicodeObject
            head = struct.pack("<QQQqI", 1, t_str, len(text), -1, (2 << 2) | (1 << 5))
            compact = asz + (24 if minor < 12 else 16)
            return alloc(head + b"\0" * (compact - len(head)) + text.encode("utf-16-le") + b"\0\0")

        def pydict(items, general):
            n = len(items) if nentries is None else nentries
            k = (0 if general else 1) if kind is None else kind
            if minor == 10:
                keys = struct.pack("<qqQqq", 1, 8, 0, 5 - len(items), n) + bytes(range(8))
                for key, value in items:
                    keys += struct.pack("<qQQ", 7, key, value)
            else:
                keys = struct.pack("<qBBBBIqq", 1, 3, 3, k, 0, 0, 5 - len(items), n)
                keys += bytes(range(8))
                for key, value in items:
                    keys += (struct.pack("<qQQ", 7, key, value) if k == 0
                             else struct.pack("<QQ", key, value))
            keys_at = alloc(keys)
            return alloc(struct.pack("<QQqQQQ", 1, t_dict, len(items), 0, keys_at,
                                     base + 8 if split else 0))

        tt_name = alloc(task_type_name)
        # PyTypeObject: tp_name at 24, tp_base at 256
        task_type = alloc(struct.pack("<QQQQ", 1, 0, 0, tt_name) + b"\0" * 240)
        obj_type = task_type
        if subclass is not None:
            sub_name = alloc(subclass)
            obj_type = alloc(struct.pack("<QQQQ", 1, 0, 0, sub_name) + b"\0" * 224
                             + struct.pack("<Q", task_type))
        frame = alloc(b"\0" * 80)  # 3.10's PyFrameObject; 3.11+ embed it in the coroutine
        coro = alloc(struct.pack("<QQQ", 1, 0, frame) + b"\0" * 96)
        if int_name is not None:
            name_at = alloc(struct.pack("<QQQI", 1, t_int, 1 << 3, int_name) + b"\0" * 4)
        else:
            name_at = pystr(name)
        task = bytearray(176)
        struct.pack_into("<QQ", task, 0, 1, obj_type)
        struct.pack_into("<Q", task, task_coro, coro)
        struct.pack_into("<Q", task, task_name, name_at)
        task_at = alloc(bytes(task))
        loop = alloc(struct.pack("<QQ", 1, 0))
        tasks = pydict([(loop, task_at)], True)
        md_dict = pydict([(pystr("__name__"), pystr("_asyncio")),
                          (pystr("_current_tasks"), tasks)], False)
        state = alloc(struct.pack("<QQQQ", 0, 0, 0, task_type))
        module = alloc(struct.pack("<QQQQQ", 1, t_module, md_dict, 0, state))
        modules = pydict([(pystr("sys"), module), (pystr("_asyncio"), module)], False)
        if modules_type != t_dict:
            struct.pack_into("<Q", mem, modules - base + 8, modules_type)
        interp = at[0]
        struct.pack_into("<Q", mem, interp + modules_off, modules)
        del mem[interp + modules_off + 8:]
        return bytes(mem), base + interp, tasks, frame if minor == 10 else coro + coro_frame

    def seed(minor, flags=1, **kw):
        mem, interp, tasks, frame = image(minor, **kw)
        return struct.pack("<BQQBQ", minor - 10, interp - base, tasks - base, flags,
                           frame) + mem

    files = {}
    for minor in layouts:
        files[f"named_3{minor}"] = seed(minor)
    files["number_312"] = seed(12, int_name=7)
    files["number_313"] = seed(13, int_name=7)
    files["unicode_name_311"] = seed(11, name="r\u00e9q-\u4e00")
    files["no_module_type_310"] = seed(10, flags=0)
    files["other_type_311"] = seed(11, task_type_name=b"MyTask\0")
    files["subclass_311"] = seed(11, subclass=b"MyTask\0")
    files["subclass_313"] = seed(13, subclass=b"MyTask\0")
    files["split_312"] = seed(12, split=True)
    files["huge_nentries_313"] = seed(13, nentries=1 << 40)
    files["bad_kind_311"] = seed(11, kind=7)
    files["modules_not_dict_312"] = seed(12, modules_type=base + 40)
    write("pytask", files)


def cgroup():
    cid = "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a"
    uid = "1b2c3d4e_5f60_4718_8a9b_0c1d2e3f4a5b"
    write("cgroup", {
        "docker": f"0::/system.slice/docker-{cid}.scope\n",
        "kubepods": "0::/kubepods.slice/kubepods-burstable.slice/"
                    f"kubepods-burstable-pod{uid}.slice/cri-containerd-{cid}.scope\n",
        "cgroupfs": f"0::/kubepods/besteffort/pod{uid.replace('_', '-')}/{cid}\n",
        "v1": f"12:pids:/docker/{cid}\n1:name=systemd:/docker/{cid}\n0::/\n",
        "forged": f"0::/user.slice/x\n0::/docker-{cid}.scope\n",
        "nul": b"0::/a\x00b\n4:cpu:/\x00\n",
        "host": "0::/user.slice/user-0.slice/session-1.scope\n",
    })


def inflate():
    """ELF64 files as Debian's debug files are: zlib-compressed .debug_*
    sections (an Elf64_Chdr before each stream), one plain, one left out."""
    def elf(sections, chdr_size=None, stream=None, shoff_pad=0):
        names = b"\0" + b"".join(n.encode() + b"\0" for n, _, _ in sections) + b".shstrtab\0"
        body, shdrs, off, name_off = b"", [], 64, 1
        for name, data, compressed in sections:
            flags = 0x800 if compressed else 0
            if compressed:
                z = stream if stream is not None else zlib.compress(data)
                size = chdr_size if chdr_size is not None else len(data)
                data = struct.pack("<IIQQ", 1, 0, size, 1) + z
            shdrs.append(struct.pack("<IIQQQQIIQQ", name_off, 1, flags, 0, off + len(body),
                                     len(data), 0, 0, 1, 0))
            name_off += len(name) + 1
            body += data
        shdrs.append(struct.pack("<IIQQQQIIQQ", name_off, 3, 0, 0, off + len(body),
                                 len(names), 0, 0, 1, 0))
        body += names
        body += b"\0" * ((-len(body)) % 8 + shoff_pad)
        shoff = off + len(body)
        n = len(shdrs) + 1
        eh = (b"\x7fELF\x02\x01\x01" + b"\0" * 9 +
              struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, n, n - 1))
        return eh + body + b"\0" * 64 + b"".join(shdrs)

    info = bytes(range(256)) * 16
    line = b"line table " * 50
    write("inflate", {
        "debug": elf([(".debug_info", info, True), (".debug_line", line, True),
                      (".debug_str", b"main\0busy\0", False),
                      (".debug_loclists", b"\x01\x02" * 100, True)]),
        "one": elf([(".debug_abbrev", b"\x01\x11\x01" * 10, True)]),
        "lying_size": elf([(".debug_info", info, True)], chdr_size=len(info) + 1),
        "short_size": elf([(".debug_info", info, True)], chdr_size=len(info) - 1),
        "bad_stream": elf([(".debug_info", info, True)], stream=b"\x78\x9c" + b"\xff" * 40),
        "zdebug": elf([(".zdebug_info", info, True)]),
        "plain": elf([(".debug_str", b"x\0", False)]),
    })


def elf_sections(path):
    """{name: bytes} of an ELF64 little-endian file's sections, the
    SHF_COMPRESSED ones (Debian's debug files) inflated."""
    with open(path, "rb") as f:
        elf = f.read()
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3a)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    names = hdrs[shstrndx]
    out = {}
    for h in hdrs:
        name = elf[names[4] + h[0]:elf.index(b"\0", names[4] + h[0])].decode()
        data = b"" if h[1] == 8 else elf[h[4]:h[4] + h[5]]
        if h[2] & 0x800:
            data = zlib.decompress(data[24:])
        out[name] = (data, h)
    return out


def debug_file(binary):
    """The /usr/lib/debug file of an installed binary (by its build id), or None."""
    try:
        notes = subprocess.run(["readelf", "-n", binary], capture_output=True, text=True).stdout
    except OSError:
        return None
    for line in notes.splitlines():
        if "Build ID:" in line:
            bid = line.split()[-1]
            path = f"/usr/lib/debug/.build-id/{bid[:2]}/{bid[2:]}.debug"
            return path if os.path.exists(path) else None
    return None


def dwarf_units(sec, limit):
    """The (offset, bytes) of each unit of a .debug_line/.debug_aranges shorter than limit."""
    pos, out = 0, []
    while pos + 4 <= len(sec):
        length, = struct.unpack_from("<I", sec, pos)
        size = 12 + struct.unpack_from("<Q", sec, pos + 4)[0] if length == 0xffffffff else 4 + length
        if size <= limit:
            out.append((pos, sec[pos:pos + size]))
        pos += size
    return out


def seq_starts(unit):
    """DW_LNE_set_address operands in a line program (a crude scan: seeds, not truth)."""
    out, at = [], unit.find(b"\x00\x09\x02")
    while at >= 0 and len(out) < 16:
        out.append(struct.unpack_from("<Q", unit, at + 3)[0])
        at = unit.find(b"\x00\x09\x02", at + 11)
    return out


def linetab_seed(flags, unit, ranges, line_str=b"", strs=b"", offset=0, comp_dir=True):
    """fuzz_linetab.c's input: flags (bits 0-3), the ranges, the sections."""
    head = bytes([(flags | (1 if comp_dir else 0) | (2 if line_str else 0) | (4 if strs else 0))
                  | (len(ranges) << 4)])
    head += struct.pack("<HHH", offset, len(line_str), len(strs))
    head += b"".join(struct.pack("<QI", lo, n) for lo, n in ranges)
    return head + line_str + strs + unit


def v4_unit(program, files=(("a.c", 1),), dirs=("/src",), version=4, dwarf64=False,
            opcode_base=13, line_base=-5, line_range=14):
    """A hand-made DWARF 2-4 line program."""
    std = bytes([0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1][:opcode_base - 1]).ljust(opcode_base - 1, b"\1")
    tabs = b"".join(d.encode() + b"\0" for d in dirs) + b"\0"
    tabs += b"".join(f.encode() + b"\0" + bytes([d, 0, 0]) for f, d in files) + b"\0"
    fields = bytes([1]) + (bytes([1]) if version >= 4 else b"") + struct.pack(
        "<BbBB", 1, line_base, line_range, opcode_base) + std + tabs
    off = struct.pack("<Q", len(fields)) if dwarf64 else struct.pack("<I", len(fields))
    body = struct.pack("<H", version) + off + fields + program
    if dwarf64:
        return b"\xff\xff\xff\xff" + struct.pack("<Q", len(body)) + body
    return struct.pack("<I", len(body)) + body


def v5_unit(program, line_str_offs=(0, 5), dwarf64=False, asz=8):
    """A hand-made DWARF 5 line program: one directory, one file, both DW_FORM_line_strp."""
    o = "<Q" if dwarf64 else "<I"
    dirs = bytes([1, 1, 0x1f]) + bytes([1]) + struct.pack(o, line_str_offs[0])
    files = bytes([2, 1, 0x1f, 2, 0x0b]) + bytes([2]) + struct.pack(o, line_str_offs[1]) + b"\0" \
        + struct.pack(o, line_str_offs[1]) + b"\0"
    fields = struct.pack("<BBBbBB", 1, 1, 1, -5, 14, 13) + bytes([0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1])
    fields += dirs + files
    body = struct.pack("<HBB", 5, asz, 0) + struct.pack(o, len(fields)) + fields + program
    if dwarf64:
        return b"\xff\xff\xff\xff" + struct.pack("<Q", len(body)) + body
    return struct.pack("<I", len(body)) + body


def line_program(base, steps=8):
    p = b"\x00\x09\x02" + struct.pack("<Q", base)  # DW_LNE_set_address
    for i in range(steps):
        p += bytes([0x20 + i])  # special opcodes: address and line advance together
    p += b"\x02\x05\x03\x7e\x01"  # advance_pc 5, advance_line -2, copy
    p += b"\x04\x02\x01"  # set_file 2, copy
    p += b"\x00\x01\x01"  # end_sequence
    return p


def linetab(build):
    files = {}
    prog = line_program(0x401000)
    prog2 = line_program(0x400800, 4) + line_program(0x401000, 3)  # two sequences, out of order
    r = [(0x401004, 0x10)]
    files["v4"] = linetab_seed(0, v4_unit(prog), r)
    files["v3"] = linetab_seed(0, v4_unit(prog, version=3), r)
    files["v2_no_comp_dir"] = linetab_seed(0, v4_unit(prog, version=2), r, comp_dir=False)
    files["v4_dwarf64"] = linetab_seed(0, v4_unit(prog, dwarf64=True), r)
    files["v4_two_seqs"] = linetab_seed(0, v4_unit(prog2, files=(("a.c", 1), ("/abs/b.h", 0))),
                                        [(0x400800, 8), (0x401008, 0x20), (0x300000, 1)])
    files["v4_asz4"] = linetab_seed(8, v4_unit(b"\x00\x05\x02" + struct.pack("<I", 0x1000) +
                                               b"\x13\x14\x00\x01\x01"), [(0x1000, 2)])
    files["v4_opcode_base_10"] = linetab_seed(0, v4_unit(prog, opcode_base=10), r)
    files["v4_define_file"] = linetab_seed(0, v4_unit(b"\x00\x07\x03x.c\x00\x01\x00\x00\x04\x02"
                                                      + prog), r)
    files["v4_truncated"] = linetab_seed(0, v4_unit(prog)[:-7], r)
    files["v4_bad_dir"] = linetab_seed(0, v4_unit(prog, files=(("a.c", 9),)), r)
    ls = b"/src\0a.c\0"
    files["v5"] = linetab_seed(0, v5_unit(prog), r, line_str=ls)
    files["v5_dwarf64"] = linetab_seed(0, v5_unit(prog, dwarf64=True), r, line_str=ls)
    files["v5_asz_mismatch"] = linetab_seed(8, v5_unit(prog), r, line_str=ls)
    files["v5_no_line_str"] = linetab_seed(0, v5_unit(prog), r)
    files["v5_str_past_end"] = linetab_seed(0, v5_unit(prog, (0, 40)), r, line_str=ls)
    files["v5_unterminated_str"] = linetab_seed(0, v5_unit(prog), r, line_str=b"/src\0a.c")
    files["second_unit"] = linetab_seed(0, v4_unit(prog) + v4_unit(prog2), r,
                                        offset=len(v4_unit(prog)))
    files["many_ranges"] = linetab_seed(0, v4_unit(prog), [(0x401000 + i, 2) for i in range(8)])
    files["too_many_ranges"] = linetab_seed(0, v4_unit(prog), [(0x401000, 1)] * 8)[:1].replace(
        b"\x81", b"\xf1") + linetab_seed(0, v4_unit(prog), [(0x401000, 1)] * 8)[1:]
    # ranges sharing a predecessor, one inside another: each row once
    files["overlapping"] = linetab_seed(0, v4_unit(prog2), [(0x400900, 4), (0x400900, 0x800),
                                                            (0x401004, 2), (0x400804, 0x10)])
    files["empty_range"] = linetab_seed(0, v4_unit(prog), [(0x401000, 0)])
    # real programs: units of this build's own linked binaries and of Debian's
    # python3.11 / libc6 debug files (DWARF 5, compressed), one small unit each
    reals = []
    for binary in (os.path.join(build, "tests", "unit", f"linetab_fixture_v{v}") for v in (3, 4)):
        if os.path.exists(binary):
            reals.append((os.path.basename(binary), binary))
    replay = os.path.join(build, "tests", "fuzz", "fuzz_linetab_replay")
    if os.path.exists(replay):
        reals.append(("self", replay))
    for name, binary in (("python", "/usr/bin/python3.11"),
                         ("libc", "/lib/x86_64-linux-gnu/libc.so.6")):
        dbg = debug_file(binary)
        if dbg:
            reals.append((name, dbg))
    for name, path in reals:
        secs = elf_sections(path)
        if ".debug_line" not in secs:
            continue
        line_str = secs.get(".debug_line_str", (b"",))[0]
        # each seed < 64 KiB: the whole string section (the header's offsets into it) and a unit
        room = min(30 << 10, (62 << 10) - len(line_str))
        if room < 4 << 10:
            continue
        units = dwarf_units(secs[".debug_line"][0], room)
        picked = [u for u in units if len(seq_starts(u[1])) >= 2][:2]
        for i, (off, unit) in enumerate(picked):
            starts = seq_starts(unit)
            ranges = [(starts[0] + 4, 0x40), (starts[1], 0x10), (starts[-1] + 0x100, 0x1000)]
            files[f"{name}_{i}"] = linetab_seed(0, unit, ranges, line_str=line_str)
    write("linetab", files)


def aranges_set(unit, pairs, asz=8, version=2, dwarf64=False, seg=0, extra=b""):
    """One .debug_aranges set (little-endian): header, padding, pairs, (0, 0)."""
    f = "<Q" if asz == 8 else "<I"
    head = struct.pack("<H", version) + struct.pack("<Q" if dwarf64 else "<I", unit)
    head += bytes([asz, seg])
    lead = 12 if dwarf64 else 4
    pad = (-(lead + len(head))) % (2 * asz)
    body = head + b"\0" * pad + b"".join(struct.pack(f, a) + struct.pack(f, n)
                                         for a, n in list(pairs) + [(0, 0)]) + extra
    if dwarf64:
        return b"\xff\xff\xff\xff" + struct.pack("<Q", len(body)) + body
    return struct.pack("<I", len(body)) + body


def info_units(sizes, version=5, abbrev_off=0):
    """Unit headers of a .debug_info, each unit padded to its size."""
    out = b""
    for size in sizes:
        if version >= 5:
            head = struct.pack("<HBBI", 5, 1, 8, abbrev_off)
        else:
            head = struct.pack("<HIB", version, abbrev_off, 8)
        out += struct.pack("<I", size - 4) + head + b"\x01" * (size - 4 - len(head))
    return out


def aranges_seed(sec, info=b"", msb=False, abbrev=1 << 20):
    return bytes([1 if msb else 0]) + struct.pack("<HI", len(info), abbrev) + info + sec


def aranges():
    info = info_units([0x40, 0x40, 0x40])
    two = aranges_set(0, [(0x1000, 0x100), (0x1200, 0x10)]) + aranges_set(0x40, [(0x1100, 0x80)])
    files = {
        "two_units": aranges_seed(two, info),
        "v4_info": aranges_seed(two, info_units([0x40, 0x40], version=4)),
        "three_units_unsorted": aranges_seed(
            aranges_set(0x80, [(0x3000, 0x10)]) + aranges_set(0, [(0x1000, 0x10), (0x1010, 0x10)])
            + aranges_set(0x40, [(0x2000, 0x10)]), info),
        "same_start": aranges_seed(aranges_set(0, [(0x1000, 0x10)]) + aranges_set(0x40, [(0x1000, 0x20)]),
                                   info),
        "same_unit_twice": aranges_seed(aranges_set(0, [(0x1000, 0x10)]) + aranges_set(0, [(0x1000, 0x10)]),
                                        info),
        "last_lengths": aranges_seed(aranges_set(0, [(0x1000, 0x10), (0x2000, 0x10), (0x2000, 0x30)])),
        "wraps": aranges_seed(aranges_set(0, [(0xfffffffffffffff0, 0x20)]) + aranges_set(0x40, [(0x10, 1)])),
        "asz4": aranges_seed(aranges_set(0, [(0x1000, 0x10)], asz=4) + aranges_set(0x40, [(0x800, 4)], asz=4),
                             info),
        "dwarf64": aranges_seed(aranges_set(0x40, [(0x1000, 0x10)], dwarf64=True), info),
        "big_endian": aranges_seed(b"\0\0\0\x2c\0\x02\0\0\0\0\x08\0" + b"\0" * 4 +
                                   struct.pack(">QQ", 0x1000, 0x10) + b"\0" * 16, info, msb=True),
        "version3": aranges_seed(aranges_set(0, [(0x1000, 0x10)], version=3)),
        "segment": aranges_seed(aranges_set(0, [(0x1000, 0x10)], seg=8)),
        "past_terminator": aranges_seed(aranges_set(0, [(0x1000, 0x10)], extra=b"\0" * 16)),
        "truncated": aranges_seed(two[:-9]),
        "unit_past_info": aranges_seed(aranges_set(0x400, [(0x1000, 0x10)]), info),
        "unit_inside": aranges_seed(aranges_set(0x20, [(0x1000, 0x10)]), info),
        "small_abbrev": aranges_seed(two, info_units([0x40, 0x40], abbrev_off=0x10), abbrev=0x0f),
        # a unit DIE 2 bytes before its unit's end: libdwfl would take it for the end
        "die_at_end": aranges_seed(aranges_set(0x40, [(0x1000, 0x10)]), info_units([0x40, 14])),
        "die_before_end": aranges_seed(aranges_set(0x40, [(0x1000, 0x10)]), info_units([0x40, 17])),
        "empty_set": aranges_seed(aranges_set(0, [])),
    }
    # real sections: this build's and Debian's debug files, their first sets
    reals = [("python", debug_file("/usr/bin/python3.11")),
             ("libc", debug_file("/lib/x86_64-linux-gnu/libc.so.6"))]
    for name, path in reals:
        if not path:
            continue
        secs = elf_sections(path)
        sets = dwarf_units(secs[".debug_aranges"][0], 1 << 20)
        sec = b""
        for _, data in sets:
            if len(sec) + len(data) > 12 << 10:
                break
            sec += data
        files[f"{name}_first_sets"] = aranges_seed(sec, secs[".debug_info"][0][:8 << 10],
                                                   abbrev=len(secs[".debug_abbrev"][0]))
        # a set with the unit it names, when that unit is small
        info_sec = secs[".debug_info"][0]
        for _, data in sets:
            unit, = struct.unpack_from("<I", data, 6)
            size = 4 + struct.unpack_from("<I", info_sec, unit)[0]
            if size < 16 << 10 and len(data) >= 48:
                files[f"{name}_set_and_unit"] = aranges_seed(
                    data[:6] + b"\0\0\0\0" + data[10:],
                    info_sec[unit:unit + size], abbrev=len(secs[".debug_abbrev"][0]))
                break
        files[f"{name}_sets_alone"] = aranges_seed(sets[-1][1] + sets[len(sets) // 2][1])
    write("aranges", files)


def symraw(build):
    def sym(name, info, shndx, value, size):
        return struct.pack("<IBBHQQ", name, info, 0, shndx, value, size)

    def seed(flags, syms, strtab, alloc=b"\0\1\1", xndx=(), bias=0):
        return bytes([flags, len(alloc)]) + struct.pack("<HHQ", len(strtab), len(xndx), bias) \
            + alloc + strtab + b"".join(struct.pack("<I", x) for x in xndx) + b"".join(syms)

    strtab = b"\0main\0busy\0data\0file.c\0tls\0"
    func, obj, sect, fil, tls = 0x12, 0x11, 0x03, 0x04, 0x16
    syms = [sym(0, 0, 0, 0, 0), sym(1, func, 1, 0x1000, 0x40), sym(6, func, 2, 0x1040, 0x20),
            sym(11, obj, 0, 0x3000, 8), sym(16, fil, 0xfff1, 0, 0), sym(0, sect, 1, 0x1000, 0),
            sym(23, tls, 2, 0x10, 8), sym(11, obj, 0xfff1, 0x42, 0), sym(6, obj, 0xfff2, 0x8, 8),
            sym(1, func, 0xffff, 0x2000, 4), sym(6, func, 9, 0x5000, 4), sym(99, func, 1, 0x10, 1),
            sym(1, func, 0xff00, 0x6000, 4), sym(6, func, 3, 0x7000, 4)]  # just past the sections
    files = {
        "hand": seed(0, syms, strtab, bias=0x7f0000000000),
        "xindex": seed(1, syms, strtab, xndx=[0, 1, 2, 0, 0, 0, 0, 0, 0, 2], bias=0x1000),
        "xindex_short": seed(1, syms, strtab, xndx=[0, 1, 2]),
        "no_nul": seed(2, syms, strtab),
        "one_fewer": seed(4, syms, strtab, alloc=b""),
        "stop_early": seed(8 | 0x20, syms, strtab),
        "no_strtab": seed(0, syms, b""),
    }
    # real tables: the first symbols of one of this build's binaries and of python3.11's debug file
    for name, path in (("self", os.path.join(build, "tests", "fuzz", "fuzz_symraw_replay")),
                       ("python", debug_file("/usr/bin/python3.11"))):
        if not path or not os.path.exists(path):
            continue
        secs = elf_sections(path)
        sym_tab, strs = secs[".symtab"][0], secs[".strtab"][0]
        # in section header order (elf_sections keeps it)
        alloc = bytes([1 if h[2] & 2 else 0 for _, h in secs.values()])
        files[name] = seed(0, [sym_tab[i:i + 24] for i in range(0, min(len(sym_tab), 400 * 24), 24)],
                           strs[:12 << 10], alloc=alloc, bias=0x555555554000)
    write("symraw", files)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unwind-replay", help="fuzz_unwind_replay, to write raw unwind seeds")
    ap.add_argument("--build", default=os.path.join(HERE, "..", "..", "build"),
                    help="a build directory whose binaries give real DWARF seeds")
    ap.add_argument("names", nargs="*", help="the corpora to write (all by default)")
    args = ap.parse_args()
    writers = {"perfmap": perfmap, "demangle": demangle, "report_when": report_when,
               "procnet": procnet, "duration": duration, "record_args": record_args,
               "stall": stall, "recfile": recfile, "unwind": lambda: unwind(args.unwind_replay),
               "config": config, "probe_shm": probe_shm, "procstat": procstat, "pycode": pycode,
               "pytask": pytask, "cgroup": cgroup, "inflate": inflate,
               "linetab": lambda: linetab(args.build), "aranges": aranges,
               "symraw": lambda: symraw(args.build)}
    for name in args.names or writers:
        writers[name]()

if __name__ == "__main__":
    main()
