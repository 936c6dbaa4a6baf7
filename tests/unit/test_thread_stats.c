// SPDX-License-Identifier: BSD-2-Clause
/* thread_stats.c: the counter ledger the summary, `top` and loopstalld take deltas with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "thread_stats.h"

/* ls_thread_stats carries a 482-bucket histogram: keep it off the stack */
static struct ls_thread_stats *stats_new(uint32_t tid, uint64_t first_seen, uint64_t n)
{
	struct ls_thread_stats *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->pid = 1;
	t->tid = tid;
	t->first_seen_ns = first_seen;
	t->iterations = n;
	t->busy_ns = 2 * n;
	t->stalls = n / 10;
	t->hist[3] = (uint32_t)n;
	return t;
}

static void test_take(void **state)
{
	struct ls_ledger *l = calloc(1, sizeof(*l)), *d = calloc(1, sizeof(*d));
	struct ls_thread_stats *t = stats_new(7, 100, 50);

	(void)state;
	assert_non_null(l);
	assert_non_null(d);
	/* the first take is everything */
	ls_ledger_start(l, t);
	ls_ledger_take(l, t, d);
	assert_int_equal(d->tid, 7);
	assert_int_equal(d->iterations, 50);
	assert_int_equal(d->busy_ns, 100);
	assert_int_equal(d->stalls, 5);
	assert_int_equal(d->hist[3], 50);

	/* then only what came since */
	t->iterations = 80;
	t->busy_ns = 160;
	t->stalls = 8;
	t->hist[3] = 70;
	t->hist[4] = 10;
	ls_ledger_take(l, t, d);
	assert_int_equal(d->iterations, 30);
	assert_int_equal(d->busy_ns, 60);
	assert_int_equal(d->stalls, 3);
	assert_int_equal(d->hist[3], 20);
	assert_int_equal(d->hist[4], 10);

	/* a torn read below the last take counts nothing, never a wrapped difference */
	t->iterations = 79;
	t->hist[3] = 69;
	ls_ledger_take(l, t, d);
	assert_int_equal(d->iterations, 0);
	assert_int_equal(d->hist[3], 0);
	assert_int_equal(l->iterations, 79);
	free(t);
	free(l);
	free(d);
}

static void test_same_thread(void **state)
{
	struct ls_thread_stats *t = stats_new(7, 100, 1);

	(void)state;
	assert_true(ls_ledger_same_thread(7, 100, t));
	/* the tid was reused by a thread that came later */
	assert_false(ls_ledger_same_thread(7, 90, t));
	assert_false(ls_ledger_same_thread(8, 100, t));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_same_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
