/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libprobe source mode for libev programs. Include after <ev.h> (it
 * includes it), link -lprobe (libprobe.a or libprobe.so), and call
 * lp_ev_attach(loop) for each loop, before running it or from its thread:
 *
 *   #include <lprobe_ev.h>
 *   struct ev_loop *loop = ev_default_loop(0);
 *   lp_ev_attach(loop);
 *
 * The macros below route every ev_TYPE_start/stop through libprobe, which
 * times each callback, and ev_run and ev_loop_destroy, so a busy period
 * ends where the loop stops and cleanup watchers are timed too. While a watcher is started,
 * ev_cb(w) reads libprobe's trampoline (calling it still calls yours); a callback changed with
 * ev_set_cb on a started watcher runs untimed until the next start. ev_set_invoke_pending_cb and
 * ev_set_loop_release_cb are chained behind libprobe's own hooks, never replaced.
 */
#ifndef LPROBE_EV_H
#define LPROBE_EV_H

#include <ev.h>
#include "lprobe.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LP_EV_TYPE(type)                                                                           \
	LP_API void lp_ev_##type##_start(struct ev_loop *loop, ev_##type *w);                      \
	LP_API void lp_ev_##type##_stop(struct ev_loop *loop, ev_##type *w);

LP_EV_TYPE(io)
LP_EV_TYPE(timer)
LP_EV_TYPE(periodic)
LP_EV_TYPE(signal)
LP_EV_TYPE(child)
LP_EV_TYPE(stat)
LP_EV_TYPE(idle)
LP_EV_TYPE(prepare)
LP_EV_TYPE(check)
LP_EV_TYPE(embed)
LP_EV_TYPE(fork)
LP_EV_TYPE(cleanup)
LP_EV_TYPE(async)
#undef LP_EV_TYPE

LP_API void lp_ev_timer_again(struct ev_loop *loop, ev_timer *w);
LP_API void lp_ev_periodic_again(struct ev_loop *loop, ev_periodic *w);
LP_API void lp_ev_set_invoke_pending_cb(struct ev_loop *loop, ev_loop_callback cb);
LP_API void lp_ev_set_loop_release_cb(struct ev_loop *loop, void (*release)(struct ev_loop *),
				      void (*acquire)(struct ev_loop *));
LP_API int lp_ev_run(struct ev_loop *loop, int flags);
LP_API void lp_ev_loop_destroy(struct ev_loop *loop);

#ifdef __cplusplus
}
#endif

#ifndef LPROBE_NO_EV_MACROS
#define ev_io_start(loop, w) lp_ev_io_start((loop), (w))
#define ev_io_stop(loop, w) lp_ev_io_stop((loop), (w))
#define ev_timer_start(loop, w) lp_ev_timer_start((loop), (w))
#define ev_timer_stop(loop, w) lp_ev_timer_stop((loop), (w))
#define ev_timer_again(loop, w) lp_ev_timer_again((loop), (w))
#define ev_periodic_start(loop, w) lp_ev_periodic_start((loop), (w))
#define ev_periodic_stop(loop, w) lp_ev_periodic_stop((loop), (w))
#define ev_periodic_again(loop, w) lp_ev_periodic_again((loop), (w))
#define ev_signal_start(loop, w) lp_ev_signal_start((loop), (w))
#define ev_signal_stop(loop, w) lp_ev_signal_stop((loop), (w))
#define ev_child_start(loop, w) lp_ev_child_start((loop), (w))
#define ev_child_stop(loop, w) lp_ev_child_stop((loop), (w))
#define ev_stat_start(loop, w) lp_ev_stat_start((loop), (w))
#define ev_stat_stop(loop, w) lp_ev_stat_stop((loop), (w))
#define ev_idle_start(loop, w) lp_ev_idle_start((loop), (w))
#define ev_idle_stop(loop, w) lp_ev_idle_stop((loop), (w))
#define ev_prepare_start(loop, w) lp_ev_prepare_start((loop), (w))
#define ev_prepare_stop(loop, w) lp_ev_prepare_stop((loop), (w))
#define ev_check_start(loop, w) lp_ev_check_start((loop), (w))
#define ev_check_stop(loop, w) lp_ev_check_stop((loop), (w))
#define ev_embed_start(loop, w) lp_ev_embed_start((loop), (w))
#define ev_embed_stop(loop, w) lp_ev_embed_stop((loop), (w))
#define ev_fork_start(loop, w) lp_ev_fork_start((loop), (w))
#define ev_fork_stop(loop, w) lp_ev_fork_stop((loop), (w))
#define ev_cleanup_start(loop, w) lp_ev_cleanup_start((loop), (w))
#define ev_cleanup_stop(loop, w) lp_ev_cleanup_stop((loop), (w))
#define ev_async_start(loop, w) lp_ev_async_start((loop), (w))
#define ev_async_stop(loop, w) lp_ev_async_stop((loop), (w))
#define ev_set_invoke_pending_cb(loop, cb) lp_ev_set_invoke_pending_cb((loop), (cb))
#define ev_set_loop_release_cb(loop, release, acquire)                                             \
	lp_ev_set_loop_release_cb((loop), (release), (acquire))
#define ev_run(loop, flags) lp_ev_run((loop), (flags))
#define ev_loop_destroy(loop) lp_ev_loop_destroy(loop)
#endif

#endif
