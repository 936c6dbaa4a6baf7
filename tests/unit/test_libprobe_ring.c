// SPDX-License-Identifier: BSD-2-Clause
/*
 * libprobe's writer side (flight recorder, stall log, symbol table, await
 * spans) against the agent's reader, through a real /dev/shm region of this
 * process: wrap-around, entries overwritten while running, the stall log as
 * the fallback once the ring has moved on. No root needed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "lprobe.h"
#include "loop.h"
#include "probe_shm.h"
#include "region.h"
#include "runtime.h"
#include "symtab.h"

#define RING 64
#define TID 4242u
#define MS 1000000ull

static struct lpi_region r;
static struct lpi_loop l;

static int setup(void **state)
{
	struct lpi_region_geom g = {
	    .max_loops = 2,
	    .ring_len = RING,
	    .sym_slots = 64,
	    .strtab_size = 4096,
	    .threshold_ns = 50 * MS,
	};
	int i;

	(void)state;
	lpi_rt.cfg.threshold_ns = 50 * MS;
	if (lpi_region_create(&r, &g, true) || !r.shared)
		return -1;
	i = lpi_region_claim(&r, 0x1234, 1);
	if (i < 0)
		return -1;
	memset(&l, 0, sizeof(l));
	l.slot = lpi_region_loop(&r, (uint32_t)i);
	l.ring = (struct lps_event *)(l.slot + 1);
	l.ring_mask = RING - 1;
	l.tid = TID;
	l.slot->tid = TID;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	lpi_region_unlink(&r);
	lpi_region_abandon(&r);
	return 0;
}

static void run_cb(uint64_t key, uint32_t watcher, int arg, uint64_t start, uint64_t end)
{
	uint64_t i = lpi_cb_begin(&l, (const void *)(uintptr_t)key, watcher, arg, 0, start);

	lpi_cb_end(&l, i, (const void *)(uintptr_t)key, start, end);
}

static struct ls_probe_shm *open_self(void)
{
	struct ls_probe_shm *p = NULL;

	assert_int_equal(ls_probe_shm__open(getpid(), &p), 0);
	return p;
}

static void region_file_is_private(void **state)
{
	struct stat st;

	(void)state;
	assert_int_equal(lstat(r.path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal((uint64_t)st.st_size, r.hdr->region_size);
}

static void wrap_around(void **state)
{
	struct ls_stall_callback cb;
	struct ls_probe_shm *p;
	uint64_t k;

	(void)state;
	for (k = 1; k <= 100; k++)
		run_cb(k, LPS_W_IO, (int)k, 1000 * k, 1000 * k + 10);
	/* counts reach the slot once per iteration, the head every half ring */
	assert_int_equal(l.head, 100);
	assert_int_equal(l.n_callbacks, 100);
	assert_int_equal(l.slot->callbacks, 0);
	assert_int_equal(l.slot->ring_head, 96);
	p = open_self();
	/* the last RING callbacks are there, each at its own time, past the head too */
	for (k = 100 - RING + 1; k <= 100; k++) {
		assert_int_equal(ls_probe_shm__callback_at(p, TID, 1000 * k + 5, &cb), 0);
		assert_int_equal(cb.cb.addr, k);
		assert_int_equal(cb.cb.arg, (int)k);
		assert_int_equal(cb.cb.end_ns - cb.cb.start_ns, 10);
		assert_string_equal(ls_probe_watcher_name(cb.cb.watcher), "io");
	}
	/* older ones were overwritten */
	assert_int_equal(ls_probe_shm__callback_at(p, TID, 1000 * (100 - RING) + 5, &cb), -ENOENT);
	/* another thread's callbacks are not this one's */
	assert_int_equal(ls_probe_shm__callback_at(p, TID + 1, 1000 * 100 + 5, &cb), -ENOENT);
	/* the tail: the last five before the period's end, oldest first */
	assert_int_equal(ls_probe_shm__callback(p, TID, 1000 * 100, 1000 * 100 + 10, &cb), 0);
	assert_int_equal(cb.n_recent, LS_PROBE_RECENT);
	for (k = 0; k < LS_PROBE_RECENT; k++)
		assert_int_equal(cb.recent[k].addr, 96 + k);
	/* the same once published */
	lpi_loop_publish(&l);
	assert_int_equal(l.slot->ring_head, 100);
	assert_int_equal(l.slot->callbacks, 100);
	assert_int_equal(l.slot->callback_ns, 1000);
	assert_int_equal(ls_probe_shm__callback_at(p, TID, 1000 * 100 + 5, &cb), 0);
	assert_int_equal(cb.cb.addr, 100);
	ls_probe_shm__free(p);
}

