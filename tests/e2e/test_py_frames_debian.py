#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Python frames in the stacks of Debian's stripped /usr/bin/python3.11 with
no debug files: the test runs a copy without the build-id note and the
debuglink, so no file under /usr/lib/debug (python3.11-dbg may be
installed) can be matched to it. Only .dynsym is left: _PyRuntime and
_PyEval_EvalFrameDefault are in it. The same checks as pyframes_case.py,
and the interpreter's native frames have no DWARF line (which a debug file
would give), so the Python names came from the interpreter's memory."""
import os
import shutil
import subprocess

import lstest
import pyframes_case

DEBIAN_PYTHON = "/usr/bin/python3.11"


def no_debug_copy(directory):
    objcopy = shutil.which("objcopy")
    if not objcopy:
        lstest.skip("no objcopy (binutils)")
    copy = os.path.join(directory, "python3.11")
    subprocess.run([objcopy, "--remove-section", ".note.gnu.build-id",
                    "--remove-section", ".gnu_debuglink", DEBIAN_PYTHON, copy], check=True)
    out = subprocess.run(["readelf", "-S", "--wide", copy], capture_output=True, text=True,
                         check=True).stdout
    assert ".symtab" not in out and ".debug_info" not in out, f"{DEBIAN_PYTHON} is not stripped"
    assert ".note.gnu.build-id" not in out and ".gnu_debuglink" not in out, out
    return copy


def test():
    if not os.path.exists(DEBIAN_PYTHON):
        lstest.skip(f"no {DEBIAN_PYTHON} (Debian package python3.11)")
    with lstest.Session() as s:
        copy = no_debug_copy(s.dir)

        def no_dwarf(st):
            stack = st["syscalls"][0]["stack"]
            ours = [f for f in stack if f.get("kind") == "native" and f.get("module") == copy]
            assert ours, "no native frame of the interpreter:\n" + lstest.format_stack(stack)
            assert all(f["line"] is None for f in ours), (
                "the interpreter's frames have lines: a debug file was used\n"
                + lstest.format_stack(stack))

        pyframes_case.run(copy, no_dwarf)


if __name__ == "__main__":
    lstest.main(test)
