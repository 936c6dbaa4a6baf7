/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_PYFRAMES_H
#define LOOPSTALL_PYFRAMES_H

#include <stdint.h>
#include <sys/types.h>
#include "loop_tracker.h"
#include "stall.h"

/*
 * CPython frames in the stacks of processes that run CPython 3.10-3.13,
 * with no cooperation from the process: at attach, the interpreter's
 * _PyRuntime (a dynamic symbol, even in a stripped python) and its version
 * go to BPF (map py_procs), which then records the Python frame chain with
 * every stack (pyframes.bpf.h); here the code objects it names are read from
 * the process (qualified name, file, line) and put in the native stack
 * where _PyEval_EvalFrameDefault runs them, as `py-spy dump --native` does.
 */
struct ls_pyframes;

/* Strings in frames must outlive the stack: the caller's interner keeps them. */
typedef const char *(*ls_pyframes_intern_fn)(void *ctx, const char *s);

/* py_procs_fd: the BPF map to fill, -1 for none (then attach only reads). */
struct ls_pyframes *ls_pyframes__new(int py_procs_fd);
void ls_pyframes__free(struct ls_pyframes *py);
/*
 * Process pid may run CPython: find its interpreter and tell BPF. 0 when it
 * does (or was already known), -ENOENT when it runs no supported CPython,
 * other -errno when it cannot be read.
 */
int ls_pyframes__attach(struct ls_pyframes *py, pid_t pid);
/* The process exited (or exec'd): forget it here and in BPF. */
void ls_pyframes__forget(struct ls_pyframes *py, pid_t pid);
/*
 * Read the code objects ps names now, while the process runs: a stall's
 * stacks are resolved after it ended, and the process may be gone by then.
 */
void ls_pyframes__warm(struct ls_pyframes *py, pid_t pid, const struct lt_py_stack *ps);
/*
 * The Python frames of a thread of pid that is blocked now, whose fs base
 * is fsbase, read from its memory (pywalk.h): for a block whose switch-out
 * BPF did not see. status LT_PY_NONE when pid runs no CPython known here.
 */
void ls_pyframes__walk(struct ls_pyframes *py, pid_t pid, uint64_t fsbase, struct lt_py_stack *out);
/*
 * Put the Python frames of ps into stack (symbolized native frames,
 * innermost first; frames is replaced by a larger array). 0 or -ENOMEM.
 */
int ls_pyframes__merge(struct ls_pyframes *py, pid_t pid, const struct lt_py_stack *ps,
		       struct ls_stack *stack, ls_pyframes_intern_fn intern, void *intern_ctx);

/*
 * The asyncio task a stack (merged, of process pid) runs: the coroutine
 * frame a Task steps, just inside asyncio's Handle._run. NULL when the stack
 * runs none (or a plain callback).
 */
const struct ls_frame *ls_pyframes__task(struct ls_pyframes *py, pid_t pid,
					 const struct ls_stack *st);

/*
 * A stall of thread tid (of process pid), in the busy period that began at
 * busy_start_ns, is going on now: keep the asyncio Tasks its process runs
 * at this moment (pytask.h), to name the stall's Task when it is resolved,
 * after the Task may be gone. Call while the stall lasts. Returns how many
 * Tasks were kept (0: none runs, or asyncio is not found).
 */
int ls_pyframes__snapshot_tasks(struct ls_pyframes *py, pid_t pid, pid_t tid,
				uint64_t busy_start_ns);
/*
 * The name of the Task that stepped the coroutine frame at address `frame`
 * (a task frame's pyframe) during that busy period: true and out set when a
 * snapshot saw it run, else false.
 */
bool ls_pyframes__task_name(struct ls_pyframes *py, pid_t pid, pid_t tid, uint64_t busy_start_ns,
			    uint64_t frame, char *out, size_t len);

/*
 * The interleaving alone, pure (for tests): `py` holds the Python frames
 * already named, innermost first, with entry[i] true for the outermost frame
 * of one eval call. Native frames that run the eval loop take the next run.
 * Returns the merged array (malloc'd, *n set) or NULL.
 */
struct ls_frame *ls_pyframes_interleave(const struct ls_frame *native, unsigned n_native,
					const struct ls_frame *py, const bool *entry, unsigned n_py,
					unsigned *n);

#endif
