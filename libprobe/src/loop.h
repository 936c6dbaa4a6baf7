/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One attached libev loop: where its numbers go (a slot of the shared
 * region), what libprobe chained in front of the program's own hooks, and
 * the hot path that timestamps callbacks. Everything here runs on the thread
 * that runs the loop; nothing here does I/O or takes a lock.
 */
#ifndef LPROBE_LOOP_H
#define LPROBE_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <ev.h>
#include "clock.h"
#include "lprobe_shm.h"
#include "period.h"
#include "usdt.h"
#include "wtable.h"

/*
 * Internal: hidden in declarations too, so that the hot path compares
 * against its own functions' addresses directly, not through the GOT
 * (another page to walk after a callback's syscalls).
 */
#pragma GCC visibility push(hidden)

#define LPI_NUMPRI (EV_MAXPRI - EV_MINPRI + 1)
/* on every event: kept together in .text.hot, one code page for the whole path */
#define LPI_HOT __attribute__((hot))

/*
 * Watchers libev made pending in one priority, stored at libev's own index
 * (watcher->pending - 1), so a stop can find and drop its entry in O(1).
 * Entries at or above top are done; len follows libev's pending count.
 */
struct lpi_pend {
	void **w; /* the loop's inline storage at first, the heap once an iteration outgrows it */
	uint32_t len;
	uint32_t top;
	uint32_t cap;
};

#define LPI_PEND_INLINE 32

/*
 * Allocated page-aligned, with what every callback touches first and
 * together: after a callback's own syscalls its TLB entries may be gone,
 * and each further page libprobe touches would cost a miss.
 */
struct lpi_loop {
	/* cache line 1: everything the end of a callback touches */
	struct lps_event *ring;
	uint64_t head; /* ring entries begun; slot->ring_head follows it (lpi_event_begin) */
	/* per-callback counts, published to the slot once per iteration (lpi_loop_publish) */
	uint64_t n_callbacks;
	uint64_t cb_ns;
	/* the clock's calibration (clock.h), copied once per iteration */
	uint64_t tsc_base;
	uint64_t ns_base;
	uint64_t tsc_mult;
	uint32_t ring_mask;
	uint8_t use_tsc;
	uint8_t seg_open; /* a task segment runs (see await.c) */
	uint16_t depth;	  /* callbacks running on this loop now */

	/* cache line 2: the rest of a callback's begin, and the dispatcher */
	uint32_t calib_seq;
	uint32_t tid;
	struct lps_loop *slot; /* in the shared region, or private memory */
	uint64_t seg_idx;      /* the task segment running now: ring index + 1; 0: none */
	struct ev_loop *ev;
	int (*clear_pending)(struct ev_loop *loop, void *w); /* libev's, for the dispatcher */
	/* the end of the last callback, when the next one follows directly */
	uint64_t chain_ns;
	bool chaining;
	bool destroying;    /* inside ev_loop_destroy: cleanup watchers run now, once */
	uint32_t run_depth; /* ev_run calls in progress (lpi_run) */
	double ns_per_s;    /* 1e9, here rather than in .rodata (lpi_watcher_arg) */
	/* preload mode: mirror of libev's pending queues */
	struct lpi_pend pend[LPI_NUMPRI];
	void *pend_inline[LPI_NUMPRI][LPI_PEND_INLINE];

	/* once per iteration or less */
	struct lpi_period busy;
	uint64_t cb_max_ns;
	uint64_t seg_key;
	uint64_t seg_start;
	uint32_t gen;	    /* lpi_gen when this loop last caught up with configuration */
	int slot_index;	    /* -1: private_slot */
	void *private_slot; /* owned memory when the region had no free slot */
	uint64_t iter_seg_key; /* the longest task segment in the busy period */
	uint64_t iter_seg_ns;
	/* hooks the program set itself, called from libprobe's */
	ev_loop_callback user_invoke;
	void (*user_release)(struct ev_loop *loop);
	void (*user_acquire)(struct ev_loop *loop);
	/* heartbeat */
	ev_timer hb;
	uint64_t hb_interval_ns; /* 0: not running */
	uint64_t hb_due;	 /* when the next tick is due */
	/* source mode: watchers whose callback libprobe wrapped */
	struct lpi_wtable wt;
};

