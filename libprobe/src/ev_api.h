/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The libev functions libprobe calls, as pointers. The shared library
 * defines some of libev's own names (preload.c), so calling them by name
 * would call itself: it looks the real ones up with dlsym(RTLD_NEXT), and
 * does not link libev at all, so preloading it into a program without
 * libev costs nothing. The static library, for source mode only, links
 * libev's functions directly (ev_api_static.c).
 */
#ifndef LPROBE_EV_API_H
#define LPROBE_EV_API_H

#include <ev.h>
#include "lprobe_shm.h"

/* libev's watcher types: X(type, enum lps_watcher), for every list made of them. */
#define LPI_EV_WATCHER_TYPES(X)                                                                    \
	X(io, LPS_W_IO)                                                                            \
	X(timer, LPS_W_TIMER)                                                                      \
	X(periodic, LPS_W_PERIODIC)                                                                \
	X(signal, LPS_W_SIGNAL)                                                                    \
	X(child, LPS_W_CHILD)                                                                      \
	X(stat, LPS_W_STAT)                                                                        \
	X(idle, LPS_W_IDLE)                                                                        \
	X(prepare, LPS_W_PREPARE)                                                                  \
	X(check, LPS_W_CHECK)                                                                      \
	X(embed, LPS_W_EMBED)                                                                      \
	X(fork, LPS_W_FORK)                                                                        \
	X(cleanup, LPS_W_CLEANUP)                                                                  \
	X(async, LPS_W_ASYNC)

typedef void (*lpi_loop_fn)(struct ev_loop *loop);
typedef void (*lpi_watcher_fn)(struct ev_loop *loop, void *w);

struct lpi_ev_api {
	void (*feed_event)(struct ev_loop *loop, void *w, int revents);
	int (*clear_pending)(struct ev_loop *loop, void *w);
	lpi_loop_fn invoke_pending;
	void (*set_invoke_pending_cb)(struct ev_loop *loop, ev_loop_callback cb);
	void (*set_loop_release_cb)(struct ev_loop *loop, lpi_loop_fn release, lpi_loop_fn acquire);
	struct ev_loop *(*loop_new)(unsigned int flags);
	struct ev_loop *(*default_loop)(unsigned int flags);
	lpi_loop_fn loop_destroy;
	int (*run)(struct ev_loop *loop, int flags);
	lpi_loop_fn ref;
	lpi_loop_fn unref;
	/* indexed by enum lps_watcher; NULL for LPS_W_UNKNOWN and LPS_W_CUSTOM */
	lpi_watcher_fn start[LPS_W_COUNT];
	lpi_watcher_fn stop[LPS_W_COUNT];
	lpi_watcher_fn timer_again;
	lpi_watcher_fn periodic_again;
};

extern struct lpi_ev_api lpi_ev;

/* Fill lpi_ev; -ENOENT when libev is not in the process. Idempotent. */
int lpi_ev_resolve(void);

#endif
