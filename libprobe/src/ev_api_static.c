// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Source mode, static library: libev is linked into the program itself. */
#include "ev_api.h"

#define W(fn) ((lpi_watcher_fn)(void (*)(void))(fn))
#define START(type, watcher) [watcher] = W(ev_##type##_start),
#define STOP(type, watcher) [watcher] = W(ev_##type##_stop),

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
    .start = {LPI_EV_WATCHER_TYPES(START)},
    .stop = {LPI_EV_WATCHER_TYPES(STOP)},
    .timer_again = W(ev_timer_again),
    .periodic_again = W(ev_periodic_again),
};

int lpi_ev_resolve(void)
{
	return 0;
}
