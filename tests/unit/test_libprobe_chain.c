// SPDX-License-Identifier: BSD-2-Clause
/*
 * libprobe chains with the hooks a program sets on its own loop (invoke
 * pending, release/acquire, userdata) and never replaces them: set before
 * or after lp_ev_attach, they keep being called; after lp_ev_detach the
 * program's hooks are the loop's again. Source mode, real libev, no root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <lprobe_ev.h>
#include "loop.h"
#include "runtime.h"

static unsigned invokes, releases, acquires, ticks;
static int token;

static void user_invoke(struct ev_loop *loop)
{
	invokes++;
	ev_invoke_pending(loop);
}

static void user_release(struct ev_loop *loop)
{
	(void)loop;
	releases++;
}

static void user_acquire(struct ev_loop *loop)
{
	(void)loop;
	acquires++;
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	assert_ptr_equal(ev_userdata(loop), &token);
	if (++ticks % 5 == 0)
		ev_break(loop, EVBREAK_ONE);
}

static void reset(void)
{
	invokes = releases = acquires = ticks = 0;
}

/* Run five ticks of a 1 ms timer. */
static void run_ticks(struct ev_loop *loop, ev_timer *t)
{
	ev_timer_init(t, on_tick, 0.001, 0.001);
	ev_timer_start(loop, t);
	ev_run(loop, 0);
	ev_timer_stop(loop, t);
}

static uint64_t timed_callbacks(struct ev_loop *loop)
{
	struct lpi_loop *l = lpi_loop_find(loop);

	return l ? l->slot->callbacks : 0;
}

static void check_chained(struct ev_loop *loop)
{
	struct lpi_loop *l = lpi_loop_find(loop);

	assert_non_null(l);
	assert_true(invokes >= 5);
	assert_true(releases >= 5 && acquires >= 5);
	assert_true(timed_callbacks(loop) >= 5);
	/* libprobe's own hooks measured the iterations around the program's (the last is cut by
	 * ev_break) */
	assert_true(l->slot->iterations >= 4);
	assert_true(l->slot->poll_ns > 0);
}

static void hooks_set_before_attach(void **state)
{
	struct ev_loop *loop = ev_loop_new(0);
	ev_timer t;

	(void)state;
	reset();
	ev_set_userdata(loop, &token);
	ev_set_invoke_pending_cb(loop, user_invoke);
	ev_set_loop_release_cb(loop, user_release, user_acquire);
	assert_int_equal(lp_ev_attach(loop), 0);
	run_ticks(loop, &t);
	check_chained(loop);
	ev_loop_destroy(loop);
}

static void hooks_set_after_attach(void **state)
{
	struct ev_loop *loop = ev_loop_new(0);
	ev_timer t;

	(void)state;
	reset();
	assert_int_equal(lp_ev_attach(loop), 0);
	ev_set_userdata(loop, &token);
	ev_set_invoke_pending_cb(loop, user_invoke);
	ev_set_loop_release_cb(loop, user_release, user_acquire);
	run_ticks(loop, &t);
	check_chained(loop);
	ev_loop_destroy(loop);
}

static void detach_gives_hooks_back(void **state)
{
	struct ev_loop *loop = ev_loop_new(0);
	uint64_t timed;
	ev_timer t;

	(void)state;
	reset();
	assert_int_equal(lp_ev_attach(loop), 0);
	ev_set_userdata(loop, &token);
	ev_set_invoke_pending_cb(loop, user_invoke);
	ev_set_loop_release_cb(loop, user_release, user_acquire);
	run_ticks(loop, &t);
	timed = timed_callbacks(loop);
	lp_ev_detach(loop);
	assert_null(lpi_loop_find(loop));
	reset();
	run_ticks(loop, &t);
	/* the program's hooks, not libprobe's */
	assert_true(invokes >= 5 && releases >= 5 && acquires >= 5);
	/* attached again: chained again, the program's hooks remembered */
	assert_int_equal(lp_ev_attach(loop), 0);
	reset();
	run_ticks(loop, &t);
	check_chained(loop);
	assert_true(timed >= 5);
	ev_loop_destroy(loop);
}

static void default_invoke_restored(void **state)
{
	struct ev_loop *loop = ev_loop_new(0);
	ev_timer t;

	(void)state;
	reset();
	assert_int_equal(lp_ev_attach(loop), 0);
	ev_set_userdata(loop, &token);
	ev_set_invoke_pending_cb(loop, user_invoke);
	/* the program goes back to libev's default: libprobe keeps timing */
	ev_set_invoke_pending_cb(loop, ev_invoke_pending);
	ev_set_loop_release_cb(loop, NULL, NULL);
	run_ticks(loop, &t);
	assert_int_equal(invokes, 0);
	assert_int_equal(releases, 0);
	assert_true(timed_callbacks(loop) >= 5);
	ev_loop_destroy(loop);
}

static void on_block_then_stop(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct timespec t = {0, 70000000};

	(void)w;
	(void)revents;
	nanosleep(&t, NULL);
	ev_break(loop, EVBREAK_ALL);
}

/* A loop stopped right after a long callback: the stall ends where ev_run returns. */
static void stall_at_loop_stop(void **state)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct lpi_loop *l;
	ev_timer t;

	(void)state;
	assert_int_equal(lp_ev_attach(loop), 0);
	l = lpi_loop_find(loop);
	ev_timer_init(&t, on_block_then_stop, 0.001, 0.);
	ev_timer_start(loop, &t);
	ev_run(loop, 0);
	assert_int_equal(l->slot->stalls, 1);
	assert_int_equal(l->slot->stall_head, 1);
	assert_int_equal(l->slot->stall_ring[0].cb_key, (uintptr_t)on_block_then_stop);
	assert_int_equal(l->slot->busy_start_ns, 0);
	ev_loop_destroy(loop);
}

static void heartbeat_does_not_keep_loop_alive(void **state)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct lpi_loop *l;

	(void)state;
	assert_int_equal(lp_ev_attach(loop), 0);
	l = lpi_loop_find(loop);
	assert_int_equal(l->hb_interval_ns, lp_heartbeat_ms() * 1000000ull);
	/* nothing of the program's is active: ev_run returns at once */
	assert_int_equal(ev_run(loop, 0), 0);
	ev_loop_destroy(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hooks_set_before_attach),
	    cmocka_unit_test(hooks_set_after_attach),
	    cmocka_unit_test(detach_gives_hooks_back),
	    cmocka_unit_test(default_invoke_restored),
	    cmocka_unit_test(stall_at_loop_stop),
	    cmocka_unit_test(heartbeat_does_not_keep_loop_alive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
