// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * No-rebuild mode: LD_PRELOAD=libprobe.so ./service. These definitions of
 * libev's own functions come before libev's in the symbol lookup order, so
 * an unmodified program calls them, and so does libev itself for every
 * call it makes through its PLT (ev_feed_event, the ev_TYPE_stop
 * functions). Each does libprobe's part and calls the real function.
 *
 *   ev_loop_new, ev_default_loop  attach every loop the program creates
 *   ev_run                        attach loops created before libprobe was there;
 *                                 end the busy period when the loop stops
 *   ev_feed_event                 every watcher libev makes pending: the mirror
 *   ev_clear_pending, ev_TYPE_stop a watcher leaves the pending queue
 *   ev_invoke_pending             the dispatcher, for libev and the program
 *   ev_set_invoke_pending_cb,     the program's own hooks, chained behind
 *   ev_set_loop_release_cb        libprobe's instead of replacing them
 *   ev_loop_destroy               detach first
 *
 * Built into the shared library only: the static library is for source
 * mode and must not take libev's names in a program that links it.
 */
#include "ev_api.h"
#include "loop.h"
#include "runtime.h"

#define LPI_EXPORT __attribute__((visibility("default")))

static void ensure(void)
{
	if (__builtin_expect(!lpi_ev.feed_event, 0)) {
		lpi_init();
		lpi_ev_resolve();
	}
}

/* The loop, attached unless LPROBE_ATTACH=0 or the program detached it. */
static struct ev_loop *maybe_attach(struct ev_loop *loop)
{
	if (loop && lpi_rt.cfg.auto_attach && !lpi_loop_find(loop) && !lpi_was_detached(loop))
		lpi_attach(loop);
	return loop;
}

LPI_EXPORT struct ev_loop *ev_loop_new(unsigned int flags)
{
	ensure();
	return maybe_attach(lpi_ev.loop_new(flags));
}

LPI_EXPORT struct ev_loop *ev_default_loop(unsigned int flags)
{
	ensure();
	/* EV_DEFAULT calls this over and over: after the first, one cached compare */
	return maybe_attach(lpi_ev.default_loop(flags));
}

LPI_EXPORT int ev_run(struct ev_loop *loop, int flags)
{
	ensure();
	maybe_attach(loop);
	return lpi_run(loop, flags);
}

LPI_EXPORT void ev_loop_destroy(struct ev_loop *loop)
{
	ensure();
	lpi_destroy(loop);
}

/* libev calls this for every watcher it makes pending: keep it to thread-local reads */
LPI_EXPORT LPI_HOT void ev_feed_event(struct ev_loop *loop, void *w, int revents)
{
	struct lpi_loop *l;

	if (__builtin_expect(!lpi_tls_cache.feed, 0)) {
		/* first call on this thread: the slow lookup fills the cache, feed included */
		ensure();
		l = lpi_loop_find_slow(loop);
	} else {
		l = lpi_loop_find(loop);
	}
	lpi_tls_cache.feed(loop, w, revents);
	if (l)
		lpi_pend_add(l, w);
}

LPI_EXPORT int ev_clear_pending(struct ev_loop *loop, void *w)
{
	ensure();
	lpi_pend_forget(loop, w);
	return lpi_ev.clear_pending(loop, w);
}

LPI_EXPORT LPI_HOT void ev_invoke_pending(struct ev_loop *loop)
{
	struct lpi_loop *l;

	ensure();
	l = lpi_loop_find(loop);
	if (l)
		lpi_dispatch(l);
	else
		lpi_ev.invoke_pending(loop);
}

LPI_EXPORT void ev_set_invoke_pending_cb(struct ev_loop *loop, ev_loop_callback cb)
{
	ensure();
	lpi_set_invoke(loop, cb);
}

LPI_EXPORT void ev_set_loop_release_cb(struct ev_loop *loop, void (*release)(struct ev_loop *),
				       void (*acquire)(struct ev_loop *))
{
	ensure();
	lpi_set_release(loop, release, acquire);
}

#define LPI_PRELOAD_STOP(type, W)                                                                  \
	LPI_EXPORT void ev_##type##_stop(struct ev_loop *loop, ev_##type *w)                       \
	{                                                                                          \
		ensure();                                                                          \
		lpi_pend_forget(loop, (ev_watcher *)w);                                            \
		lpi_ev.stop[W](loop, w);                                                           \
	}

LPI_EV_WATCHER_TYPES(LPI_PRELOAD_STOP)

__attribute__((constructor)) static void preload_init(void)
{
	lpi_self_invoke_pending = ev_invoke_pending;
	lpi_init();
	/* resolving needs libev loaded; a program without it never calls these */
	lpi_ev_resolve();
}
