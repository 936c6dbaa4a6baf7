# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The Python frame checks every CPython test runs (test_py_frames_*.py).

tests/victims/py_frames_app.py with one interpreter, attached with
`loopstall record -p` while it runs (no restart, no -X perf):
- sleep: handler() awaits fetch_user(), which calls time.sleep(0.3): the
  stall's syscall stack holds fetch_user at the time.sleep line, then handler
  at its await line, both "kind": "python", innermost Python frame first;
  the record's task is the coroutine asyncio.run's Task wraps
  (victim_common's _main), at the line where it awaits the scenario, and
  that Task's default name, Task-1;
  `loopstall doctor` names fetch_user (py_frames_app.py:LINE) as Where and
  the task (Task-1: _main() at ...);
- named: the same sleep in a Task created with name="fetch-7": the record
  names "fetch-7" and its coroutine handler (at its await line), and so
  does doctor;
- two: Tasks "first" and "second" block in one busy period, second longer
  (its stack is the stall's): the record never names "first";
- cpu: crunch() loops in pure Python for 0.4 s: at least 80 % of the
  stall's CPU samples have crunch, at one of its lines, as their innermost
  Python frame, and the record names the Task (Task-1, _main).
"""
import ast
import os
import subprocess

import lstest

APP = "py_frames_app.py"


def marks():
    """Line numbers of the victim's `# mark: NAME` comments, and crunch's lines."""
    path = os.path.join(lstest.env_path("VICTIMS"), APP)
    with open(path) as f:
        text = f.read()
    found = {}
    for n, line in enumerate(text.splitlines(), 1):
        if "# mark: " in line:
            found[line.split("# mark: ")[1].strip()] = n
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef) and node.name == "crunch":
            found["crunch"] = range(node.lineno, node.end_lineno + 1)
    return path, found


def python_frames(stack):
    return [f for f in stack if f.get("kind") == "python"]


def check_sleep(s, python):
    path, m = marks()
    argv = [python, path, "--wait-signal", "--scenario", "sleep", "--seconds", "0.3"]
    run = lstest.record_pid(s, argv)
    stalls = run.stalls_in(run.scenario_window("sleep"))
    assert len(stalls) == 1, "expected one stall:\n" + "\n".join(
        lstest.brief(x) for x in run.stalls)
    st = stalls[0]
    assert st["cause"] == "blocking_syscall", lstest.brief(st)
    stack = st["syscalls"][0]["stack"]
    print(f"  {st['syscalls'][0]['name']} stack:\n" + lstest.format_stack(stack))
    for f in stack:
        assert f.get("kind") in ("native", "python", "js"), f"frame without kind: {f}"
    py = python_frames(stack)
    assert py, "no Python frame in the stack:\n" + lstest.format_stack(stack)
    assert py[0]["symbol"] == "fetch_user", (
        "the innermost Python frame is not fetch_user:\n" + lstest.format_stack(stack))
    fetch, handler = lstest.frames_in_order(stack, ["fetch_user", "handler"])
    for f, line in ((fetch, m["sleep"]), (handler, m["await"])):
        assert f["kind"] == "python" and f["file"] == path and f["line"] == line, (
            f"expected {f['symbol']} at {path}:{line}, got {f}")
        assert f["module"] is None, f
    # the Python frames sit where the interpreter runs them: above an eval frame
    i = stack.index(fetch)
    assert any(g.get("kind") == "native" and (g.get("symbol") or "").startswith(
        "_PyEval_EvalFrameDefault") for g in stack[i + 1:]), (
        "no _PyEval_EvalFrameDefault outside fetch_user:\n" + lstest.format_stack(stack))
    # and the native frames of the sleep inside it (named or not: a stripped python)
    assert i >= 2 and all(g.get("kind") == "native" for g in stack[:i]), (
        "the native frames inside fetch_user are gone:\n" + lstest.format_stack(stack))
    # the asyncio task: the coroutine asyncio.run wrapped, where it awaits
    common = os.path.join(lstest.env_path("VICTIMS"), "victim_common.py")
    with open(common) as f:
        await_line = 1 + [l.strip() for l in f].index("await scenario(args)")
    # asyncio.run's Task is the process's first: its default name, Task-1
    task = st.get("task")
    want = {"name": "Task-1", "coroutine": "_main", "file": common, "line": await_line}
    assert task == want, f"the stall does not name the task {want}: {task}"
    out = subprocess.run([lstest.loopstall(), "doctor", run.recorder.out],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    want = f"Where: fetch_user ({APP}:{m['sleep']})"
    print(f"  doctor: ...{text[text.find('Where'):][:80]}")
    assert want in text, f"doctor does not say {want!r}:\n{out.stdout}"
    want = f"In asyncio task Task-1: _main() at victim_common.py:{await_line}."
    assert want in text, f"doctor does not say {want!r}:\n{out.stdout}"
    return st


def check_named(s, python):
    """The stall is in a Task created with name="fetch-7": the record names
    that Task, and its coroutine handler() where it awaits fetch_user()."""
    path, m = marks()
    argv = [python, path, "--wait-signal", "--scenario", "named", "--seconds", "0.3"]
    run = lstest.record_pid(s, argv)
    stalls = run.stalls_in(run.scenario_window("named"))
    assert len(stalls) == 1, "expected one stall:\n" + "\n".join(
        lstest.brief(x) for x in run.stalls)
    task = stalls[0].get("task")
    want = {"name": "fetch-7", "coroutine": "handler", "file": path, "line": m["await"]}
    print(f"  task: {task}")
    assert task == want, f"the stall does not name the task {want}: {task}"
    out = subprocess.run([lstest.loopstall(), "doctor", run.recorder.out],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    want = f"In asyncio task fetch-7: handler() at {APP}:{m['await']}."
    assert want in " ".join(out.stdout.split()), f"doctor does not say {want!r}:\n{out.stdout}"


def check_two(s, python):
    """Tasks "first" and "second" run fetch_user in one busy period; the
    stall's stack is second's longer sleep, but the agent saw "first" running
    when the stall crossed the threshold. The same code in two Tasks: only
    the coroutine frame's address tells them apart, so the record must not
    name "first" (it may name "second", or no Task name)."""
    path, m = marks()
    argv = [python, path, "--wait-signal", "--scenario", "two", "--seconds", "0.3"]
    run = lstest.record_pid(s, argv)
    stalls = run.stalls_in(run.scenario_window("two"))
    assert len(stalls) == 1, "expected one stall:\n" + "\n".join(
        lstest.brief(x) for x in run.stalls)
    st = stalls[0]
    assert st["syscalls"][0]["max_ms"] >= 250, f"the stack is not second's: {lstest.brief(st)}"
    task = st.get("task")
    print(f"  task: {task}")
    assert task and task["coroutine"] == "fetch_user" and task["line"] == m["sleep"], (
        f"the stall does not name fetch_user at {path}:{m['sleep']}: {task}")
    assert task.get("name") in (None, "second"), f"the stall names another Task: {task}"


def check_cpu(s, python):
    path, m = marks()
    argv = [python, path, "--wait-signal", "--scenario", "cpu", "--seconds", "0.4"]
    run = lstest.record_pid(s, argv)
    stalls = run.stalls_in(run.scenario_window("cpu"))
    assert len(stalls) == 1, "expected one stall:\n" + "\n".join(
        lstest.brief(x) for x in run.stalls)
    st = stalls[0]
    # a record keeps the 16 hottest stacks (each native chain is one): the
    # samples judged are those, and they must be most of the stall's
    total = sum(e["samples"] for e in st["cpu_stacks"])
    assert total >= 10 and total >= 0.5 * st["cpu_samples"], (
        f"too few CPU samples to judge: {lstest.brief(st)}, {total} of {st['cpu_samples']}")
    in_crunch = 0
    for entry in st["cpu_stacks"]:
        py = python_frames(entry["stack"])
        if py and py[0]["symbol"] == "crunch" and py[0]["line"] in m["crunch"]:
            in_crunch += entry["samples"]
    print(f"  {in_crunch} of {total} samples shown ({st['cpu_samples']} taken) in crunch (lines {m['crunch'].start}-"
          f"{m['crunch'].stop - 1}); hottest:\n"
          + lstest.format_stack(lstest.hottest_cpu_stack(st)[:12]))
    assert in_crunch >= 0.8 * total, (
        f"only {in_crunch} of {total} CPU samples name crunch at one of its lines")
    # a CPU stall's Task is named from its samples' frames (no blocking stack)
    task = st.get("task")
    assert task and task.get("name") == "Task-1" and task.get("coroutine") == "_main", (
        f"the CPU stall does not name the task Task-1 (_main): {task}")


def run(python, check=None):
    """Both scenarios with this interpreter; check(sleep_stall) checks more."""
    if not os.path.exists(python):
        lstest.skip(f"no {python}")
    print(f"  interpreter: {python}")
    with lstest.Session() as s:
        st = check_sleep(s, python)
        if check:
            check(st)
        check_named(s, python)
        check_two(s, python)
        check_cpu(s, python)
