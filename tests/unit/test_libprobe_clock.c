// SPDX-License-Identifier: BSD-2-Clause
/*
 * libprobe's clock (libprobe/src/clock.c): when loop threads refit the TSC
 * line, and the fit's slope. The refits run on the loops' own threads at
 * the start of an iteration, so the schedule decides how often an
 * iteration pays for one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "clock.h"

#define MS 1000000ull

static void schedule_backs_off_to_once_a_second(void **state)
{
	struct lpi_clock_sched s = {0, 0};
	uint64_t t = 5 * MS;

	(void)state;
	/* the first iteration refits at once */
	assert_true(lpi_clock_sched_due(&s, t));
	assert_int_equal(s.next_ns, t + 20 * MS);
	/* not again before it is due, however often asked */
	assert_false(lpi_clock_sched_due(&s, t + 1));
	assert_false(lpi_clock_sched_due(&s, t + 20 * MS - 1));
	t += 20 * MS;
	assert_true(lpi_clock_sched_due(&s, t));
	assert_int_equal(s.next_ns, t + 80 * MS);
	t += 80 * MS;
	assert_true(lpi_clock_sched_due(&s, t));
	assert_int_equal(s.next_ns, t + 320 * MS);
	t += 320 * MS;
	assert_true(lpi_clock_sched_due(&s, t));
	assert_int_equal(s.next_ns, t + 1000 * MS);
	t += 1000 * MS;
	assert_true(lpi_clock_sched_due(&s, t));
	assert_int_equal(s.next_ns, t + 1000 * MS);
}

static void schedule_counts_from_when_it_was_asked(void **state)
{
	struct lpi_clock_sched s = {0, 0};

	(void)state;
	assert_true(lpi_clock_sched_due(&s, 0));
	/* a loop that slept in its poll for a minute refits once, then waits a full step */
	assert_true(lpi_clock_sched_due(&s, 60000 * MS));
	assert_int_equal(s.next_ns, 60000 * MS + 80 * MS);
	assert_false(lpi_clock_sched_due(&s, 60000 * MS + 79 * MS));
}

static void slope(void **state)
{
	struct lpi_clock_sample a = {1000000, 0}, b;

	(void)state;
	/* 2 GHz: half a ns per tick, 2^31 in 32.32 */
	b = (struct lpi_clock_sample){a.tsc + 40000000, a.ns + 20 * MS};
	assert_int_equal(lpi_clock_mult(&a, &b), 1ull << 31);
	/* too close together for a slope */
	b = (struct lpi_clock_sample){a.tsc + 2000000, a.ns + 1 * MS};
	assert_int_equal(lpi_clock_mult(&a, &b), 0);
	/* backwards, or a frequency no CPU has (1 THz) */
	b = (struct lpi_clock_sample){a.tsc - 1, a.ns + 20 * MS};
	assert_int_equal(lpi_clock_mult(&a, &b), 0);
	b = (struct lpi_clock_sample){a.tsc + 20000000000ull, a.ns + 20 * MS};
	assert_int_equal(lpi_clock_mult(&a, &b), 0);
}

static void tick_without_tsc_never_comes_back(void **state)
{
	(void)state;
	/* lpi_clock_init was not called: no TSC to fit, loops never ask again */
	assert_int_equal(lpi_clock_tick(123), UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(schedule_backs_off_to_once_a_second),
	    cmocka_unit_test(schedule_counts_from_when_it_was_asked),
	    cmocka_unit_test(slope),
	    cmocka_unit_test(tick_without_tsc_never_comes_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
