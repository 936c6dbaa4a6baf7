// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Process-wide state: configuration from the environment, the region,
 * attaching and detaching loops, and fork. Everything here is a slow path
 * and takes lpi_rt.lock; the hot path only reads the loop table.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "config.h"
#include "ev_api.h"
#include "runtime.h"

struct lpi_runtime lpi_rt = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
};
/* in .probes with the USDT semaphores (usdt.h): one page for an iteration's start */
struct lpi_hot lpi_hot __attribute__((section(".probes"))) = {.loops_epoch = 1, .gen = 1};
volatile uint16_t lprobe_callback_begin_semaphore __attribute__((section(".probes")));
volatile uint16_t lprobe_callback_end_semaphore __attribute__((section(".probes")));
volatile uint16_t lprobe_stall_begin_semaphore __attribute__((section(".probes")));
volatile uint16_t lprobe_stall_end_semaphore __attribute__((section(".probes")));
ev_loop_callback lpi_self_invoke_pending;
__thread struct lpi_loop_cache lpi_tls_cache __attribute__((tls_model("initial-exec")));
__thread uint32_t lpi_tls_tid __attribute__((tls_model("initial-exec")));

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void atfork_prepare(void);
static void atfork_parent(void);
static void atfork_child(void);

static void init(void)
{
	struct lpi_config *c = &lpi_rt.cfg;

	lpi_config_defaults(c);
	lpi_config_from_env(c, getenv);
	lpi_clock_init();
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

void lpi_init(void)
{
	pthread_once(&init_once, init);
}

static uint32_t gettid_cached(void)
{
	if (!lpi_tls_tid)
		lpi_tls_tid = (uint32_t)syscall(SYS_gettid);
	return lpi_tls_tid;
}

void lpi_loop_set_tid(struct lpi_loop *l)
{
	l->tid = gettid_cached();
	__atomic_store_n(&l->slot->tid, l->tid, __ATOMIC_RELEASE);
}

/*
 * First loop iteration in a forked child (on that loop's thread): move to a
 * /dev/shm file of the child's own. Loops are pointed at the copy; the
 * private memory is unmapped when no other thread can still be writing it.
 */
static void publish_region(void)
{
	struct lpi_region old, pub;
	bool all_here = true;
	uint32_t i;

	pthread_mutex_lock(&lpi_rt.lock);
	if (!lpi_rt.publish)
		goto cleanup;
	lpi_rt.publish = false;
	old = lpi_rt.region;
	if (lpi_region_publish(&old, &pub))
		goto cleanup;
	for (i = 0; i < lpi_rt.n_slots; i++) {
		struct lpi_loop *l = lpi_rt.loops[i];

		if (!l || l->slot_index < 0)
			continue;
		l->slot = lpi_region_loop(&pub, (uint32_t)l->slot_index);
		l->ring = (struct lps_event *)(l->slot + 1);
		if (l->tid && l->tid != lpi_tls_tid)
			all_here = false;
	}
	lpi_rt.region = pub;
	if (all_here)
		lpi_region_abandon(&old);
cleanup:
	pthread_mutex_unlock(&lpi_rt.lock);
}

void lpi_loop_catch_up(struct lpi_loop *l)
{
	uint32_t gen = __atomic_load_n(&lpi_gen, __ATOMIC_ACQUIRE);
	uint64_t hb;

	if (l->tid != gettid_cached())
		lpi_loop_set_tid(l);
	if (l->gen == gen)
		return;
	l->gen = gen;
	lpi_loop_calib(l);
	if (__atomic_load_n(&lpi_rt.publish, __ATOMIC_ACQUIRE))
		publish_region();
	/* after a fork the reporter thread has to be started again (if wanted), from here */
	lpi_reporter_maybe();
	hb = __atomic_load_n(&lpi_rt.cfg.heartbeat_ns, __ATOMIC_RELAXED);
	if (hb != l->hb_interval_ns)
		lpi_heartbeat_apply(l, hb);
}

struct lpi_loop *lpi_loop_find_slow(struct ev_loop *loop)
{
	uint32_t epoch = __atomic_load_n(&lpi_loops_epoch, __ATOMIC_ACQUIRE);
	uint32_t i, n = __atomic_load_n(&lpi_rt.n_slots, __ATOMIC_ACQUIRE);
	struct lpi_loop *found = NULL;

	for (i = 0; i < n; i++) {
		if (__atomic_load_n(&lpi_rt.evs[i], __ATOMIC_ACQUIRE) == loop) {
			found = __atomic_load_n(&lpi_rt.loops[i], __ATOMIC_ACQUIRE);
			break;
		}
	}
	/* not attached is worth caching too: preload asks on every ev_feed_event */
	lpi_tls_cache.ev = loop;
	lpi_tls_cache.l = found;
	lpi_tls_cache.epoch = epoch;
	lpi_tls_cache.feed = lpi_ev.feed_event;
	return found;
}

static struct lpi_remembered *remembered(struct ev_loop *loop, bool add)
{
	uint32_t i;

	for (i = 0; i < lpi_rt.n_remembered; i++)
		if (lpi_rt.remembered[i].ev == loop)
			return &lpi_rt.remembered[i];
	if (!add || lpi_rt.n_remembered == sizeof(lpi_rt.remembered) / sizeof(lpi_rt.remembered[0]))
		return NULL;
	i = lpi_rt.n_remembered++;
	memset(&lpi_rt.remembered[i], 0, sizeof(lpi_rt.remembered[i]));
	lpi_rt.remembered[i].ev = loop;
	return &lpi_rt.remembered[i];
}

static void forget_remembered(struct ev_loop *loop)
{
	struct lpi_remembered *r = remembered(loop, false);

	if (r)
		*r = lpi_rt.remembered[--lpi_rt.n_remembered];
}

static bool is_default_invoke(ev_loop_callback cb)
{
	/* in preload mode the program's ev_invoke_pending is libprobe's own */
	return !cb || cb == lpi_ev.invoke_pending || cb == lpi_invoke_hook ||
	       (lpi_self_invoke_pending && cb == lpi_self_invoke_pending);
}

void lpi_remember_invoke(struct ev_loop *loop, ev_loop_callback cb)
{
	struct lpi_remembered *r;

	pthread_mutex_lock(&lpi_rt.lock);
	r = remembered(loop, true);
	if (r) {
		r->invoke = is_default_invoke(cb) ? NULL : cb;
		r->has_invoke = true;
	}
	pthread_mutex_unlock(&lpi_rt.lock);
}

void lpi_remember_release(struct ev_loop *loop, void (*release)(struct ev_loop *),
			  void (*acquire)(struct ev_loop *))
{
	struct lpi_remembered *r;

	pthread_mutex_lock(&lpi_rt.lock);
	r = remembered(loop, true);
	if (r) {
		r->release = release;
		r->acquire = acquire;
		r->has_release = true;
	}
	pthread_mutex_unlock(&lpi_rt.lock);
}

void lpi_set_invoke(struct ev_loop *loop, ev_loop_callback cb)
{
	struct lpi_loop *l = lpi_loop_find(loop);

	if (!l) {
		lpi_remember_invoke(loop, cb);
		lpi_ev.set_invoke_pending_cb(loop, cb);
		return;
	}
	/* libprobe's hook stays in place and calls the program's */
	l->user_invoke = is_default_invoke(cb) ? NULL : cb;
}

void lpi_set_release(struct ev_loop *loop, void (*release)(struct ev_loop *),
		     void (*acquire)(struct ev_loop *))
{
	struct lpi_loop *l = lpi_loop_find(loop);

	if (!l) {
		lpi_remember_release(loop, release, acquire);
		lpi_ev.set_loop_release_cb(loop, release, acquire);
		return;
	}
	l->user_release = release;
	l->user_acquire = acquire;
}

/* Create the region on the first attach, so a process that never runs a loop has none. */
static int start_locked(void)
{
	struct lpi_region_geom g = {
	    .max_loops = lpi_rt.cfg.max_loops,
	    .ring_len = lpi_rt.cfg.ring_len,
	    .sym_slots = 1024,
	    .strtab_size = 128 << 10,
	    .threshold_ns = lpi_rt.cfg.threshold_ns,
	};
	int err;

	if (lpi_rt.started)
		return 0;
	err = lpi_region_create(&lpi_rt.region, &g, lpi_rt.cfg.shm);
	if (err)
		return err;
	lpi_rt.started = true;
	return 0;
}

/* Point a loop at a slot: in the region, or private memory when it is full. */
static int bind_slot(struct lpi_loop *l, uint64_t now)
{
	const struct lps_header *h = lpi_rt.region.hdr;

	free(l->private_slot);
	l->slot = lpi_region_bind(&lpi_rt.region, (uintptr_t)l->ev, now, &l->slot_index,
				  &l->private_slot);
	if (!l->slot)
		return -ENOMEM;
	l->ring = (struct lps_event *)(l->slot + 1);
	l->ring_mask = h->ring_len - 1;
	_Static_assert(offsetof(struct lpi_loop, calib_seq) == 64, "hot line of struct lpi_loop");
	l->head = 0;
	l->n_callbacks = l->cb_ns = l->cb_max_ns = 0;
	l->slot->tid = l->tid;
	l->slot->heartbeat_interval_ns = l->hb_interval_ns;
	return 0;
}

static void install_hooks(struct lpi_loop *l, const struct lpi_remembered *r)
{
	if (r && r->has_invoke)
		l->user_invoke = r->invoke;
	if (r && r->has_release) {
		l->user_release = r->release;
		l->user_acquire = r->acquire;
	}
	lpi_ev.set_invoke_pending_cb(l->ev, lpi_invoke_hook);
	lpi_ev.set_loop_release_cb(l->ev, lpi_release_hook, lpi_acquire_hook);
}

struct lpi_loop *lpi_attach(struct ev_loop *loop)
{
	struct lpi_loop *l = NULL, *attached = NULL;
	uint32_t i, free_i = UINT32_MAX;
	int err = 0;

	if (!loop) {
		errno = EINVAL;
		return NULL;
	}
	lpi_init();
	if (lpi_ev_resolve()) {
		errno = ENOENT;
		return NULL;
	}
	pthread_mutex_lock(&lpi_rt.lock);
	for (i = 0; i < lpi_rt.n_slots; i++) {
		if (lpi_rt.evs[i] == loop) {
			attached = lpi_rt.loops[i];
			goto cleanup;
		}
		if (!lpi_rt.evs[i] && free_i == UINT32_MAX)
			free_i = i;
	}
	if (free_i == UINT32_MAX) {
		if (lpi_rt.n_slots == LPI_MAX_ATTACHED) {
			err = -ENOSPC;
			goto cleanup;
		}
		free_i = lpi_rt.n_slots;
	}
	err = start_locked();
	if (err)
		goto cleanup;
	/* page-aligned: the hot part shares one page (see struct lpi_loop) */
	l = aligned_alloc(4096, (sizeof(*l) + 4095) & ~(size_t)4095);
	if (!l) {
		err = -ENOMEM;
		goto cleanup;
	}
	memset(l, 0, sizeof(*l));
	l->ev = loop;
	l->clear_pending = lpi_ev.clear_pending;
	l->ns_per_s = 1e9;
	for (i = 0; i < LPI_NUMPRI; i++)
		lpi_pend_init(&l->pend[i], l->pend_inline[i]);
	lpi_loop_calib_copy(l);
	err = bind_slot(l, lpi_now());
	if (err)
		goto cleanup;
	{
		struct lpi_remembered *r = remembered(loop, false);

		install_hooks(l, r);
		if (r)
			r->detached = false;
	}
	/* gen 0: the first iteration catches up (thread id, reporter thread) */
	l->gen = 0;
	__atomic_store_n(&lpi_rt.loops[free_i], l, __ATOMIC_RELEASE);
	__atomic_store_n(&lpi_rt.evs[free_i], loop, __ATOMIC_RELEASE);
	if (free_i == lpi_rt.n_slots)
		__atomic_store_n(&lpi_rt.n_slots, free_i + 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&lpi_loops_epoch, 1, __ATOMIC_RELEASE);
	/* the heartbeat starts here, on the thread that set the loop up, before it runs */
	lpi_heartbeat_apply(l, __atomic_load_n(&lpi_rt.cfg.heartbeat_ns, __ATOMIC_RELAXED));
	attached = l;
	l = NULL;
cleanup:
	pthread_mutex_unlock(&lpi_rt.lock);
	if (l) {
		free(l->private_slot);
		free(l);
	}
	if (attached)
		lpi_reporter_maybe();
	else
		errno = -err;
	return attached;
}

/* Take a loop out of the table; the caller owns what is returned. */
static struct lpi_loop *unpublish(struct ev_loop *loop, bool destroying)
{
	struct lpi_loop *l = NULL;
	struct lpi_remembered *r;
	uint32_t i;

	pthread_mutex_lock(&lpi_rt.lock);
	for (i = 0; i < lpi_rt.n_slots; i++) {
		if (lpi_rt.evs[i] == loop) {
			l = lpi_rt.loops[i];
			__atomic_store_n(&lpi_rt.evs[i], NULL, __ATOMIC_RELEASE);
			__atomic_store_n(&lpi_rt.loops[i], NULL, __ATOMIC_RELEASE);
			break;
		}
	}
	__atomic_add_fetch(&lpi_loops_epoch, 1, __ATOMIC_RELEASE);
	if (destroying) {
		forget_remembered(loop);
	} else if (l && (r = remembered(loop, true))) {
		/* what the program set stays known, should it attach the loop again */
		r->detached = true;
		r->invoke = l->user_invoke;
		r->has_invoke = true;
		r->release = l->user_release;
		r->acquire = l->user_acquire;
		r->has_release = true;
	}
	pthread_mutex_unlock(&lpi_rt.lock);
	return l;
}

static void release_loop(struct lpi_loop *l)
{
	int i;

	__atomic_store_n(&l->slot->busy_start_ns, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&l->slot->state, LPS_LOOP_GONE, __ATOMIC_RELEASE);
	for (i = 0; i < LPI_NUMPRI; i++)
		lpi_pend_free(&l->pend[i], l->pend_inline[i]);
	/* entries left are watchers libev never called back: not ours to touch now */
	lpi_wtable_free(&l->wt);
	free(l->private_slot);
	free(l);
}

void lpi_detach(struct ev_loop *loop)
{
	struct lpi_loop *l = lpi_loop_find(loop);

	if (!l || l->depth)
		return; /* not from inside one of the loop's own callbacks */
	if (l->hb_interval_ns)
		lpi_heartbeat_apply(l, 0);
	lpi_src_unwrap_all(l, false);
	l = unpublish(loop, false);
	if (!l)
		return;
	/* give the loop back the hooks the program chose */
	lpi_ev.set_invoke_pending_cb(loop, l->user_invoke ? l->user_invoke : lpi_ev.invoke_pending);
	lpi_ev.set_loop_release_cb(loop, l->user_release, l->user_acquire);
	release_loop(l);
}

void lpi_destroy(struct ev_loop *loop)
{
	struct lpi_loop *l = loop ? lpi_loop_find(loop) : NULL;

	if (l) {
		if (l->hb_interval_ns)
			lpi_heartbeat_apply(l, 0);
		/* cleanup watchers stay wrapped: ev_loop_destroy runs them now */
		lpi_src_unwrap_all(l, true);
		l->destroying = true;
	}
	/* libev runs the cleanup watchers through libprobe's hooks: still timed */
	lpi_ev.loop_destroy(loop);
	/* the loop is freed: forget it without a word to libev */
	l = loop ? unpublish(loop, true) : NULL;
	if (l)
		release_loop(l);
}

bool lpi_was_detached(struct ev_loop *loop)
{
	struct lpi_remembered *r;
	bool detached;

	pthread_mutex_lock(&lpi_rt.lock);
	r = remembered(loop, false);
	detached = r && r->detached;
	pthread_mutex_unlock(&lpi_rt.lock);
	return detached;
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&lpi_rt.lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&lpi_rt.lock);
}

