// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Source mode (lprobe_ev.h): ev_TYPE_start puts libprobe's trampoline in
 * the watcher and keeps the program's callback in the loop's watcher table;
 * the trampoline times the real callback. ev_TYPE_stop puts the program's
 * callback back, so an inactive watcher always holds its own. libev stops
 * one-shot timers and periodics itself, without ev_TYPE_stop: the
 * trampoline notices (the watcher is inactive when called) and unwraps it
 * before calling, since the callback may free it.
 */
#include "ev_api.h"
#define LPROBE_NO_EV_MACROS
#include "lprobe_ev.h"
#include "loop.h"
#include "runtime.h"

typedef void (*lpi_cb_fn)(struct ev_loop *, ev_watcher *, int);

/* A wrapped watcher whose entry is in another loop's table (moved between loops). */
static bool steal(ev_watcher *w, struct lpi_went *out)
{
	bool found = false;
	uint32_t i;

	pthread_mutex_lock(&lpi_rt.lock);
	for (i = 0; i < lpi_rt.n_slots && !found; i++)
		if (lpi_rt.loops[i])
			found = lpi_wtable_del(&lpi_rt.loops[i]->wt, w, out);
	pthread_mutex_unlock(&lpi_rt.lock);
	return found;
}

static void wrap(struct lpi_loop *l, ev_watcher *w, uint32_t watcher)
{
	void *cb = (void *)w->cb;
	struct lpi_went e;

	if (cb == (void *)lpi_src_tramp) {
		if (lpi_wtable_get(&l->wt, w))
			return;
		if (!steal(w, &e))
			return;
		cb = e.cb;
	}
	/* without memory the watcher just runs untimed */
	if (lpi_wtable_put(&l->wt, w, cb, watcher))
		return;
	w->cb = lpi_src_tramp;
}

static void unwrap(struct lpi_loop *l, ev_watcher *w)
{
	struct lpi_went e;

	if (lpi_wtable_del(&l->wt, w, &e) && (void *)w->cb == (void *)lpi_src_tramp)
		w->cb = (lpi_cb_fn)e.cb;
}

void lpi_src_unwrap_all(struct lpi_loop *l, bool keep_cleanup)
{
	uint32_t i;

	for (i = 0; i < l->wt.cap; i++) {
		struct lpi_went *e = &l->wt.e[i];
		ev_watcher *w = (ev_watcher *)e->w;

		if (!w || e->w == LPI_WT_TOMB || (keep_cleanup && e->watcher == LPS_W_CLEANUP))
			continue;
		if ((void *)w->cb == (void *)lpi_src_tramp)
			w->cb = (lpi_cb_fn)e->cb;
		lpi_wtable_del(&l->wt, w, NULL);
	}
	if (!keep_cleanup)
		lpi_wtable_free(&l->wt);
}

LPI_HOT void lpi_src_tramp(struct ev_loop *loop, ev_watcher *w, int revents)
{
	struct lpi_loop *l = lpi_loop_find(loop);
	struct lpi_went *e = l ? lpi_wtable_get(&l->wt, w) : NULL;
	struct lpi_went moved;
	lpi_cb_fn cb;
	uint32_t watcher;
	uint64_t now;

	if (!e) {
		/* not timed here: a watcher libprobe lost track of still gets its callback */
		if (steal(w, &moved)) {
			w->cb = (lpi_cb_fn)moved.cb;
			w->cb(loop, w, revents);
		}
		return;
	}
	cb = (lpi_cb_fn)e->cb;
	watcher = e->watcher;
	/* libev stopped it, or the loop is being destroyed: the callback may free it */
	if (!ev_is_active(w) || l->destroying) {
		w->cb = cb;
		lpi_wtable_del(&l->wt, w, NULL);
	}
	now = l->chaining ? l->chain_ns : lpi_loop_now(l);
	if (__builtin_expect(lpi_tls_loop != l, 0)) {
		/* called by libev directly (the program's own invoke hook): not inside lpi_dispatch
		 */
		struct lpi_loop *outer = lpi_tls_loop;

		lpi_tls_loop = l;
		lpi_run_callback(l, w, cb, watcher, revents, &now);
		lpi_tls_loop = outer;
	} else {
		lpi_run_callback(l, w, cb, watcher, revents, &now);
	}
	l->chain_ns = now;
}

static void start(struct ev_loop *loop, void *w, uint32_t watcher)
{
	struct lpi_loop *l = lpi_loop_find(loop);

	if (l && !ev_is_active((ev_watcher *)w))
		wrap(l, w, watcher);
	lpi_ev.start[watcher](loop, w);
}

static void stop(struct ev_loop *loop, void *w, uint32_t watcher)
{
	struct lpi_loop *l = lpi_loop_find(loop);

	lpi_pend_forget(loop, w);
	if (l)
		unwrap(l, w);
	lpi_ev.stop[watcher](loop, w);
}

#define LPI_SOURCE_TYPE(type, W)                                                                   \
	void lp_ev_##type##_start(struct ev_loop *loop, ev_##type *w)                              \
	{                                                                                          \
		start(loop, w, W);                                                                 \
	}                                                                                          \
	void lp_ev_##type##_stop(struct ev_loop *loop, ev_##type *w)                               \
	{                                                                                          \
		stop(loop, w, W);                                                                  \
	}

LPI_EV_WATCHER_TYPES(LPI_SOURCE_TYPE)

/* ev_TYPE_again starts or stops the watcher as libev sees fit: follow it. */
static void again(struct ev_loop *loop, void *w, uint32_t watcher, lpi_watcher_fn real)
{
	struct lpi_loop *l = lpi_loop_find(loop);

	real(loop, w);
	if (!l)
		return;
	if (ev_is_active((ev_watcher *)w))
		wrap(l, w, watcher);
	else
		unwrap(l, w);
}

void lp_ev_timer_again(struct ev_loop *loop, ev_timer *w)
{
	again(loop, w, LPS_W_TIMER, lpi_ev.timer_again);
}

void lp_ev_periodic_again(struct ev_loop *loop, ev_periodic *w)
{
	again(loop, w, LPS_W_PERIODIC, lpi_ev.periodic_again);
}

void lp_ev_set_invoke_pending_cb(struct ev_loop *loop, ev_loop_callback cb)
{
	lpi_init();
	lpi_ev_resolve();
	lpi_set_invoke(loop, cb);
}

void lp_ev_set_loop_release_cb(struct ev_loop *loop, void (*release)(struct ev_loop *),
			       void (*acquire)(struct ev_loop *))
{
	lpi_init();
	lpi_ev_resolve();
	lpi_set_release(loop, release, acquire);
}

int lp_ev_run(struct ev_loop *loop, int flags)
{
	return lpi_run(loop, flags);
}

void lp_ev_loop_destroy(struct ev_loop *loop)
{
	lpi_destroy(loop);
}