static void running_and_overwritten(void **state)
{
	struct ls_stall_callback cb;
	struct ls_probe_shm *p;
	uint64_t outer, t = 1000000, k;

	(void)state;
	outer = lpi_cb_begin(&l, (const void *)0x777, LPS_W_TIMER, -1, 10 * MS, t);
	p = open_self();
	/* running: no end yet, and it covers any time after its start */
	assert_int_equal(ls_probe_shm__callback_at(p, TID, t + 5 * MS, &cb), 0);
	assert_int_equal(cb.cb.addr, 0x777);
	assert_int_equal(cb.cb.end_ns, 0);
	assert_int_equal(cb.cb.interval_ns, 10 * MS);
	/* nested callbacks (an inner ev_run) push it out of the ring */
	for (k = 0; k < RING + 3; k++)
		run_cb(0x900 + k, LPS_W_IDLE, -1, t + 10 + k * 10, t + 15 + k * 10);
	lpi_cb_end(&l, outer, (const void *)0x777, t, t + 10 * MS);
	/* its end went nowhere: the slot belongs to a newer entry, which is intact */
	assert_int_equal(ls_probe_shm__callback_at(p, TID, t + 10 + (RING + 2) * 10 + 1, &cb), 0);
	assert_int_equal(cb.cb.addr, 0x900 + RING + 2);
	assert_int_equal(cb.cb.end_ns - cb.cb.start_ns, 5);
	ls_probe_shm__free(p);
}

static void symbols(void **state)
{
	struct ls_stall_callback cb;
	struct ls_probe_shm *p;
	uint64_t t = 5000000;

	(void)state;
	assert_non_null(lpi_symtab_add(&r, 0xabc, "on_client_read", "/usr/bin/svc", 0));
	assert_non_null(lpi_symtab_add(&r, 0xdef, "bad\x01name\x7f", NULL, 0));
	/* adding again returns the same entry, unchanged */
	assert_ptr_equal(lpi_symtab_add(&r, 0xabc, "other", NULL, 0),
			 lpi_symtab_add(&r, 0xabc, "on_client_read", NULL, 0));
	run_cb(0xabc, LPS_W_IO, 7, t, t + 100);
	run_cb(0xdef, LPS_W_TIMER, -1, t + 200, t + 300);
	run_cb(0x1, LPS_W_TIMER, -1, t + 400, t + 500);
	p = open_self();
	assert_int_equal(ls_probe_shm__callback_at(p, TID, t + 50, &cb), 0);
	assert_string_equal(cb.cb.symbol, "on_client_read");
	assert_string_equal(cb.cb.module, "/usr/bin/svc");
	/* control bytes never reach the agent's output */
	assert_int_equal(ls_probe_shm__callback_at(p, TID, t + 250, &cb), 0);
	assert_string_equal(cb.cb.symbol, "bad?name?");
	/* not named (yet): empty, still reported */
	assert_int_equal(ls_probe_shm__callback_at(p, TID, t + 450, &cb), 0);
	assert_string_equal(cb.cb.symbol, "");
	ls_probe_shm__free(p);
}

static void stall_log(void **state)
{
	struct ls_stall_callback cb;
	struct ls_probe_shm *p;
	uint64_t t0 = 100 * MS, k;

	(void)state;
	lpi_busy_begin(&l, t0);
	run_cb(0xa1, LPS_W_TIMER, -1, t0 + 1 * MS, t0 + 2 * MS);
	run_cb(0xa2, LPS_W_IO, 9, t0 + 2 * MS, t0 + 82 * MS);
	run_cb(0xa3, LPS_W_TIMER, -1, t0 + 82 * MS, t0 + 83 * MS);
	lpi_busy_end(&l, t0 + 90 * MS);
	assert_int_equal(l.slot->stalls, 1);
	assert_int_equal(l.slot->iterations, 1);
	assert_int_equal(l.slot->max_callbacks_per_iteration, 3);
	/* a short busy period is no stall */
	lpi_busy_begin(&l, t0 + 100 * MS);
	lpi_busy_end(&l, t0 + 101 * MS);
	assert_int_equal(l.slot->stalls, 1);
	/* the ring moves on past the stall ... */
	for (k = 0; k < 2 * RING; k++)
		run_cb(0xb00 + k, LPS_W_IDLE, -1, t0 + 200 * MS + k, t0 + 200 * MS + k + 1);
	p = open_self();
	/* ... and the stall log still names the longest callback of that period */
	assert_int_equal(ls_probe_shm__callback(p, TID, t0, t0 + 90 * MS, &cb), 0);
	assert_int_equal(cb.cb.addr, 0xa2);
	assert_int_equal(cb.cb.arg, 9);
	assert_int_equal(cb.cb.end_ns - cb.cb.start_ns, 80 * MS);
	/* the stall log wraps too: only the last LPS_STALL_RING remain */
	for (k = 0; k < 2 * LPS_STALL_RING; k++) {
		uint64_t s = t0 + (1000 + 100 * k) * MS;

		lpi_busy_begin(&l, s);
		run_cb(0xc00 + k, LPS_W_TIMER, -1, s, s + 60 * MS);
		lpi_busy_end(&l, s + 61 * MS);
	}
	for (k = 0; k < 2 * RING; k++)
		run_cb(0xd00 + k, LPS_W_IDLE, -1, t0 + 9000 * MS + k, t0 + 9000 * MS + k + 1);
	assert_int_equal(ls_probe_shm__callback(p, TID, t0, t0 + 90 * MS, &cb), -ENOENT);
	k = 2 * LPS_STALL_RING - 1;
	assert_int_equal(ls_probe_shm__callback(p, TID, t0 + (1000 + 100 * k) * MS,
						t0 + (1061 + 100 * k) * MS, &cb),
			 0);
	assert_int_equal(cb.cb.addr, 0xc00 + k);
	ls_probe_shm__free(p);
}