/*
 * The child shares the parent's region mapping: writing to it would corrupt
 * the parent's numbers. Give every loop a slot in a private region of its
 * own at once, before any callback of the child runs; the first loop
 * iteration publishes it as the child's file and starts the reporter thread
 * again if it is wanted (lpi_loop_catch_up). Only the forking thread exists
 * here.
 */
static void atfork_child(void)
{
	struct lpi_region parent = lpi_rt.region;
	uint64_t now = lpi_now();
	uint32_t i;

	lpi_tls_tid = 0;
	lpi_clock_forget();
	lpi_reporter_forget();
	if (lpi_rt.started) {
		struct lpi_region_geom g = {
		    .max_loops = parent.hdr->max_loops,
		    .ring_len = parent.hdr->ring_len,
		    .sym_slots = parent.hdr->sym_slots,
		    .strtab_size = parent.hdr->strtab_size,
		    .threshold_ns = lpi_rt.cfg.threshold_ns,
		};

		/* private until a loop runs here: a child that only execs or exits leaves no file
		 */
		if (lpi_region_create(&lpi_rt.region, &g, false))
			lpi_rt.started = false;
		lpi_rt.publish = lpi_rt.started && parent.shared;
		for (i = 0; i < lpi_rt.n_slots; i++) {
			struct lpi_loop *l = lpi_rt.loops[i];

			if (!l)
				continue;
			l->tid = 0;
			l->busy.start = l->busy.poll_start = 0;
			if (!lpi_rt.started || bind_slot(l, now)) {
				/* nowhere to write: stop timing this loop in the child */
				lpi_rt.evs[i] = NULL;
				lpi_rt.loops[i] = NULL;
			}
		}
		/* not lpi_region_unlink: the file is the parent's */
		lpi_region_abandon(&parent);
	}
	__atomic_add_fetch(&lpi_loops_epoch, 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&lpi_gen, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&lpi_rt.lock);
}

__attribute__((destructor)) static void lpi_fini(void)
{
	if (!lpi_rt.started)
		return;
	lpi_reporter_stop();
	/* other threads may still run callbacks: keep the memory, drop the name */
	lpi_region_unlink(&lpi_rt.region);
}
