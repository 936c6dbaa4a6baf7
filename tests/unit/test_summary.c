// SPDX-License-Identifier: BSD-2-Clause
/* summary.c: per-thread totals for the run, built from BPF's cumulative counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include "summary.h"

#define MS 1000000ull
#define T0 (1000 * MS)

static const char comm[16] = "loop";

/* ls_thread_stats carries a 482-bucket histogram: keep it off the stack */
static struct ls_thread_stats *thread_new(uint32_t pid, uint32_t tid, uint64_t iterations,
				    uint64_t busy_ns)
{
	struct ls_thread_stats *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->pid = pid;
	t->tid = tid;
	t->first_seen_ns = T0;
	t->iterations = iterations;
	t->busy_ns = busy_ns;
	t->max_busy_ns = 10 * MS;
	t->hist[lt_hist_bucket(2 * MS)] = (uint32_t)iterations;
	return t;
}

static void test_live_thread_replaced(void **state)
{
	struct ls_run_summary sum;
	struct ls_thread_stats *t = thread_new(10, 11, 100, 200 * MS);
	struct ls_thread_summary *ts;

	(void)state;
	memset(&sum, 0, sizeof(sum));
	ts = ls_summary_update(&sum, t, comm, T0 + 1000 * MS, false);
	assert_non_null(ts);
	assert_int_equal(sum.n_threads, 1);
	assert_int_equal(ts->iterations, 100);
	assert_int_equal(ts->hist.total, 100);

	/* the counters are cumulative: a later snapshot replaces, never adds */
	t->iterations = 250;
	t->busy_ns = 500 * MS;
	t->stalls = 2;
	t->max_busy_ns = 80 * MS;
	t->hist[lt_hist_bucket(2 * MS)] = 248;
	t->hist[lt_hist_bucket(80 * MS)] = 2;
	ts = ls_summary_update(&sum, t, comm, T0 + 2000 * MS, false);
	assert_non_null(ts);
	assert_int_equal(sum.n_threads, 1);
	assert_ptr_equal(ts, &sum.threads[0]);
	assert_int_equal(ts->pid, 10);
	assert_int_equal(ts->tid, 11);
	assert_string_equal(ts->comm, "loop");
	assert_false(ts->exited);
	assert_int_equal(ts->iterations, 250);
	assert_int_equal(ts->busy_ns, 500 * MS);
	assert_int_equal(ts->stalls, 2);
	assert_int_equal(ts->max_busy_ns, 80 * MS);
	assert_int_equal(ts->first_seen_ns, T0);
	assert_int_equal(ts->last_ns, T0 + 2000 * MS);
	assert_int_equal(ts->hist.total, 250);
	assert_int_equal(ts->hist.counts[lt_hist_bucket(2 * MS)], 248);
	assert_int_equal(ts->hist.max_ns, 80 * MS);

	ls_summary_free(&sum);
	free(t);
}

static void test_tid_reuse(void **state)
{
	struct ls_run_summary sum;
	struct ls_thread_stats *old = thread_new(10, 11, 100, 200 * MS);
	struct ls_thread_stats *young = thread_new(10, 11, 5, 1 * MS);

	(void)state;
	memset(&sum, 0, sizeof(sum));
	assert_non_null(ls_summary_update(&sum, old, comm, T0 + 500 * MS, false));
	/* its exit record replaces the live snapshot, marked exited */
	assert_non_null(ls_summary_update(&sum, old, comm, T0 + 1000 * MS, true));
	assert_int_equal(sum.n_threads, 1);
	assert_true(sum.threads[0].exited);

	/* a new thread that got the same tid is a second entry */
	young->first_seen_ns = T0 + 2000 * MS;
	assert_non_null(ls_summary_update(&sum, young, comm, T0 + 3000 * MS, false));
	assert_int_equal(sum.n_threads, 2);
	assert_int_equal(sum.threads[0].iterations, 100);
	assert_true(sum.threads[0].exited);
	assert_int_equal(sum.threads[1].iterations, 5);
	assert_false(sum.threads[1].exited);

	/* and later snapshots update the live one, not the exited one */
	young->iterations = 9;
	assert_non_null(ls_summary_update(&sum, young, comm, T0 + 4000 * MS, false));
	assert_int_equal(sum.n_threads, 2);
	assert_int_equal(sum.threads[0].iterations, 100);
	assert_int_equal(sum.threads[1].iterations, 9);

	/* the same tid in another process is another thread */
	old->pid = 20;
	assert_non_null(ls_summary_update(&sum, old, comm, T0 + 4000 * MS, false));
	assert_int_equal(sum.n_threads, 3);

	ls_summary_free(&sum);
	free(old);
	free(young);
}

static void test_many_threads(void **state)
{
	struct ls_run_summary sum;
	struct ls_thread_stats *t = thread_new(10, 0, 1, 1 * MS);
	unsigned i;

	(void)state;
	memset(&sum, 0, sizeof(sum));
	/* past the initial capacity: entries survive the reallocation */
	for (i = 0; i < 100; i++) {
		t->tid = 1000 + i;
		t->iterations = i;
		assert_non_null(ls_summary_update(&sum, t, comm, T0 + MS, false));
	}
	assert_int_equal(sum.n_threads, 100);
	assert_true(sum.cap_threads >= 100);
	for (i = 0; i < 100; i++) {
		assert_int_equal(sum.threads[i].tid, 1000 + i);
		assert_int_equal(sum.threads[i].iterations, i);
	}
	ls_summary_free(&sum);
	assert_null(sum.threads);
	assert_int_equal(sum.n_threads, 0);
	assert_int_equal(sum.cap_threads, 0);
	/* NULL-safe, and safe twice */
	ls_summary_free(&sum);
	ls_summary_free(NULL);
	free(t);
}

static void test_busy_ratio(void **state)
{
	struct ls_thread_summary ts;

	(void)state;
	memset(&ts, 0, sizeof(ts));
	ts.first_seen_ns = T0;
	ts.last_ns = T0 + 1000 * MS;
	ts.busy_ns = 250 * MS;
	assert_true(ls_thread_busy_ratio(&ts) == 0.25);
	ts.busy_ns = 0;
	assert_true(ls_thread_busy_ratio(&ts) == 0.0);
	/* busy periods that straddle the snapshot can exceed the span */
	ts.busy_ns = 1500 * MS;
	assert_true(ls_thread_busy_ratio(&ts) == 1.0);
	/* no span yet, or clocks out of order */
	ts.last_ns = T0;
	assert_true(ls_thread_busy_ratio(&ts) == 0.0);
	ts.last_ns = T0 - 1;
	assert_true(ls_thread_busy_ratio(&ts) == 0.0);
}

static void test_short_comm(void **state)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct ls_run_summary sum;
	struct ls_thread_stats *t = thread_new(10, 11, 1, 1 * MS);
	char *map, *short_comm;

	(void)state;
	/* "py" right before an unreadable page: comm is a C string, not 16 bytes */
	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + page, page, PROT_NONE), 0);
	short_comm = map + page - 3;
	memcpy(short_comm, "py", 3);
	memset(&sum, 0, sizeof(sum));
	assert_non_null(ls_summary_update(&sum, t, short_comm, T0 + MS, false));
	assert_string_equal(sum.threads[0].comm, "py");
	ls_summary_free(&sum);
	munmap(map, 2 * page);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_thread_replaced),
		cmocka_unit_test(test_tid_reuse),
		cmocka_unit_test(test_many_threads),
		cmocka_unit_test(test_busy_ratio),
		cmocka_unit_test(test_short_comm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