/*
 * Globals read on every event, in one cache line: the loop table's epoch
 * (bumped on attach and detach: lookups cached per thread compare it), the
 * configuration generation (bumped on changes and fork; loops catch up on
 * their own thread), and what an iteration's start checks: when the clock
 * is due for a refit, whether the reporter thread runs.
 */
struct lpi_hot {
	uint32_t loops_epoch;
	uint32_t gen;
	uint64_t calib_due_ns; /* lpi_clock_tick's answer; 0: at the next iteration */
	uint32_t reporter;     /* the reporter thread was started (reporter.c) */
} __attribute__((aligned(64)));
extern struct lpi_hot lpi_hot;
#define lpi_gen (lpi_hot.gen)
#define lpi_loops_epoch (lpi_hot.loops_epoch)
/* The loop whose callback runs on this thread now (await.c uses it). */
extern __thread struct lpi_loop *lpi_tls_loop __attribute__((tls_model("initial-exec")));

/* The attached loop for an ev_loop, or NULL. Cheap: one compare when cached. */
struct lpi_loop *lpi_loop_find_slow(struct ev_loop *loop);

struct lpi_loop_cache {
	struct ev_loop *ev;
	struct lpi_loop *l;
	uint32_t epoch;
	/* libev's ev_feed_event, at hand for preload.c's (thread-local: no extra page) */
	void (*feed)(struct ev_loop *loop, void *w, int revents);
};
extern __thread struct lpi_loop_cache lpi_tls_cache __attribute__((tls_model("initial-exec")));

static inline struct lpi_loop *lpi_loop_find(struct ev_loop *loop)
{
	if (__builtin_expect(lpi_tls_cache.ev == loop &&
				 lpi_tls_cache.epoch ==
				     __atomic_load_n(&lpi_loops_epoch, __ATOMIC_ACQUIRE),
			     1))
		return lpi_tls_cache.l;
	return lpi_loop_find_slow(loop);
}

/* Slow path of lpi_loop_check: thread id, configuration changes, fork. */
void lpi_loop_catch_up(struct lpi_loop *l);
extern __thread uint32_t lpi_tls_tid __attribute__((tls_model("initial-exec")));

static inline void lpi_loop_check(struct lpi_loop *l)
{
	if (__builtin_expect(
		l->tid != lpi_tls_tid || l->gen != __atomic_load_n(&lpi_gen, __ATOMIC_RELAXED), 0))
		lpi_loop_catch_up(l);
}

