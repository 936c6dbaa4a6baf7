// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The heartbeat: a libev timer on each attached loop. Its lateness against
 * the schedule libev keeps (each tick due one period after the last, or at
 * once when that is already past) goes into a log-linear histogram. A loop
 * blocked for a second shows up as one tick a second late: the long gap it
 * was, not a sample skipped.
 */
#include <stddef.h>
#include "ev_api.h"
#include "loop.h"
#include "runtime.h"

void lpi_heartbeat_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct lpi_loop *l = (struct lpi_loop *)((char *)w - offsetof(struct lpi_loop, hb));
	uint64_t now = lpi_loop_now(l), late;

	(void)loop;
	(void)revents;
	late = now > l->hb_due ? now - l->hb_due : 0;
	lpi_heartbeat_count(l->slot, late);
	/* hb_due holds when the next tick is due, as libev reschedules it */
	l->hb_due += l->hb_interval_ns;
	if (l->hb_due < now)
		l->hb_due = now;
}

void lpi_heartbeat_apply(struct lpi_loop *l, uint64_t interval_ns)
{
	struct ev_loop *loop = l->ev;

	if (l->hb_interval_ns) {
		lpi_pend_forget(loop, (ev_watcher *)&l->hb);
		/* it was unref'd when started: take that back before stopping it */
		lpi_ev.ref(loop);
		lpi_ev.stop[LPS_W_TIMER](loop, &l->hb);
	}
	l->hb_interval_ns = interval_ns;
	if (!interval_ns)
		return; /* the slot keeps the last period: its samples were taken at it */
	lpi_store(&l->slot->heartbeat_interval_ns, interval_ns);
	ev_timer_init(&l->hb, lpi_heartbeat_cb, (double)interval_ns / 1e9,
		      (double)interval_ns / 1e9);
	lpi_ev.start[LPS_W_TIMER](loop, &l->hb);
	/* the heartbeat alone must not keep ev_run from returning */
	lpi_ev.unref(loop);
	l->hb_due = lpi_now() + interval_ns;
}
