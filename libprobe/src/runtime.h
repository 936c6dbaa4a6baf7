/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Process-wide state: configuration, the shared region, the table of
 * attached loops, and what has to be redone in a forked child.
 */
#ifndef LPROBE_RUNTIME_H
#define LPROBE_RUNTIME_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "loop.h"
#include "region.h"

/* Loops libprobe can time at once; those past the region's slots use private memory. */
#define LPI_MAX_ATTACHED 256

struct lpi_config {
	uint64_t heartbeat_ns; /* read by loops without the lock */
	uint64_t threshold_ns;
	uint32_t ring_len;
	uint32_t max_loops;
	bool shm;
	bool auto_attach;      /* preload: attach every loop the program creates */
	char output[PATH_MAX]; /* stall records; "" none */
	uint32_t output_gen;   /* bumped when output changes */
};

/* A hook set on a loop before it was attached, to chain once it is. */
struct lpi_remembered {
	struct ev_loop *ev;
	ev_loop_callback invoke;
	void (*release)(struct ev_loop *loop);
	void (*acquire)(struct ev_loop *loop);
	bool has_invoke;
	bool has_release;
	bool detached; /* the program detached it: do not attach it again by itself */
};

struct lpi_runtime {
	pthread_mutex_t lock;
	struct lpi_config cfg;
	struct lpi_region region;
	bool started; /* region created (in this process) */
	bool publish; /* forked child: publish the private region at the first iteration */
	struct ev_loop *evs[LPI_MAX_ATTACHED];
	struct lpi_loop *loops[LPI_MAX_ATTACHED];
	uint32_t n_slots; /* high-water mark of evs[] */
	struct lpi_remembered remembered[64];
	uint32_t n_remembered;
};

extern struct lpi_runtime lpi_rt;
/* preload.c's ev_invoke_pending, which a preloaded program sees as libev's */
extern ev_loop_callback lpi_self_invoke_pending;

/* Read the environment and set up the clock (once). */
void lpi_init(void);
/* The program detached this loop itself: preload must not attach it again. */
bool lpi_was_detached(struct ev_loop *loop);
/* Set l->tid to the calling thread (and publish it). */
void lpi_loop_set_tid(struct lpi_loop *l);

/* preload mode: the mirror of libev's pending queues (dispatch.c) */
void lpi_pend_add(struct lpi_loop *l, ev_watcher *w);
int lpi_pend_grow(struct lpi_pend *p, void **inline_w, uint32_t need);
void lpi_pend_init(struct lpi_pend *p, void **inline_w);
void lpi_pend_free(struct lpi_pend *p, void **inline_w);

/* A watcher leaves libev's pending queue (stopped, cleared): drop its mirror entry. */
static inline void lpi_pend_forget(struct ev_loop *loop, ev_watcher *w)
{
	struct lpi_loop *l;
	struct lpi_pend *p;
	int pri;
	uint32_t idx;

	if (!w->pending)
		return;
	l = lpi_loop_find(loop);
	pri = w->priority - EV_MINPRI;
	if (!l || pri < 0 || pri >= LPI_NUMPRI)
		return;
	p = &l->pend[pri];
	idx = (uint32_t)w->pending - 1;
	if (idx < p->len && p->w[idx] == w)
		p->w[idx] = NULL;
}

/* Set the program's own invoke-pending / release-acquire hooks, chained behind libprobe's. */
void lpi_set_invoke(struct ev_loop *loop, ev_loop_callback cb);
void lpi_set_release(struct ev_loop *loop, void (*release)(struct ev_loop *),
		     void (*acquire)(struct ev_loop *));

/* reporter.c: the background thread */
void lpi_reporter_ensure(void);
/* Start it if something needs it: stall records (LPROBE_OUTPUT), a tracer on stall_begin. */
void lpi_reporter_maybe(void);
void lpi_reporter_forget(void); /* in a forked child: the thread is gone */
void lpi_reporter_stop(void);	/* process exit: write what is left */
int lpi_reporter_flush(void);

#endif
