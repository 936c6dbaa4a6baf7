#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A library loaded after the agent attached, from a file deleted right after
dlopen() (tests/victims/plugin_late.c): the stall's stack must still name the
plugin's functions with file:line. The agent re-reads the process's mappings
when they change and opens the module through /proc/PID/map_files."""
import lstest


def test():
    exe = lstest.env_path("VICTIM_PLUGIN_LATE")
    plugin = lstest.env_path("VICTIM_PLUGIN_LIB")
    with lstest.Session() as s:
        run = lstest.record_pid(s, [exe, plugin, "200"], name="plugin_late")
        st = lstest.one_stall(run, "usleep(200 ms) inside the late plugin")
        assert st["cause"] == "blocking_syscall", lstest.brief(st)
        lstest.assert_close(st["duration_ms"], 200, 0.10, "stall duration_ms")
        stack = lstest.syscall_stack(st, "clock_nanosleep")
        print("  clock_nanosleep stack:\n" + lstest.format_stack(stack))
        frames = lstest.frames_in_order(stack, ["plugin_load_data", "plugin_block", "main"])
        for f in frames[:2]:
            assert f["file"] and f["file"].endswith("plugin_lib.c") and f["line"], (
                f"{f['symbol']}: no file:line from the deleted plugin's DWARF:\n"
                + lstest.format_stack(stack))
            assert f["module"] and "loopstall-plugin-" in f["module"], (
                f"{f['symbol']}: module {f['module']!r} is not the dlopen()ed copy")


if __name__ == "__main__":
    lstest.main(test)
