// SPDX-License-Identifier: BSD-2-Clause
/* clock.c: the CLOCK_MONOTONIC time base and its wall-clock translation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>
#include "clock.h"

#define SEC 1000000000ll

static int64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static void test_now_is_monotonic(void **state)
{
	uint64_t before, now, after, prev;
	unsigned i;

	(void)state;
	before = (uint64_t)read_ns(CLOCK_MONOTONIC);
	now = ls_now_ns();
	after = (uint64_t)read_ns(CLOCK_MONOTONIC);
	assert_true(before <= now && now <= after);
	prev = now;
	for (i = 0; i < 10000; i++) {
		now = ls_now_ns();
		assert_true(now >= prev);
		prev = now;
	}
}

static void test_unix_time(void **state)
{
	uint64_t mono = ls_now_ns();
	int64_t wall = read_ns(CLOCK_REALTIME), unix_ns = ls_mono_to_unix_ns(mono);

	(void)state;
	assert_true(unix_ns > wall - SEC && unix_ns < wall + SEC);
	/* one offset per run: stall_begin and stall agree on start_unix_ns */
	assert_int_equal(ls_mono_to_unix_ns(mono), unix_ns);
	assert_int_equal(ls_mono_to_unix_ns(mono + 1500), unix_ns + 1500);
	assert_int_equal(ls_mono_to_unix_ns(mono - 7 * SEC), unix_ns - 7 * SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_now_is_monotonic),
	    cmocka_unit_test(test_unix_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
