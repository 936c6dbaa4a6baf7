// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The parts of a busy period's accounting that run once per stall or heartbeat tick. */
#include <stddef.h>
#include "period.h"

const struct lps_event *lpi_period_longest(const struct lpi_period *p, const struct lps_event *ring,
					   uint64_t mask, uint64_t head)
{
	const struct lps_event *best = NULL;
	/* the period's oldest entries may have been overwritten by its newest */
	uint64_t i = head - p->head > mask + 1 ? head - mask - 1 : p->head;

	for (; i < head; i++) {
		const struct lps_event *e = &ring[i & mask];

		if (e->kind == LPS_K_CALLBACK && e->end_ns &&
		    (!best || e->end_ns - e->start_ns > best->end_ns - best->start_ns))
			best = e;
	}
	return best;
}

void lpi_period_stall(struct lps_loop *s, const struct lpi_period *p, uint64_t now,
		      uint64_t callbacks, uint64_t seg_key, const struct lps_event *e)
{
	uint64_t i = s->stall_head;
	struct lps_stall *st = &s->stall_ring[i % LPS_STALL_RING];

	lpi_store(&st->seq, 2 * i + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	st->start_ns = p->start;
	st->end_ns = now;
	st->callbacks = (uint32_t)callbacks;
	st->seg_key = seg_key;
	st->cb_key = 0;
	if (e) {
		st->cb_key = e->key;
		st->cb_start_ns = e->start_ns;
		st->cb_end_ns = e->end_ns;
		st->cb_interval_ns = e->interval_ns;
		st->cb_watcher = e->watcher;
		st->cb_arg = e->arg;
		/* version 2's resume and suspend locations; libev's entries leave it 0 */
		st->reserved[0] = e->reserved;
	}
	__atomic_thread_fence(__ATOMIC_RELEASE);
	lpi_store(&st->seq, 2 * i + 2);
	__atomic_store_n(&s->stall_head, i + 1, __ATOMIC_RELEASE);
	lpi_count(&s->stalls, 1);
}

void lpi_heartbeat_count(struct lps_loop *s, uint64_t late)
{
	lpi_count(&s->heartbeat_late[lps_hist_bucket(late)], 1);
	lpi_count(&s->heartbeat_samples, 1);
	if (late > s->heartbeat_max_ns)
		lpi_store(&s->heartbeat_max_ns, late);
}
