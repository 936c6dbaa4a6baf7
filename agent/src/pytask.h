/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_PYTASK_H
#define LOOPSTALL_PYTASK_H

#include <stdint.h>
#include "pycode.h"

/*
 * asyncio's running Tasks as another process sees them: the `_asyncio`
 * module keeps one dict, loop -> the Task it runs now (the dict is
 * `_asyncio._current_tasks`, found through sys.modules), and a C Task holds
 * its coroutine and its name. A Task is matched to a stack by its
 * coroutine's frame address (the frames BPF walked), so a Task is only
 * named when it runs exactly the frame we saw. Pure: memory comes through
 * a read callback (a live process or a fuzzer's bytes), and every read is
 * bounded.
 */

/* Offsets private to CPython's sources, per minor version (gdb `ptype /o`). */
struct ls_py_task_layout {
	int minor;
	uint16_t interp_modules;  /* PyInterpreterState: sys.modules (3.12+: imports.modules) */
	uint16_t coro_frame;	  /* 3.10: PyCoroObject.cr_frame (a pointer); 3.11+: cr_iframe */
	uint16_t task_coro;	  /* _asyncio's TaskObj (Modules/_asynciomodule.c) */
	uint16_t task_name;	  /* a str; 3.12+: or an int N for "Task-N" */
	uint16_t state_task_type; /* 3.12+: asyncio_state.TaskType (module state), else NO */
};

const struct ls_py_task_layout *ls_py_task_layout(int minor);

/* Addresses of the interpreter's own types (dynamic symbols), 0 when unknown. */
struct ls_py_types {
	uint64_t dict;	  /* PyDict_Type: required */
	uint64_t str;	  /* PyUnicode_Type: required */
	uint64_t integer; /* PyLong_Type: for 3.12+'s "Task-N" */
	uint64_t module;  /* PyModule_Type: checked when known */
};

/* Entries of a dict read at most: a bound on a hostile size. */
#define LS_PY_DICT_MAX 8192
/* Running Tasks read at most: one per event loop, few loops per process. */
#define LS_PY_TASKS_MAX 8
#define LS_PY_TASK_NAME 128

/*
 * The address of `_asyncio._current_tasks` in the interpreter whose
 * PyInterpreterState is at interp, and (3.12+, whose Task type is made per
 * module) the module's C Task type, else 0: 0, -ENOENT (asyncio not
 * imported), or -EINVAL (memory that is not what it should be).
 */
int ls_py_current_tasks_dict(const struct ls_py_layout *l, const struct ls_py_task_layout *tl,
			     const struct ls_py_types *types, ls_py_read_fn read, void *ctx,
			     uint64_t interp, uint64_t *out, uint64_t *task_type);

struct ls_py_task {
	uint64_t frame; /* the address of the frame of the coroutine it steps */
	char name[LS_PY_TASK_NAME];
};

/*
 * The Tasks running now, from the current-tasks dict at addr: C Tasks
 * (of type *task_type; when 0, of the static type named "_asyncio.Task" of
 * 3.10 and 3.11, whose address is then kept there), or of a subclass of
 * it, with a readable name. Returns how many were put in out (<= max),
 * or -EINVAL when addr holds no dict.
 */
int ls_py_current_tasks(const struct ls_py_layout *l, const struct ls_py_task_layout *tl,
			const struct ls_py_types *types, ls_py_read_fn read, void *ctx,
			uint64_t addr, uint64_t *task_type, struct ls_py_task *out, unsigned max);

#endif
