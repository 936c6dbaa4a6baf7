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
#include "period.h"

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
	struct lpi_period busy;
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
/* An attribute name the probe looks up often, as an interned string. */
struct pyp_name {
	PyObject **var;
	const char *text;
};
/* Intern each name not interned yet; -1 with an exception set when one cannot be. */
int pyp_intern(const struct pyp_name *names, size_t n);
/* Set the asyncio package's directory: frames under it are asyncio's own. */
void pyp_names_set_asyncio_dir(const char *dir);
void pyp_names_clear(void);

/* probe.c: the region the names go to */
struct lpi_region;
struct lpi_region *pyp_region(void);

/* Everything below is shared by the module's files only. */
#include <pthread.h>
#include "jsonl.h"
#include "region.h"
#include "runtime.h"

#define PYP_MAX_LOOPS 64

/* One asyncio loop's probe: a Python object, so the loop's attributes can hold it. */
typedef struct {
	PyObject_HEAD struct pyp_loop l;
	PyObject *hb_handle; /* the heartbeat's TimerHandle while the loop runs */
	PyObject *orig_run_forever;
	PyObject *proxy; /* the PollProxy in selector._selector; NULL: select is wrapped */
} LoopProbe;

/* Process-wide state (probe.c); the GIL guards it, but the reporter thread's reads. */
struct pyp_global {
	bool installed;
	bool forked; /* in a child of fork(): run everything untimed */
	struct lpi_config cfg;
	struct lpi_region region;
	PyObject *handle_type;
	PyObject *orig_run;
	Py_ssize_t off_callback, off_loop, off_args, off_context;
	PyObject *run_failed; /* _failed.run_failed: NULL, call the original _run instead */
	PyObject *debug_kw;   /* its last argument: whether asyncio passes debug= */
	PyObject *task_types[2];
	PyTypeObject *step_type; /* TaskStepMethWrapper, once seen */
	LoopProbe *loops[PYP_MAX_LOOPS];
	struct pyp_loop *last;
	int out_fd;
	char comm[32];
	uint64_t calib_due;
	pthread_t reporter;
	bool reporter_running;
	volatile bool reporter_stop;
};

extern struct pyp_global pyp_g;
extern PyTypeObject pyp_LoopProbe_Type;

/* Begin ring entry head (the protocol of lprobe_shm.h); returns its index. */
static inline uint64_t pyp_event_begin(struct pyp_loop *l, uint64_t key, uint32_t watcher,
				       uint64_t task, uint64_t locs, uint64_t now)
{
	uint64_t i = l->head++;
	struct lps_event *e = &l->ring[i & l->mask];

	lpi_store(&e->seq, 4 * i + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e->key = key;
	e->start_ns = now;
	e->end_ns = 0;
	e->interval_ns = task;
	e->kind = LPS_K_CALLBACK;
	e->watcher = watcher;
	e->arg = -1;
	e->depth = l->depth;
	e->reserved = locs;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	lpi_store(&e->seq, 4 * i + 2);
	/* readers find entries past ring_head by their seq while it lags less than the ring */
	if (!(l->head & (l->mask >> 1)))
		__atomic_store_n(&l->slot->ring_head, l->head, __ATOMIC_RELEASE);
	return i;
}

static inline void pyp_event_end(struct pyp_loop *l, uint64_t i, uint64_t now, uint64_t locs)
{
	struct lps_event *e;

	if (l->head - i > l->mask + 1)
		return; /* overwritten by the callbacks it ran (a nested loop) */
	e = &l->ring[i & l->mask];
	lpi_store(&e->seq, 4 * i + 3);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e->end_ns = now;
	e->reserved = locs;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	lpi_store(&e->seq, 4 * i + 4);
}

/* loop.c: the loops, their poll, heartbeat and busy periods */
int pyp_loop_init(void);
/* The loop's probe, attached at its first callback; NULL (no error) when it cannot be. */
struct pyp_loop *pyp_loop_find(PyObject *loop);
/* uninstall(): the loop gets its own poll and run_forever back, and is no longer timed. */
void pyp_loop_restore(LoopProbe *p);

/* standalone.c: LPROBE_OUTPUT's records */
struct pyp_cb_text {
	char symbol[256], module[512], task[128], resumed[512], suspended[512];
};

/* A ring entry as a record names it (texts from the symbol table, into t). */
void pyp_describe(const struct lps_event *e, struct lpi_cb_report *c, struct pyp_cb_text *t);
/* A stall's record, written by the loop thread when the stall ends. */
void pyp_write_stall(struct pyp_loop *l, const struct lps_event *best, uint64_t now,
		     uint64_t callbacks);
/* The thread that writes stall_begin records while a stall lasts. */
void *pyp_reporter_main(void *arg);

#endif
