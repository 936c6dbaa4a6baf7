/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The CPython probe (loopstall_probe._probe): libprobe for asyncio. Every
 * callback an asyncio loop runs goes through asyncio.events.Handle._run,
 * which install() replaces with a method written in C (probe.c) that takes
 * two timestamps around the callback; each loop's poll is timed the same
 * way to find its iterations. What it sees goes into a
 * libprobe region (lprobe_shm.h, version 2), named by symbol table entries
 * the probe writes itself (names.c). Everything runs with the GIL held, on
 * the thread that runs the loop: the GIL is the writers' lock.
 */
#ifndef LPROBE_PYPROBE_H
#define LPROBE_PYPROBE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdbool.h>
#include <stdint.h>
#include "lprobe_shm.h"

/* Locations remembered per task between two steps (direct-mapped by the task's address). */
#define PYP_TASK_CACHE 512

struct pyp_task_slot {
	PyObject *task; /* borrowed: only compared, never dereferenced */
	PyObject *coro;
	uint32_t loc;  /* where it suspended: where its next step resumes */
	uint32_t code; /* the coroutine's id */
};

/* One asyncio loop; lives in a LoopProbe object (probe.c). */
struct pyp_loop {
	void *loop;	       /* the loop's address: compared, never dereferenced (see loop_ref) */
	PyObject *loop_ref;    /* weak reference to the loop */
	PyObject *selector;    /* whose select we replaced; NULL: none */
	PyObject *orig_select; /* the bound method we call */
	PyObject *hb_fn;       /* the heartbeat callback (bound to the LoopProbe) */
	struct lps_loop *slot;
	struct lps_event *ring;
	void *private_slot; /* when the region has no free slot */
	uint64_t mask;
	uint64_t head;
	uint32_t depth;
	uint32_t tid;
	uint64_t busy_start; /* 0: in the poll */
	uint64_t poll_start;
	uint64_t iter_head; /* ring index at the start of the busy period */
	uint64_t iter_ncb;
	uint64_t n_callbacks;
	uint64_t cb_ns;
	uint64_t cb_max_ns;
	uint64_t awaits; /* Task steps that ended at an await */
	uint64_t hb_interval_ns;
	uint64_t hb_due;
	bool gone;
	struct pyp_task_slot tasks[PYP_TASK_CACHE];
};

/* names.c: ids of code objects, locations and task names, published in the symbol table */
int pyp_names_init(void);
/* Id of what a callback calls (function, method, builtin, other callable); 0: unknown. */
uint32_t pyp_callable_id(PyObject *cb);
/* Id of a coroutine's code (name: its qualified name). */
uint32_t pyp_coro_id(PyObject *coro);
/* Id of "file:line" of the innermost frame of the await chain outside asyncio; 0: none. */
uint32_t pyp_await_loc(PyObject *coro);
/* The task's name as interval_ns encodes it (LPS_PY_TASK_NUM | N, or a name key). */
uint64_t pyp_task_name(PyObject *task);
/* Text of a key in the symbol table: name (module: its module) into buf; NULL when none. */
const char *pyp_key_text(uint64_t key, bool module, char *buf, size_t len);
/* Set the asyncio package's directory: frames under it are asyncio's own. */
void pyp_names_set_asyncio_dir(const char *dir);
void pyp_names_clear(void);

/* probe.c: the region the names go to */
struct lpi_region;
struct lpi_region *pyp_region(void);

#endif
