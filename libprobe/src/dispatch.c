// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libprobe's hooks on an attached loop and the dispatcher that runs pending
 * watchers one at a time so each can be timed.
 *
 * libev has no public way to walk its pending queues, so in preload mode
 * libprobe keeps a mirror of them: every watcher libev makes pending passes
 * through ev_feed_event (preload.c), which records it at libev's own index.
 * The dispatcher then does what ev_invoke_pending does — highest priority
 * first, newest first within a priority — taking each watcher off libev's
 * queue with ev_clear_pending and calling it between two timestamps. What is
 * left in libev's queues afterwards (the placeholders ev_clear_pending left,
 * anything the mirror missed) goes to the real ev_invoke_pending, which
 * leaves them empty, and the mirror with them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ev_api.h"
#include "loop.h"
#include "runtime.h"

__thread struct lpi_loop *lpi_tls_loop __attribute__((tls_model("initial-exec")));

void lpi_pend_init(struct lpi_pend *p, void **inline_w)
{
	p->w = inline_w;
	p->cap = LPI_PEND_INLINE;
}

void lpi_pend_free(struct lpi_pend *p, void **inline_w)
{
	if (p->w != inline_w)
		free(p->w);
	lpi_pend_init(p, inline_w);
}

int lpi_pend_grow(struct lpi_pend *p, void **inline_w, uint32_t need)
{
	uint32_t cap = p->cap * 2, i;
	void **w;

	while (cap < need)
		cap *= 2;
	if (p->w == inline_w) {
		w = malloc(cap * sizeof(*w));
		if (w)
			memcpy(w, inline_w, LPI_PEND_INLINE * sizeof(*w));
	} else {
		w = realloc(p->w, cap * sizeof(*w));
	}
	if (!w)
		return -ENOMEM;
	for (i = p->cap; i < cap; i++)
		w[i] = NULL;
	p->w = w;
	p->cap = cap;
	return 0;
}

LPI_HOT void lpi_pend_add(struct lpi_loop *l, ev_watcher *w)
{
	int pri = w->priority - EV_MINPRI;
	uint32_t idx = (uint32_t)w->pending - 1;
	struct lpi_pend *p;

	if (w->pending <= 0 || pri < 0 || pri >= LPI_NUMPRI)
		return;
	p = &l->pend[pri];
	if (idx >= p->cap && lpi_pend_grow(p, l->pend_inline[pri], idx + 1)) {
		/* the real ev_invoke_pending will still run it, untimed */
		lpi_count(&l->slot->untimed, 1);
		return;
	}
	p->w[idx] = w;
	if (idx >= p->len)
		p->len = idx + 1;
	if (idx >= p->top)
		p->top = idx + 1;
}

static ev_watcher *next_pending(struct lpi_loop *l, uint32_t *idx, int *pri)
{
	int i;

	for (i = LPI_NUMPRI - 1; i >= 0; i--) {
		struct lpi_pend *p = &l->pend[i];

		while (p->top) {
			ev_watcher *w = p->w[--p->top];

			if (w) {
				p->w[p->top] = NULL;
				*idx = p->top;
				*pri = i;
				return w;
			}
		}
	}
	return NULL;
}

LPI_HOT void lpi_run_callback(struct lpi_loop *l, ev_watcher *w,
			      void (*cb)(struct ev_loop *, ev_watcher *, int), uint32_t watcher,
			      int revents, uint64_t *now)
{
	uint64_t interval, start = *now, idx, end;
	int32_t arg = lpi_watcher_arg(w, watcher, &interval, l->ns_per_s);

	/* lpi_tls_loop is l already: set once per dispatch, not per callback (one page less) */
	idx = lpi_cb_begin(l, (const void *)cb, watcher, arg, interval, start);
	cb(l->ev, w, revents);
	/* w may be gone now: the callback may have freed it */
	end = lpi_loop_now(l);
	lpi_cb_end(l, idx, (const void *)cb, start, end);
	*now = end;
}

LPI_HOT void lpi_dispatch(struct lpi_loop *l)
{
	struct lpi_loop *outer = lpi_tls_loop;
	struct ev_loop *loop = l->ev;
	ev_watcher *w;
	uint64_t now;
	uint32_t idx;
	int pri, revents, i;

	/* the loop whose callbacks run on this thread now (the await API's) */
	lpi_tls_loop = l;
	/* programs may call ev_invoke_pending outside ev_run's iterations too */
	now = lpi_loop_start(l);
	while ((w = next_pending(l, &idx, &pri))) {
		void (*cb)(struct ev_loop *, ev_watcher *, int);

		/* still the entry libev queued? (a stop clears both) */
		if (w->pending != (int)idx + 1 || w->priority - EV_MINPRI != pri)
			continue;
		revents = l->clear_pending(loop, w);
		if (!revents)
			continue;
		cb = w->cb;
		if (__builtin_expect((void *)cb == (void *)lpi_heartbeat_cb ||
					 (void *)cb == (void *)lpi_src_tramp,
				     0)) {
			/* libprobe's own: the heartbeat is not the program's; a trampoline times
			 * itself */
			l->chain_ns = now;
			l->chaining = true;
			cb(loop, w, revents);
			l->chaining = false;
			now = (void *)cb == (void *)lpi_src_tramp ? l->chain_ns : lpi_loop_now(l);
			continue;
		}
		lpi_run_callback(l, w, cb, lpi_watcher_of(revents), revents, &now);
	}
	l->chain_ns = now;
	l->chaining = true;
	lpi_ev.invoke_pending(loop);
	l->chaining = false;
	for (i = 0; i < LPI_NUMPRI; i++)
		l->pend[i].len = l->pend[i].top = 0;
	lpi_tls_loop = outer;
}

