/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A loop's busy periods (poll return to next poll) and its heartbeat's
 * lateness, as a slot of the region counts them: the same for libev's loops
 * (dispatch.c, heartbeat.c) and asyncio's (python/loop.c), so the agent reads
 * both alike. The loop's own thread is the slot's only writer: counters are
 * plain relaxed stores.
 */
#ifndef LPROBE_PERIOD_H
#define LPROBE_PERIOD_H

#include <stdint.h>
#include "lprobe_shm.h"

#pragma GCC visibility push(hidden)

static inline void lpi_store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline void lpi_count(uint64_t *p, uint64_t n)
{
	__atomic_store_n(p, *p + n, __ATOMIC_RELAXED);
}

/* Where a loop is between two polls. */
struct lpi_period {
	uint64_t start;	     /* when the busy period began; 0: in the poll (or not running) */
	uint64_t poll_start; /* when the poll began; 0: unknown */
	uint64_t head;	     /* ring index and callback count when the busy period began */
	uint64_t callbacks;
};

/*
 * The poll returned at now: what it took goes to the slot, and a busy period
 * begins with ring entry head and the loop's callback count n_callbacks.
 */
static inline void lpi_period_begin(struct lpi_period *p, struct lps_loop *s, uint64_t head,
				    uint64_t n_callbacks, uint64_t now)
{
	if (p->poll_start && now > p->poll_start)
		lpi_count(&s->poll_ns, now - p->poll_start);
	p->poll_start = 0;
	p->start = now;
	p->head = head;
	p->callbacks = n_callbacks;
	__atomic_store_n(&s->busy_start_ns, now, __ATOMIC_RELEASE);
}

/*
 * The busy period in progress (p->start set) ends at now: counted as an
 * iteration of the slot. Returns its duration; *callbacks: how many ran in it.
 */
static inline uint64_t lpi_period_count(const struct lpi_period *p, struct lps_loop *s,
					uint64_t n_callbacks, uint64_t now, uint64_t *callbacks)
{
	uint64_t cbs = n_callbacks - p->callbacks;
	uint64_t dur = now > p->start ? now - p->start : 0;

	lpi_count(&s->iterations, 1);
	lpi_count(&s->busy_ns, dur);
	lpi_count(&s->callbacks_per_iteration[lps_cpi_bucket(cbs)], 1);
	if (cbs > s->max_callbacks_per_iteration)
		lpi_store(&s->max_callbacks_per_iteration, cbs);
	*callbacks = cbs;
	return dur;
}

/*
 * Publish what the loop's callbacks counted privately, once per iteration:
 * ring_head last, with release, after the counts of the entries before it.
 */
static inline void lpi_period_publish(struct lps_loop *s, uint64_t head, uint64_t callbacks,
				      uint64_t callback_ns, uint64_t callback_max_ns)
{
	lpi_store(&s->callbacks, callbacks);
	lpi_store(&s->callback_ns, callback_ns);
	lpi_store(&s->callback_max_ns, callback_max_ns);
	__atomic_store_n(&s->ring_head, head, __ATOMIC_RELEASE);
}

/* The loop enters its poll at now (after lpi_period_count, if a busy period was in progress). */
static inline void lpi_period_end(struct lpi_period *p, struct lps_loop *s, uint64_t now)
{
	if (p->start) {
		__atomic_store_n(&s->busy_start_ns, 0, __ATOMIC_RELEASE);
		p->start = 0;
	}
	p->poll_start = now;
}

/*
 * The longest callback of the busy period, among its entries still in the
 * ring (mask: its length - 1; head: the entries begun); NULL: none ended.
 */
const struct lps_event *lpi_period_longest(const struct lpi_period *p, const struct lps_event *ring,
					   uint64_t mask, uint64_t head);

/*
 * Log the busy period, ended at now after callbacks callbacks, in the slot's
 * stall ring (the protocol of lprobe_shm.h), with e its longest callback (or
 * NULL) and seg_key the longest task segment (0: none).
 */
void lpi_period_stall(struct lps_loop *s, const struct lpi_period *p, uint64_t now,
		      uint64_t callbacks, uint64_t seg_key, const struct lps_event *e);

/* A heartbeat tick came late ns after it was due: into the slot's histogram. */
void lpi_heartbeat_count(struct lps_loop *s, uint64_t late);

#pragma GCC visibility pop

#endif
