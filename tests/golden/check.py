#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Golden-file tests of `loopstall report` and `loopstall doctor`.

Every tests/fixtures/NAME.jsonl (recorded from a real run, see
tests/fixtures/record.sh) is rendered as

  NAME.report.txt   report, text, colour off, 100 columns
  NAME.report.json  report --format json
  NAME.report.md    report --format markdown
  NAME.folded       report --format folded
  NAME.doctor.txt   doctor, colour off, 100 columns

and compared with tests/golden/. With --update the outputs become the new
golden files (review the diff before committing them). Either way every
fixture is validated against record/records.schema.json, and the
numbers of the outputs (counts, totals, per cause, histogram, worst stalls,
folded weights, the text headlines) are recomputed from the fixture by
truth.py, without the C code: an update cannot lock in wrong numbers. Then the contract
around broken input: a malformed line or a cut last line ends with exit 2
and one line naming FILE:LINE; unknown record types and fields change
nothing; stdin reads like a file. Needs no root.

usage: check.py --loopstall PATH [--update]
"""
import argparse
import difflib
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import truth

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
SCHEMA = os.path.join(HERE, "..", "..", "record", "records.schema.json")
WIDTH = "100"

OUTPUTS = [
    ("report.txt", ["report", "{f}", "--color", "never", "--width", WIDTH]),
    ("report.json", ["report", "{f}", "--format", "json"]),
    ("report.md", ["report", "{f}", "--format", "markdown"]),
    ("folded", ["report", "{f}", "--format", "folded"]),
    ("doctor.txt", ["doctor", "{f}", "--color", "never", "--width", WIDTH]),
]

failures = []


def fail(msg):
    failures.append(msg)
    print(f"FAIL: {msg}", file=sys.stderr)


def env():
    e = dict(os.environ)
    for k in ("COLUMNS", "NO_COLOR"):
        e.pop(k, None)
    return e


def run(loopstall, args, stdin=None):
    p = subprocess.run([loopstall, *args], input=stdin, capture_output=True, text=True,
                       env=env(), timeout=60)
    return p.returncode, p.stdout, p.stderr


def golden(loopstall, update):
    fixtures = sorted(glob.glob(os.path.join(FIXTURES, "*.jsonl")))
    assert fixtures, f"no fixtures in {FIXTURES}"
    for fixture in fixtures:
        name = os.path.basename(fixture)[:-len(".jsonl")]
        outputs = {}
        for suffix, argv in OUTPUTS:
            args = [a.replace("{f}", fixture) for a in argv]
            rc, out, err = run(loopstall, args)
            what = f"loopstall {' '.join(argv).replace('{f}', name + '.jsonl')}"
            if rc != 0 or err:
                fail(f"{what}: exit {rc}, stderr: {err.strip()}")
                continue
            outputs[suffix] = out
            path = os.path.join(HERE, f"{name}.{suffix}")
            if update:
                with open(path, "w") as f:
                    f.write(out)
                continue
            if not os.path.exists(path):
                fail(f"{what}: no golden file {os.path.basename(path)} (run with --update)")
                continue
            with open(path) as f:
                want = f.read()
            if out != want:
                diff = difflib.unified_diff(want.splitlines(True), out.splitlines(True),
                                            f"golden/{name}.{suffix}", "now")
                fail(f"{what} differs from its golden file:\n{''.join(diff)}")
            else:
                print(f"ok: {name}.{suffix}")
            check_shape(name, suffix, out)
        check_truth(name, fixture, outputs)


def check_truth(name, fixture, outputs):
    """The outputs' numbers against the fixture's own (truth.py)."""
    records, problems = truth.load_fixture(fixture, SCHEMA)
    if len(outputs) == len(OUTPUTS):
        summ = truth.summary_of(records)
        threshold = summ["threshold_ms"] if summ else 50
        problems += truth.check_report_json(records, json.loads(outputs["report.json"]))
        problems += truth.check_folded(records, outputs["folded"])
        problems += truth.check_text(records, outputs["report.txt"], outputs["doctor.txt"],
                                     threshold)
    for msg in problems:
        fail(f"{name}: {msg}")
    if not problems:
        print(f"ok: {name}: schema, and numbers recomputed from the fixture")


def check_shape(name, suffix, out):
    """What holds for any recording, beyond the golden text."""
    if suffix.endswith(".txt"):
        long = [l for l in out.splitlines() if len(l) > int(WIDTH)]
        if long:
            fail(f"{name}.{suffix}: {len(long)} line(s) wider than {WIDTH}: {long[0]!r}")
        if "\x1b" in out:
            fail(f"{name}.{suffix}: escape sequences with --color never")
    elif suffix == "report.json":
        rep = json.loads(out)
        if rep.get("type") != "report" or rep.get("schema_version") != 1:
            fail(f"{name}.{suffix}: not a report object")
    elif suffix == "folded":
        for line in out.splitlines():
            if not re.fullmatch(r"[^;\s][^;]*(;[^;]+)+ [1-9][0-9]*", line):
                fail(f"{name}.folded: not 'frame;frame;... count': {line!r}")
                break


def lines_of(fixture):
    with open(fixture) as f:
        return f.read().splitlines(True)


def expect_error(loopstall, cmd, path, want_line, want_text):
    rc, out, err = run(loopstall, [cmd, path])
    err_lines = [l for l in err.splitlines() if l.strip()]
    if want_line is None:
        prefix = "loopstall: "
    elif want_line:
        prefix = f"loopstall: {path}:{want_line}: "
    else:
        prefix = f"loopstall: {path}: "
    if rc != 2 or len(err_lines) != 1 or not err_lines[0].startswith(prefix) \
            or want_text not in err_lines[0]:
        fail(f"loopstall {cmd} on {os.path.basename(path)}: exit {rc}, stderr {err_lines};"
             f" want exit 2 and one line '{prefix}...{want_text}...'")
    elif out:
        fail(f"loopstall {cmd} on {os.path.basename(path)}: printed a report too: {out[:200]!r}")
    else:
        print(f"ok: {cmd} {os.path.basename(path)}: {err_lines[0]}")


def broken_input(loopstall, tmp):
    demo = os.path.join(FIXTURES, "demo_service.jsonl")
    lines = lines_of(demo)
    assert len(lines) >= 3, "demo_service.jsonl is too short for these cases"

    malformed = os.path.join(tmp, "malformed.jsonl")
    with open(malformed, "w") as f:
        f.writelines([lines[0], '{"type": "stall", "schema_version": 1,\n', *lines[2:]])
    truncated = os.path.join(tmp, "truncated.jsonl")
    with open(truncated, "w") as f:
        # a killed recorder: the last record cut in the middle, no newline
        f.writelines(lines[:-1])
        f.write(lines[-1][:len(lines[-1]) // 2])
    garbage = os.path.join(tmp, "garbage.jsonl")
    with open(garbage, "w") as f:
        f.writelines([lines[0], lines[1].rstrip("\n") + " trailing\n", *lines[2:]])
    newer = os.path.join(tmp, "newer.jsonl")
    with open(newer, "w") as f:
        f.writelines([lines[0], '{"type":"stall","schema_version":2,"duration_ms":1}\n'])
    empty = os.path.join(tmp, "empty.jsonl")
    open(empty, "w").close()

    for cmd in ("report", "doctor"):
        expect_error(loopstall, cmd, malformed, 2, "malformed JSON")
        expect_error(loopstall, cmd, truncated, len(lines), "malformed JSON")
        expect_error(loopstall, cmd, garbage, 2, "malformed JSON")
        expect_error(loopstall, cmd, newer, 2, "schema_version 2")
        expect_error(loopstall, cmd, empty, 0, "no loopstall records")
        missing = os.path.join(tmp, "missing.jsonl")
        expect_error(loopstall, cmd, missing, None, f"cannot read {missing}")

    rc, out, err = run(loopstall, ["report", demo, "--format", "xml"])
    if rc != 2 or len(err.splitlines()) != 1:
        fail(f"report --format xml: exit {rc}, stderr {err!r}")


def without_lines(text):
    def strip(o):
        if isinstance(o, dict):
            return {k: strip(v) for k, v in o.items() if k not in ("line", "worst_line")}
        if isinstance(o, list):
            return [strip(v) for v in o]
        return o
    return strip(json.loads(text))


def forward_compatible(loopstall, tmp):
    """A newer writer's extra record types and fields change no output."""
    for name in ("demo_service", "py_lock"):
        fixture = os.path.join(FIXTURES, f"{name}.jsonl")
        newer = os.path.join(tmp, f"{name}.newer.jsonl")
        with open(newer, "w") as f:
            f.write('{"type":"gc_pause","schema_version":1,"pause_ms":3}\n')
            for line in lines_of(fixture):
                rec = json.loads(line)
                rec["future_field"] = {"nested": [1, 2, {"x": None}]}
                for sc in rec.get("syscalls", []):
                    sc["future_field"] = True
                f.write(json.dumps(rec) + "\n")
                f.write('{"type":"heartbeat","schema_version":1}\n')
        for suffix, argv in OUTPUTS:
            args = [a.replace("{f}", newer) for a in argv]
            rc, out, err = run(loopstall, args)
            path = os.path.join(HERE, f"{name}.{suffix}")
            if not os.path.exists(path):
                continue
            with open(path) as f:
                want = f.read()
            if suffix.endswith(".json"):
                # line numbers moved with the records added: the rest must not
                want, out = without_lines(want), without_lines(out)
            if rc != 0 or out != want:
                fail(f"{name}: {' '.join(argv[:3])} changes with unknown types and fields"
                     f" (exit {rc}, stderr {err.strip()!r})")
        print(f"ok: {name} with unknown record types and fields")


