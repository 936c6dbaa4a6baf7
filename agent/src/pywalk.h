/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_PYWALK_H
#define LOOPSTALL_PYWALK_H

#include <stdint.h>
#include "loop_tracker.h"
#include "pycode.h"

/*
 * The CPython frames of a thread that is blocked now, read from user space
 * as BPF's py_walk (pyframes.bpf.h) reads them in the thread's own context
 * at a switch-out: the agent needs them for a block it did not see begin
 * (a lean loop followed again in the middle of a block, follow_seed). A
 * blocked thread's frames hold still while it stays blocked.
 *
 * pp: the process's layout (its `py_procs` entry); fsbase: the thread's fs
 * base, which is what CPython's thread state holds as its thread id. Every
 * read is of the target's memory: bounded as in BPF (PY_MAX_* there), a
 * failed read ends the walk (LT_PY_READ_FAILED), a chain that does not end
 * within LT_PY_MAX_FRAMES frames is LT_PY_TRUNCATED. out->status is
 * LT_PY_NO_THREAD when no thread state has this fs base. Pure logic over
 * `read`, for unit tests.
 */
void ls_py_walk(const struct lt_py_proc *pp, ls_py_read_fn read, void *ctx, uint64_t fsbase,
		struct lt_py_stack *out);

#endif
