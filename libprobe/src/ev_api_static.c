// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Source mode, static library: libev is linked into the program itself. */
#include "ev_api.h"

#define W(fn) ((lpi_watcher_fn)(void (*)(void))(fn))

struct lpi_ev_api lpi_ev = {
    .feed_event = ev_feed_event,
    .clear_pending = ev_clear_pending,
    .invoke_pending = ev_invoke_pending,
    .set_invoke_pending_cb = ev_set_invoke_pending_cb,
    .set_loop_release_cb = ev_set_loop_release_cb,
    .loop_new = ev_loop_new,
    .default_loop = ev_default_loop,
    .loop_destroy = ev_loop_destroy,
    .run = ev_run,
    .ref = ev_ref,
    .unref = ev_unref,
    .start =
	{
	    [LPS_W_IO] = W(ev_io_start),
	    [LPS_W_TIMER] = W(ev_timer_start),
	    [LPS_W_PERIODIC] = W(ev_periodic_start),
	    [LPS_W_SIGNAL] = W(ev_signal_start),
	    [LPS_W_CHILD] = W(ev_child_start),
	    [LPS_W_STAT] = W(ev_stat_start),
	    [LPS_W_IDLE] = W(ev_idle_start),
	    [LPS_W_PREPARE] = W(ev_prepare_start),
	    [LPS_W_CHECK] = W(ev_check_start),
	    [LPS_W_EMBED] = W(ev_embed_start),
	    [LPS_W_FORK] = W(ev_fork_start),
	    [LPS_W_CLEANUP] = W(ev_cleanup_start),
	    [LPS_W_ASYNC] = W(ev_async_start),
	},
    .stop =
	{
	    [LPS_W_IO] = W(ev_io_stop),
	    [LPS_W_TIMER] = W(ev_timer_stop),
	    [LPS_W_PERIODIC] = W(ev_periodic_stop),
	    [LPS_W_SIGNAL] = W(ev_signal_stop),
	    [LPS_W_CHILD] = W(ev_child_stop),
	    [LPS_W_STAT] = W(ev_stat_stop),
	    [LPS_W_IDLE] = W(ev_idle_stop),
	    [LPS_W_PREPARE] = W(ev_prepare_stop),
	    [LPS_W_CHECK] = W(ev_check_stop),
	    [LPS_W_EMBED] = W(ev_embed_stop),
	    [LPS_W_FORK] = W(ev_fork_stop),
	    [LPS_W_CLEANUP] = W(ev_cleanup_stop),
	    [LPS_W_ASYNC] = W(ev_async_stop),
	},
    .timer_again = W(ev_timer_again),
    .periodic_again = W(ev_periodic_again),
};

int lpi_ev_resolve(void)
{
	return 0;
}
