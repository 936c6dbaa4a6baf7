#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The symbolizer's store (agent/src/funstore.h): what a run learned of a
module (its ELF symbols' ranges, its functions' inlined calls and line
rows) is left in $LOOPSTALL_DEBUG_CACHE as BUILDID.funcs, and the next
run names the module's addresses from it before reading any DWARF: the
same stack, frame for frame (symbol, file, line, inlined), as the run
that read the DWARF. LOOPSTALL_SYMBOLIZE=check names every address with
libdw as well and counts where the two differ (none may).

A store altered on disk (one letter of a name), or another module's store under
python's name, is refused (the run names its frames with libdw, the same
frames) and replaced by a good one, which the run after reads again.
"""
import os
import re
import shutil
from types import SimpleNamespace

import lstest
from test_stack_debug_cache import build_id, same_native_stack, sleep_stall

STORE_RE = re.compile(r"symbol store: (\d+) modules read, (\d+) refused, (\d+) written")


def sleep_run(s, what):
    """One run of the Python sleep stall: its stack, and the symbol stores
    it read, refused and wrote."""
    stack, err = sleep_stall(s, what)
    m = STORE_RE.search(err)
    assert m, f"{what}: no symbol store line in the agent's stderr:\n{err}"
    run = SimpleNamespace(stack=stack, **{k: int(v) for k, v in
                                          zip(("read", "refused", "written"), m.groups())})
    print(f"  {what}: stores {counts(run)}")
    return run


def counts(run):
    return f"{run.read} read, {run.refused} refused, {run.written} written"


def same_stack(first, other, what):
    same_native_stack(first.stack, other.stack, what, "the run that read the DWARF")


def test():
    lstest.require_root()
    python = os.path.realpath(lstest.PYTHON)
    bid = build_id(python)
    if not bid:
        lstest.skip(f"{python} has no build-id: nothing to key a store by")
    os.environ["LOOPSTALL_SYMBOLIZE"] = "check"
    with lstest.Session() as s:
        cache = os.path.join(s.dir, "debuginfo")
        os.environ["LOOPSTALL_DEBUG_CACHE"] = cache
        store = os.path.join(cache, f"{bid}.funcs")

        first = sleep_run(s, "no store")
        assert first.read == 0 and first.written >= 1, f"first run: {counts(first)}"
        assert os.path.exists(store), (
            f"no {store} after the first run: {os.listdir(cache) if os.path.isdir(cache) else '-'}")
        st = os.stat(store)
        assert st.st_uid == os.geteuid() and not st.st_mode & 0o022, oct(st.st_mode)

        again = sleep_run(s, "store written")
        assert again.read >= 1 and again.refused == 0, f"the store was not read: {counts(again)}"
        same_stack(first, again, "store read")

        # one letter of a name in python's store: only its checksum tells
        with open(store, "r+b") as f:
            data = f.read()
            at = data.find(b"_PyEval_EvalFrameDefault")
            assert at > 0, "python's store does not name _PyEval_EvalFrameDefault"
            f.seek(at + 4)
            f.write(b"X")
        altered = sleep_run(s, "altered store")
        assert altered.refused >= 1, f"an altered store was not refused: {counts(altered)}"
        same_stack(first, altered, "altered store")
        healed = sleep_run(s, "after the altered store")
        assert healed.refused == 0 and healed.read >= 1, (
            f"the altered store was not replaced: {counts(healed)}")
        same_stack(first, healed, "after the altered store")

        # another module's store under python's name
        others = [f for f in os.listdir(cache) if f.endswith(".funcs") and f != f"{bid}.funcs"]
        assert others, f"only python's store in {cache}: {os.listdir(cache)}"
        shutil.copyfile(os.path.join(cache, others[0]), store)
        os.chmod(store, 0o644)
        foreign = sleep_run(s, "foreign store")
        assert foreign.refused >= 1, f"another module's store was taken: {counts(foreign)}"
        same_stack(first, foreign, "foreign store")
        with open(store, "rb") as f, open(os.path.join(cache, others[0]), "rb") as g:
            assert f.read() != g.read(), "the foreign store was not replaced"


if __name__ == "__main__":
    lstest.main(test)
