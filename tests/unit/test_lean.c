// SPDX-License-Identifier: BSD-2-Clause
/* lean.c: when a loop thread's context-switch event is closed, and when it is followed again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "lean.h"

#define MS 1000000ull
#define S 1000000000ull
#define THR (50 * MS)

static void test_follow_line(void **state)
{
	(void)state;
	/* a tenth of the threshold, within 1..5 ms */
	assert_int_equal(ls_lean_follow_ns(50 * MS), 5 * MS);
	assert_int_equal(ls_lean_follow_ns(20 * MS), 2 * MS);
	assert_int_equal(ls_lean_follow_ns(5 * MS), 1 * MS);
	assert_int_equal(ls_lean_follow_ns(10 * S), 5 * MS);
}

/* A whole window at the rate, no long period: lean. The first call only marks. */
static void test_fast_loop_goes_lean(void **state)
{
	struct ls_lean l = {0};

	(void)state;
	assert_false(ls_lean_due(&l, 10 * S, 1000, 0, THR));
	/* half a window: not yet, whatever the count */
	assert_false(ls_lean_due(&l, 10 * S + S / 2, 1000000, 0, THR));
	assert_true(ls_lean_due(&l, 11 * S, 1000 + LS_LEAN_MIN_RATE, 0, THR));
	/* the window starts over: the next answer needs a whole window again */
	assert_false(ls_lean_due(&l, 11 * S + S / 2, 1000000, 0, THR));
}

static void test_slow_loop_stays(void **state)
{
	struct ls_lean l = {0};

	(void)state;
	assert_false(ls_lean_due(&l, 10 * S, 0, 0, THR));
	/* one iteration short of the rate over two seconds */
	assert_false(ls_lean_due(&l, 12 * S, 2 * LS_LEAN_MIN_RATE - 1, 0, THR));
	/* the window restarted at the last call: the next one is judged on its own */
	assert_true(ls_lean_due(&l, 13 * S, 3 * LS_LEAN_MIN_RATE, 0, THR));
}

/* A period that reached the follow line keeps the thread followed for LS_LEAN_HOLD_NS. */
static void test_hold_after_long_period(void **state)
{
	struct ls_lean l = {0};
	uint64_t t = 10 * S;

	(void)state;
	assert_false(ls_lean_due(&l, t, 0, 0, THR));
	/* seen by the scan just short of the line, then on it */
	ls_lean_busy(&l, t + S / 2, ls_lean_follow_ns(THR) - 1, THR);
	assert_int_equal(l.long_ns, 0);
	ls_lean_busy(&l, t + S / 2, ls_lean_follow_ns(THR), THR);
	assert_int_equal(l.long_ns, t + S / 2);
	assert_false(ls_lean_due(&l, t + S, 100000, 0, THR));
	assert_false(ls_lean_due(&l, t + S / 2 + LS_LEAN_HOLD_NS - 1, 10000000, 0, THR));
	assert_true(ls_lean_due(&l, t + 3 * S + LS_LEAN_HOLD_NS, 100000000, 0, THR));
}

/* A period running long when the check comes counts as long: not now. */
static void test_not_in_a_long_period(void **state)
{
	struct ls_lean l = {0};

	(void)state;
	assert_false(ls_lean_due(&l, 10 * S, 0, 0, THR));
	assert_false(ls_lean_due(&l, 11 * S, 100000, 6 * MS, THR));
	assert_int_equal(l.long_ns, 11 * S);
}

/* Below LS_LEAN_MIN_THRESHOLD_NS the estimates' error could reach the threshold. */
static void test_low_threshold_never(void **state)
{
	struct ls_lean l = {0};

	(void)state;
	assert_false(ls_lean_due(&l, 10 * S, 0, 0, LS_LEAN_MIN_THRESHOLD_NS - 1));
	assert_false(ls_lean_due(&l, 11 * S, 1000000, 0, LS_LEAN_MIN_THRESHOLD_NS - 1));
	assert_true(ls_lean_due(&l, 12 * S, 2000000, 0, LS_LEAN_MIN_THRESHOLD_NS));
}

/* A count that went back (a reused `live` entry) or a clock that did restarts the window. */
static void test_restart(void **state)
{
	struct ls_lean l = {0};

	(void)state;
	assert_false(ls_lean_due(&l, 10 * S, 500000, 0, THR));
	assert_false(ls_lean_due(&l, 12 * S, 10, 0, THR));
	assert_int_equal(l.mark_iterations, 10);
	assert_false(ls_lean_due(&l, 11 * S, 1000000, 0, THR));
	assert_int_equal(l.mark_ns, 11 * S);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_follow_line),
	    cmocka_unit_test(test_fast_loop_goes_lean),
	    cmocka_unit_test(test_slow_loop_stays),
	    cmocka_unit_test(test_hold_after_long_period),
	    cmocka_unit_test(test_not_in_a_long_period),
	    cmocka_unit_test(test_low_threshold_never),
	    cmocka_unit_test(test_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
