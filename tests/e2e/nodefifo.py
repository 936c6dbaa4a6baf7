# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A Node.js victim that blocks once in an interpreted JavaScript function
(tests/victims/node_fifo.js: readFifoSync, a fs.readFileSync of a FIFO),
recorded with `loopstall record -p`; the test writes the FIFO 300 ms after
the scenario began. Shared by test_stack_node_interpreted.py (the host's
namespaces) and test_stack_node_pidns.py (a new pid and mount namespace).
"""
import os
import signal
import subprocess
import threading
import time

import lstest

FUNCTION = "readFifoSync"
CALLER = "scenario"
WRITER_DELAY_S = 0.3
NODE_FLAGS = ["--perf-basic-prof", "--interpreted-frames-native-stack"]


def write_fifo_later(target, fifo, errors):
    """Writes one line into fifo WRITER_DELAY_S after the scenario began."""
    def run():
        try:
            if not target.wait_line("stdout", lambda l: l == "scenario fifo begin", 20):
                errors.append("the victim exited before its scenario")
                return
            time.sleep(WRITER_DELAY_S)
            # blocks until the victim's open() is there too: it is, or soon
            with open(fifo, "w") as f:
                f.write("hello from the test\n")
        except Exception as e:  # reported by the test's thread
            errors.append(f"writing {fifo}: {e}")
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def record(s, target, node_pid, fifo):
    """Records node_pid through the scenario; returns the Run."""
    rec = s.record(["-p", str(node_pid)])
    errors = []
    writer = write_fifo_later(target, fifo, errors)
    os.kill(node_pid, signal.SIGUSR2)
    rc = target.wait(60)
    writer.join(10)
    assert not errors, errors[0]
    assert rc == 0, f"{target.name} exited with {rc}; stderr:\n{target.text('stderr')}"
    run = s.finish(rec, target, timeout=20)
    lstest.show(run)
    lstest.check_records(run)
    return run


def check_named(run):
    """The stall's blocking stack names readFifoSync (a js frame), then its caller."""
    stalls = run.stalls_in(run.scenario_window("fifo"))
    assert len(stalls) == 1, (
        "expected one stall in the scenario, got:\n"
        + "\n".join(lstest.brief(x) for x in run.stalls))
    st = stalls[0]
    assert st["cause"] == "blocking_syscall", lstest.brief(st)
    sc = st["syscalls"][0]
    assert sc["max_ms"] >= WRITER_DELAY_S * 1000 * 0.8, lstest.brief(st)
    stack = sc["stack"]
    print(f"  {sc['name']} {sc['total_ms']:.1f} ms, stack:\n" + lstest.format_stack(stack))
    own = [f for f in stack if f"JS:~{FUNCTION} " in (f.get("symbol") or "")]
    assert own, (f"no frame names the interpreted {FUNCTION} (~: not optimized) in the"
                 f" {sc['name']} stack:\n" + lstest.format_stack(stack))
    assert all(f["kind"] == "js" for f in own), f"{FUNCTION}'s frame is not kind js: {own}"
    i = stack.index(own[0])
    assert any(f"JS:~{CALLER} " in (f.get("symbol") or "") for f in stack[i + 1:]), (
        f"{CALLER}, the caller of {FUNCTION}, is not named after it:\n"
        + lstest.format_stack(stack))
    return st


def check_outputs(path, folded_has=FUNCTION):
    """report (text, json, folded) and doctor: folded_has in the folded
    stacks, and no mangled C++ symbol in any of them."""
    outs = {}
    for name, args in (("report", ["report", path]),
                       ("report json", ["report", path, "--format", "json"]),
                       ("folded", ["report", path, "--format", "folded"]),
                       ("doctor", ["doctor", path])):
        p = subprocess.run([lstest.loopstall(), *args], capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 0, f"loopstall {' '.join(args)}: exit {p.returncode}\n{p.stderr}"
        outs[name] = p.stdout
    assert folded_has in outs["folded"], (
        f"folded output does not name {folded_has}:\n{outs['folded']}")
    with open(path) as f:
        outs["records"] = f.read()
    for name, text in outs.items():
        assert "_ZN" not in text and " _Z" not in text, (
            f"a mangled C++ symbol in the {name} output:\n"
            + "\n".join(l for l in text.splitlines() if "_Z" in l)[:2000])