static void await_spans(void **state)
{
	static const char db[] = "db_query";
	struct ls_stall_callback cb;
	struct ls_probe_shm *p;
	struct ls_probe_thread th;
	uint64_t i, start, mid, end;
	lp_await_t a;

	(void)state;
	assert_non_null(lpi_symtab_add(&r, (uintptr_t)db, db, NULL, LPS_SYM_NAME));
	/* outside a callback the API does nothing */
	a = lp_await_begin(db);
	assert_int_equal(a.start_ns, 0);
	start = lpi_now();
	i = lpi_cb_begin(&l, (const void *)0xe1, LPS_W_IO, 3, 0, start);
	lpi_tls_loop = &l;
	a = lp_await_begin(db);
	lp_await_end(a);
	lp_yield(NULL);
	a = lp_await_begin(db);
	lp_await_end(a);
	mid = lpi_now();
	while (lpi_now() < mid + 2 * MS)
		;
	end = lpi_now();
	lpi_tls_loop = NULL;
	lpi_cb_end(&l, i, (const void *)0xe1, start, end);
	assert_int_equal(l.slot->awaits, 2);
	assert_int_equal(l.slot->yields, 1);
	p = open_self();
	assert_int_equal(ls_probe_shm__callback(p, TID, start, end, &cb), 0);
	assert_int_equal(cb.cb.addr, 0xe1);
	/* the segment after the last resume ran longest: named after its await */
	assert_string_equal(cb.span, "db_query");
	assert_true(cb.span_end_ns - cb.span_start_ns >= 2 * MS);
	assert_int_equal(ls_probe_shm__thread(p, TID, &th), 0);
	assert_true(th.present);
	assert_int_equal(th.awaits, 2);
	ls_probe_shm__free(p);
}

/* What a callback's entry says about its watcher, from revents and the watcher itself. */
static void watcher_type_and_arg(void **state)
{
	ev_timer t;
	ev_io io;
	uint64_t ival = 1;

	(void)state;
	assert_int_equal(lpi_watcher_of(EV_READ), LPS_W_IO);
	assert_int_equal(lpi_watcher_of(EV_WRITE | EV_READ), LPS_W_IO);
	assert_int_equal(lpi_watcher_of(EV_TIMER), LPS_W_TIMER);
	assert_int_equal(lpi_watcher_of(EV_SIGNAL), LPS_W_SIGNAL);
	assert_int_equal(lpi_watcher_of(EV_IDLE), LPS_W_IDLE);
	assert_int_equal(lpi_watcher_of(EV_ASYNC), LPS_W_ASYNC);
	assert_int_equal(lpi_watcher_of(EV_CUSTOM), LPS_W_CUSTOM);
	ev_io_init(&io, NULL, 7, EV_READ);
	assert_int_equal(lpi_watcher_arg(&io, LPS_W_IO, &ival, 1e9), 7);
	assert_int_equal(ival, 0);
	ev_timer_init(&t, NULL, 1., 0.25);
	assert_int_equal(lpi_watcher_arg(&t, LPS_W_TIMER, &ival, 1e9), -1);
	assert_int_equal(ival, 250 * MS);
	ev_timer_init(&t, NULL, 1., 0.);
	lpi_watcher_arg(&t, LPS_W_TIMER, &ival, 1e9);
	assert_int_equal(ival, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(region_file_is_private),
	    cmocka_unit_test(wrap_around),
	    cmocka_unit_test(running_and_overwritten),
	    cmocka_unit_test(symbols),
	    cmocka_unit_test(stall_log),
	    cmocka_unit_test(await_spans),
	    cmocka_unit_test(watcher_type_and_arg),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