/* Begin a flight-recorder entry; returns its index. */
static inline uint64_t lpi_event_begin(struct lpi_loop *l, uint32_t kind, uint64_t key,
				       uint32_t watcher, int32_t arg, uint64_t interval_ns,
				       uint64_t now)
{
	uint64_t i = l->head++;
	struct lps_event *e = &l->ring[i & l->ring_mask];

	lpi_store(&e->seq, 4 * i + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e->key = key;
	e->start_ns = now;
	e->end_ns = 0;
	e->interval_ns = interval_ns;
	e->kind = kind;
	e->watcher = watcher;
	e->arg = arg;
	e->depth = l->depth;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	lpi_store(&e->seq, 4 * i + 2);
	/*
	 * Readers find entries past ring_head by their seq, as long as it lags
	 * less than the ring: publish it every half ring (and every iteration),
	 * the slot's page being one more to walk after a callback's syscalls.
	 */
	if (!(l->head & (l->ring_mask >> 1)))
		__atomic_store_n(&l->slot->ring_head, l->head, __ATOMIC_RELEASE);
	return i;
}

/* End entry i, unless newer entries have overwritten it meanwhile. */
static inline void lpi_event_end(struct lpi_loop *l, uint64_t i, uint64_t now)
{
	struct lps_event *e;

	if (l->head - i > l->ring_mask + 1)
		return;
	e = &l->ring[i & l->ring_mask];
	lpi_store(&e->seq, 4 * i + 3);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e->end_ns = now;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	lpi_store(&e->seq, 4 * i + 4);
}

void lpi_segment_close(struct lpi_loop *l, uint64_t now);

/* A watcher callback starts: returns its ring index. */
static inline uint64_t lpi_cb_begin(struct lpi_loop *l, const void *cb, uint32_t watcher,
				    int32_t arg, uint64_t interval_ns, uint64_t now)
{
	uint64_t i =
	    lpi_event_begin(l, LPS_K_CALLBACK, (uintptr_t)cb, watcher, arg, interval_ns, now);

	LPI_USDT_CALLBACK_BEGIN(l->ev, cb, watcher, arg);
	l->depth++;
	return i;
}

/* The callback begun as entry i at start ended at now. */
static inline void lpi_cb_end(struct lpi_loop *l, uint64_t i, const void *cb, uint64_t start,
			      uint64_t now)
{
	uint64_t dur = now > start ? now - start : 0;

	if (__builtin_expect(l->seg_open, 0))
		lpi_segment_close(l, now);
	l->depth--;
	lpi_event_end(l, i, now);
	LPI_USDT_CALLBACK_END(cb, dur);
	/* the longest callback is looked for only when a stall needs it (record_stall) */
	l->n_callbacks++;
	l->cb_ns += dur;
}

/* The time on this loop's thread, with the calibration the loop copied. */
static inline uint64_t lpi_loop_now(const struct lpi_loop *l)
{
	if (__builtin_expect(!l->use_tsc, 0))
		return lpi_mono_ns();
	return lpi_tsc_to_ns(__rdtsc(), l->tsc_base, l->ns_base, l->tsc_mult);
}

void lpi_loop_calib_copy(struct lpi_loop *l);

/* Take a newer calibration, if one was published (once per iteration). */
static inline void lpi_loop_calib(struct lpi_loop *l)
{
	if (__builtin_expect(l->calib_seq != __atomic_load_n(&lpi_calib.seq, __ATOMIC_ACQUIRE), 0))
		lpi_loop_calib_copy(l);
}

uint64_t lpi_loop_housekeep(struct lpi_loop *l, uint64_t now);

/* Publish what callbacks counted privately (once per iteration). */
static inline void lpi_loop_publish(struct lpi_loop *l)
{
	lpi_period_publish(l->slot, l->head, l->n_callbacks, l->cb_ns, l->cb_max_ns);
}

/*
 * The time at the start of an iteration (or a dispatch). The loop thread
 * also keeps the clock fitted and starts the reporter when a tracer listens
 * to stall_begin: two compares on lpi_hot's line, the slow path rarely (at
 * 20, 80 and 320 ms, then once a second).
 */
static inline uint64_t lpi_loop_start(struct lpi_loop *l)
{
	uint64_t now;

	lpi_loop_calib(l);
	now = lpi_loop_now(l);
	if (__builtin_expect(now >= __atomic_load_n(&lpi_hot.calib_due_ns, __ATOMIC_RELAXED) ||
				 (LPI_USDT_STALL_BEGIN_ENABLED() &&
				  !__atomic_load_n(&lpi_hot.reporter, __ATOMIC_RELAXED)),
			     0))
		now = lpi_loop_housekeep(l, now);
	return now;
}

/* Watcher type from the events a callback receives (libev sets one type bit). */
static inline uint32_t lpi_watcher_of(int revents)
{
	uint32_t t = (uint32_t)revents & 0x000fff00u;

	/* EV_TIMER..EV_ASYNC are bits 8..19, in lps_watcher's order: no table (no .rodata page) */
	_Static_assert(EV_TIMER == 0x100 && EV_ASYNC == 0x80000 && LPS_W_ASYNC - LPS_W_TIMER == 11,
		       "libev's type bits and enum lps_watcher line up");
	if (t)
		return LPS_W_TIMER + (uint32_t)__builtin_ctz(t) - 8;
	if (revents & (EV_READ | EV_WRITE))
		return LPS_W_IO;
	return LPS_W_CUSTOM;
}

/* Seconds (libev's ev_tstamp) to ns; signed: the unsigned conversion loads a constant. */
static inline uint64_t lpi_tstamp_ns(double t, double ns_per_s)
{
	return t > 0 ? (uint64_t)(int64_t)(t * ns_per_s) : 0;
}

/*
 * What identifies a watcher besides its callback: fd, signal, pid, interval.
 * Runs right after the previous callback's syscalls, so it touches no page
 * of its own: no jump table and no constant in .rodata (ns_per_s is the
 * loop's copy of 1e9).
 */
static inline int32_t lpi_watcher_arg(const void *w, uint32_t watcher, uint64_t *interval_ns,
				      double ns_per_s)
{
	*interval_ns = 0;
	if (watcher == LPS_W_IO)
		return ((const ev_io *)w)->fd;
	if (watcher == LPS_W_TIMER)
		*interval_ns = lpi_tstamp_ns(((const ev_timer *)w)->repeat, ns_per_s);
	else if (watcher == LPS_W_SIGNAL)
		return ((const ev_signal *)w)->signum;
	else if (watcher == LPS_W_CHILD)
		return ((const ev_child *)w)->rpid;
	else if (watcher == LPS_W_PERIODIC)
		*interval_ns = lpi_tstamp_ns(((const ev_periodic *)w)->interval, ns_per_s);
	else if (watcher == LPS_W_STAT)
		*interval_ns = lpi_tstamp_ns(((const ev_stat *)w)->interval, ns_per_s);
	return -1;
}

/* Busy period boundaries (libev's release/acquire hooks around the poll). */
void lpi_busy_begin(struct lpi_loop *l, uint64_t now);
void lpi_busy_end(struct lpi_loop *l, uint64_t now);

/*
 * Run one callback and time it. *now is when it may start (the end of the
 * previous one) and becomes when it ended.
 */
void lpi_run_callback(struct lpi_loop *l, ev_watcher *w,
		      void (*cb)(struct ev_loop *, ev_watcher *, int), uint32_t watcher,
		      int revents, uint64_t *now);

/* Attach (idempotent) and detach; lpi_attach returns the loop or NULL with errno set. */
struct lpi_loop *lpi_attach(struct ev_loop *loop);
void lpi_detach(struct ev_loop *loop);
/* ev_loop_destroy with libprobe's part around it. */
void lpi_destroy(struct ev_loop *loop);
/*
 * ev_run with libprobe's part around it: when the outermost run returns,
 * the busy period in progress ends there (a loop stopped right after a
 * stall would never reach the next poll).
 */
int lpi_run(struct ev_loop *loop, int flags);

/* Record a hook the program set on a loop libprobe does not time (yet). */
void lpi_remember_invoke(struct ev_loop *loop, ev_loop_callback cb);
void lpi_remember_release(struct ev_loop *loop, void (*release)(struct ev_loop *),
			  void (*acquire)(struct ev_loop *));

/* The hooks libprobe installs on an attached loop. */
void lpi_invoke_hook(struct ev_loop *loop);
void lpi_release_hook(struct ev_loop *loop);
void lpi_acquire_hook(struct ev_loop *loop);
/* Run what libev has pending, timing each callback. */
void lpi_dispatch(struct lpi_loop *l);

/* heartbeat.c */
void lpi_heartbeat_cb(struct ev_loop *loop, ev_timer *w, int revents);
void lpi_heartbeat_apply(struct lpi_loop *l, uint64_t interval_ns);

/* source.c: the callback libprobe puts in front of a wrapped watcher's own */
void lpi_src_tramp(struct ev_loop *loop, ev_watcher *w, int revents);
/* Give wrapped watchers their callbacks back (cleanup watchers too, unless keep_cleanup). */
void lpi_src_unwrap_all(struct lpi_loop *l, bool keep_cleanup);

#pragma GCC visibility pop

#endif