LPI_HOT void lpi_invoke_hook(struct ev_loop *loop)
{
	struct lpi_loop *l = lpi_loop_find(loop);

	if (!l) {
		lpi_ev.invoke_pending(loop);
		return;
	}
	if (__builtin_expect(l->gen != __atomic_load_n(&lpi_gen, __ATOMIC_RELAXED), 0))
		lpi_loop_catch_up(l);
	/* the program's own hook decides when to run callbacks; it calls ev_invoke_pending */
	if (l->user_invoke)
		l->user_invoke(loop);
	else
		lpi_dispatch(l);
}

LPI_HOT void lpi_release_hook(struct ev_loop *loop)
{
	struct lpi_loop *l = lpi_loop_find(loop);

	/* libprobe's bookkeeping first, still inside whatever lock the program releases */
	if (l) {
		lpi_busy_end(l, lpi_loop_now(l));
		if (l->user_release)
			l->user_release(loop);
	}
}

LPI_HOT void lpi_acquire_hook(struct ev_loop *loop)
{
	struct lpi_loop *l = lpi_loop_find(loop);

	if (l) {
		if (l->user_acquire)
			l->user_acquire(loop);
		if (__builtin_expect(l->tid != lpi_tls_tid, 0))
			lpi_loop_set_tid(l);
		lpi_busy_begin(l, lpi_loop_start(l));
	}
}

int lpi_run(struct ev_loop *loop, int flags)
{
	struct lpi_loop *l = lpi_loop_find(loop);
	int ret;

	if (!l)
		return lpi_ev.run(loop, flags);
	l->run_depth++;
	ret = lpi_ev.run(loop, flags);
	/* the loop may have been detached (or destroyed) from inside */
	l = lpi_loop_find(loop);
	if (l && !--l->run_depth && l->busy.start)
		lpi_busy_end(l, lpi_loop_now(l));
	return ret;
}

uint64_t lpi_loop_housekeep(struct lpi_loop *l, uint64_t now)
{
	if (now >= __atomic_load_n(&lpi_hot.calib_due_ns, __ATOMIC_RELAXED)) {
		__atomic_store_n(&lpi_hot.calib_due_ns, lpi_clock_tick(now), __ATOMIC_RELAXED);
		lpi_loop_calib(l);
		now = lpi_loop_now(l);
	}
	/* a tracer attached to stall_begin, which only the reporter fires */
	if (LPI_USDT_STALL_BEGIN_ENABLED() && !__atomic_load_n(&lpi_hot.reporter, __ATOMIC_RELAXED))
		lpi_reporter_ensure();
	return now;
}

void lpi_loop_calib_copy(struct lpi_loop *l)
{
	struct lpi_calib c;

	lpi_clock_copy(&c);
	l->calib_seq = c.seq;
	l->use_tsc = (uint8_t)c.use_tsc;
	l->tsc_base = c.base_tsc;
	l->ns_base = c.base_ns;
	l->tsc_mult = c.mult;
}

LPI_HOT void lpi_busy_begin(struct lpi_loop *l, uint64_t now)
{
	lpi_period_begin(&l->busy, l->slot, l->head, l->n_callbacks, now);
	l->iter_seg_key = 0;
	l->iter_seg_ns = 0;
}

static void record_stall(struct lpi_loop *l, uint64_t now, uint64_t callbacks)
{
	const struct lps_event *e = lpi_period_longest(&l->busy, l->ring, l->ring_mask, l->head);

	lpi_period_stall(l->slot, &l->busy, now, callbacks, l->iter_seg_key, e);
	if (e && e->end_ns - e->start_ns > l->cb_max_ns)
		l->cb_max_ns = e->end_ns - e->start_ns;
	LPI_USDT_STALL_END(l->tid, now - l->busy.start, e ? e->key : 0);
}

LPI_HOT void lpi_busy_end(struct lpi_loop *l, uint64_t now)
{
	uint64_t cbs;

	if (l->busy.start) {
		if (lpi_period_count(&l->busy, l->slot, l->n_callbacks, now, &cbs) >=
		    __atomic_load_n(&lpi_rt.cfg.threshold_ns, __ATOMIC_RELAXED))
			record_stall(l, now, cbs);
		lpi_loop_publish(l);
	}
	lpi_period_end(&l->busy, l->slot, now);
}