def stdin_and_color(loopstall):
    demo = os.path.join(FIXTURES, "demo_service.jsonl")
    with open(demo) as f:
        text = f.read()
    rc, out, err = run(loopstall, ["report", "-", "--color", "never", "--width", WIDTH], stdin=text)
    with open(os.path.join(HERE, "demo_service.report.txt")) as f:
        want = f.read()
    if rc != 0 or out != want:
        fail(f"report - (stdin): exit {rc}, output differs from the file's")
    rc, out, err = run(loopstall, ["report", demo, "--color", "always"])
    if rc != 0 or "\x1b[1m" not in out or "\x1b[0m" not in out:
        fail("report --color always: no colour")
    rc, out, err = run(loopstall, ["report", demo, "--color", "never", "--width", "60"])
    if rc != 0 or any(len(l) > 60 for l in out.splitlines()):
        fail("report --width 60: lines wider than 60 columns")
    print("ok: stdin, --color, --width")


def on_terminal(loopstall, args, cols, extra_env):
    """Runs loopstall with stdout on a pseudo-terminal `cols` wide; its output."""
    import fcntl
    import pty
    import struct
    import termios
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
    p = subprocess.Popen([loopstall, *args], stdout=slave, stderr=subprocess.PIPE,
                         env={**env(), **extra_env})
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    p.wait(60)
    os.close(master)
    return p.returncode, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def terminal(loopstall):
    """Colour on a terminal unless NO_COLOR is set; the terminal's width."""
    demo = os.path.join(FIXTURES, "demo_service.jsonl")
    for cmd in ("report", "doctor"):
        rc, out = on_terminal(loopstall, [cmd, demo], 70, {})
        plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
        if rc != 0 or "\x1b[1m" not in out:
            fail(f"{cmd} on a terminal: exit {rc}, no colour")
        if any(len(l) > 70 for l in plain.splitlines()):
            fail(f"{cmd} on a 70-column terminal: wider lines")
        rc, out = on_terminal(loopstall, [cmd, demo], 70, {"NO_COLOR": "1"})
        if rc != 0 or "\x1b[" in out:
            fail(f"{cmd} on a terminal with NO_COLOR: exit {rc}, colour anyway")
    print("ok: terminal colour, NO_COLOR and width")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loopstall", required=True)
    ap.add_argument("--update", action="store_true", help="rewrite the golden files")
    args = ap.parse_args()
    golden(args.loopstall, args.update)
    if args.update:
        print("golden files rewritten: review them with git diff")
        return 0 if not failures else 1
    tmp = tempfile.mkdtemp(prefix="loopstall-golden-")
    try:
        broken_input(args.loopstall, tmp)
        forward_compatible(args.loopstall, tmp)
        stdin_and_color(args.loopstall)
        terminal(args.loopstall)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failure(s)", file=sys.stderr)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
