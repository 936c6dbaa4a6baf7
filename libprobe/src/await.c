// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Await and yield points of coroutine-style code running inside callbacks.
 * An await is recorded when it ends (suspended from start to end); the code
 * that runs between a resume or yield and the next await, yield or the end
 * of the callback is a segment, named after the point it started from.
 */
#include "lprobe.h"
#include "loop.h"

static const char yield_name[] = "yield";

void lpi_segment_close(struct lpi_loop *l, uint64_t now)
{
	uint64_t dur = now > l->seg_start ? now - l->seg_start : 0;

	lpi_event_end(l, l->seg_idx - 1, now);
	if (dur > l->iter_seg_ns) {
		l->iter_seg_ns = dur;
		l->iter_seg_key = l->seg_key;
	}
	l->seg_idx = 0;
	l->seg_open = 0;
	l->seg_key = 0;
}

static void segment_open(struct lpi_loop *l, const char *name, uint64_t now)
{
	l->seg_key = (uintptr_t)name;
	l->seg_start = now;
	l->seg_idx = lpi_event_begin(l, LPS_K_SEGMENT, l->seg_key, LPS_W_UNKNOWN, -1, 0, now) + 1;
	l->seg_open = 1;
}

lp_await_t lp_await_begin(const char *name)
{
	struct lpi_loop *l = lpi_tls_loop;
	lp_await_t a = {name, 0};

	if (!l || !name)
		return a;
	a.start_ns = lpi_loop_now(l);
	if (l->seg_idx)
		lpi_segment_close(l, a.start_ns);
	return a;
}

void lp_await_end(lp_await_t a)
{
	struct lpi_loop *l = lpi_tls_loop;
	uint64_t now, i;

	if (!l || !a.name)
		return;
	now = lpi_loop_now(l);
	if (l->seg_idx)
		lpi_segment_close(l, now);
	if (a.start_ns && a.start_ns <= now) {
		i = lpi_event_begin(l, LPS_K_AWAIT, (uintptr_t)a.name, LPS_W_UNKNOWN, -1, 0,
				    a.start_ns);
		lpi_event_end(l, i, now);
		lpi_count(&l->slot->awaits, 1);
	}
	segment_open(l, a.name, now);
}

void lp_yield(const char *name)
{
	struct lpi_loop *l = lpi_tls_loop;
	uint64_t now;

	if (!l)
		return;
	now = lpi_loop_now(l);
	if (l->seg_idx)
		lpi_segment_close(l, now);
	lpi_count(&l->slot->yields, 1);
	segment_open(l, name ? name : yield_name, now);
}
