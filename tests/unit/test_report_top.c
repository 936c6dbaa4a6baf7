// SPDX-License-Identifier: BSD-2-Clause
/* top_stats.c, top_args.c and status_line.c: what `top` and `record` show live. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "status_line.h"
#include "top_args.h"
#include "top_stats.h"

#define MS 1000000ull
#define S 1000000000ull

static void thread_at(struct ls_thread_stats *t, uint64_t iterations, uint64_t busy_ns,
		      uint32_t short_periods, uint64_t running_since)
{
	memset(t, 0, sizeof(*t));
	t->pid = 10;
	t->tid = 11;
	t->iterations = iterations;
	t->busy_ns = busy_ns;
	t->hist[lt_hist_bucket(100000)] = short_periods; /* 0.1 ms each */
	t->busy_start_ns = running_since;
}

static void test_rates_and_stall(void **state)
{
	struct top_stats *ts = top_stats__new(50 * MS);
	struct ls_frame frames[] = {
		{ .symbol = "clock_nanosleep", .module = "/lib/x86_64-linux-gnu/libc.so.6" },
		{ .symbol = "read_config", .module = "/usr/bin/svc" },
	};
	struct ls_stall s = { .pid = 10, .tid = 11, .comm = "svc", .start_ns = 1900 * MS,
			      .end_ns = 2200 * MS, .cause = LS_CAUSE_BLOCKING_SYSCALL,
			      .n_syscalls = 1 };
	const struct top_thread *t;
	const struct top_stall *last;
	struct ls_thread_stats lt;

	(void)state;
	assert_non_null(ts);
	thread_at(&lt, 100, 10 * MS, 100, 0);
	top_stats__begin(ts, 1 * S);
	assert_int_equal(top_stats__thread(ts, &lt, "svc"), 0);
	top_stats__end(ts);
	t = top_stats__thread_at(ts, 0);
	assert_false(t->rated);

	/* a second later: 100 more iterations, and a busy period running for 100 ms */
	thread_at(&lt, 200, 20 * MS, 200, 1900 * MS);
	top_stats__begin(ts, 2 * S);
	assert_int_equal(top_stats__thread(ts, &lt, "svc"), 0);
	top_stats__end(ts);
	assert_int_equal(top_stats__n_threads(ts), 1);
	t = top_stats__thread_at(ts, 0);
	assert_true(t->rated);
	assert_true(t->iter_per_s > 99.9 && t->iter_per_s < 100.1);
	assert_true(t->busy_ratio > 0.109 && t->busy_ratio < 0.111);
	assert_true(t->p99_ns >= 90000 && t->p99_ns <= 110000);
	assert_string_equal(t->comm, "svc");

	/* over the threshold, the running period is a stall in progress */
	assert_int_equal(top_stats__in_progress(ts, t, 2 * S), 100 * MS);
	assert_true(top_stats__stalled(ts, 2 * S));
	top_stats__stall_begin(ts, 11, 1900 * MS);
	assert_int_equal(top_stats__in_progress(ts, t, 2100 * MS), 200 * MS);

	s.syscalls[0].name = "clock_nanosleep";
	s.syscalls[0].stack.n = 2;
	s.syscalls[0].stack.frames = frames;
	top_stats__stall(ts, &s);
	assert_int_equal(top_stats__in_progress(ts, t, 2300 * MS), 0);
	assert_int_equal(top_stats__n_stalls(ts), 1);
	last = top_stats__stall_at(ts, 0);
	assert_true(last->duration_ms == 300);
	assert_string_equal(last->cause, "blocking_syscall");
	assert_string_equal(last->what, "clock_nanosleep from read_config");

	/* a CPU stall in Python: the innermost Python frame, past the interpreter's own */
	{
		struct ls_frame py[] = {
			{ .symbol = "PyNumber_Add", .module = "/usr/lib/libpython3.12.so.1.0" },
			{ .symbol = "_PyEval_EvalFrameDefault",
			  .module = "/usr/lib/libpython3.12.so.1.0" },
			{ .symbol = "crunch", .file = "/srv/app.py", .line = 28,
			  .kind = LS_FRAME_PYTHON },
		};
		struct ls_cpu_stack cs = { .samples = 9, .stack = { .n = 3, .frames = py } };
		struct ls_stall c = { .pid = 10, .tid = 11, .comm = "svc", .start_ns = 2300 * MS,
				      .end_ns = 2400 * MS, .cause = LS_CAUSE_CPU,
				      .cpu_stacks = &cs, .n_cpu_stacks = 1 };

		top_stats__stall(ts, &c);
		assert_string_equal(top_stats__stall_at(ts, 0)->what, "on CPU in crunch");
		/* without Python frames: the interpreter's innermost frame, as before */
		cs.stack.n = 2;
		top_stats__stall(ts, &c);
		assert_string_equal(top_stats__stall_at(ts, 0)->what, "on CPU in PyNumber_Add");
	}

	/* a thread missing from a sample is gone */
	top_stats__begin(ts, 3 * S);
	top_stats__end(ts);
	assert_int_equal(top_stats__n_threads(ts), 0);
	assert_null(top_stats__thread_at(ts, 0));
	top_stats__free(ts);
	top_stats__free(NULL);
}

static void test_last_stalls_ring(void **state)
{
	struct top_stats *ts = top_stats__new(50 * MS);
	struct ls_stall s = { .tid = 1, .comm = "x", .cause = LS_CAUSE_CPU };
	unsigned i;

	(void)state;
	for (i = 1; i <= TOP_LAST_STALLS + 2; i++) {
		s.start_ns = i * S;
		s.end_ns = i * S + i * MS;
		top_stats__stall(ts, &s);
	}
	assert_int_equal(top_stats__n_stalls(ts), TOP_LAST_STALLS);
	/* newest first */
	assert_true(top_stats__stall_at(ts, 0)->duration_ms == TOP_LAST_STALLS + 2);
	assert_true(top_stats__stall_at(ts, TOP_LAST_STALLS - 1)->duration_ms == 3);
	assert_null(top_stats__stall_at(ts, TOP_LAST_STALLS));
	top_stats__free(ts);
}

/*
 * Four stalls of 71..250 ms among ~1,800 short iterations in 10 s: the p99
 * stays at the short periods, the max and the window's stall count say
 * what happened; ten samples later both have left the window.
 */
static void test_max_and_stalls_beside_p99(void **state)
{
	static const uint64_t stalls_ms[] = { 71, 250, 90, 120 };
	struct top_stats *ts = top_stats__new(50 * MS);
	const struct top_thread *t;
	struct ls_thread_stats lt;
	uint64_t iters = 0, n_stalls = 0;
	unsigned i;

	(void)state;
	assert_non_null(ts);
	for (i = 0; i < TOP_WINDOW; i++) {
		iters += 180;
		thread_at(&lt, iters, iters * 100000, (uint32_t)iters, 0);
		for (unsigned k = 0; k < n_stalls; k++)
			lt.hist[lt_hist_bucket(stalls_ms[k] * MS)]++;
		if (i >= 2 && i < 6) {
			uint64_t ms = stalls_ms[i - 2];
			struct ls_stall s = { .pid = 10, .tid = 11, .comm = "svc",
					      .start_ns = (i + 1) * S - ms * MS,
					      .end_ns = (i + 1) * S,
					      .cause = LS_CAUSE_CPU };

			n_stalls++;
			lt.hist[lt_hist_bucket(ms * MS)]++;
			lt.stalls = n_stalls;
			top_stats__begin(ts, (i + 1) * S);
			assert_int_equal(top_stats__thread(ts, &lt, "svc"), 0);
			top_stats__end(ts);
			/* its record comes after the sample that counted it */
			top_stats__stall(ts, &s);
			continue;
		}
		lt.stalls = n_stalls;
		top_stats__begin(ts, (i + 1) * S);
		assert_int_equal(top_stats__thread(ts, &lt, "svc"), 0);
		top_stats__end(ts);
	}
	t = top_stats__thread_at(ts, 0);
	assert_true(t->p99_ns < 1 * MS);
	assert_int_equal(t->max_ns, 250 * MS);
	assert_int_equal(t->window_stalls, 4);
	assert_int_equal(t->stalls, 4);

	/* ten quiet seconds later: the window holds none of them */
	for (i = TOP_WINDOW; i < 2 * TOP_WINDOW + 1; i++) {
		iters += 180;
		lt.iterations = iters;
		lt.hist[lt_hist_bucket(100000)] += 180;
		top_stats__begin(ts, (i + 1) * S);
		assert_int_equal(top_stats__thread(ts, &lt, "svc"), 0);
		top_stats__end(ts);
	}
	t = top_stats__thread_at(ts, 0);
	assert_int_equal(t->window_stalls, 0);
	assert_true(t->max_ns < 1 * MS);
	assert_int_equal(t->stalls, 4);
	top_stats__free(ts);
}

static void test_top_args(void **state)
{
	char *ok[] = { "top", "-p", "123", "--threshold", "100ms", NULL };
	char *none[] = { "top", NULL };
	char *bad_pid[] = { "top", "-p", "12x", NULL };
	char *extra[] = { "top", "-p", "1", "more", NULL };
	char *bad_dur[] = { "top", "-p", "1", "--threshold", "0", NULL };
	struct top_args a;
	char err[256];

	(void)state;
	assert_int_equal(top_args_parse(5, ok, &a, err, sizeof(err)), 0);
	assert_int_equal(a.pid, 123);
	assert_int_equal(a.threshold_ns, 100 * MS);
	assert_int_equal(top_args_parse(1, none, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "-p PID"));
	assert_int_equal(top_args_parse(3, bad_pid, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "invalid pid '12x'"));
	assert_int_equal(top_args_parse(4, extra, &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(top_args_parse(5, bad_dur, &a, err, sizeof(err)), -EINVAL);
}

static void test_status_line(void **state)
{
	char buf[128];
	FILE *f = tmpfile();

	(void)state;
	status_line_format(buf, sizeof(buf), 12345 * MS, 1, 0);
	assert_string_equal(buf, "recording 12.3 s, 1 stall, 0 events lost");
	status_line_format(buf, sizeof(buf), 0, 3, 1);
	assert_string_equal(buf, "recording 0.0 s, 3 stalls, 1 event lost");
	/* not a terminal: no status line, and the calls are harmless */
	assert_non_null(f);
	assert_null(status_line__new(f, 0));
	status_line__update(NULL, 1, 2, 3);
	status_line__free(NULL);
	fclose(f);
}

/* A new thread that got an exited one's tid starts with no rates, not a wrapped difference. */
static void test_tid_reuse(void **state)
{
	struct top_stats *ts = top_stats__new(50 * MS);
	const struct top_thread *t;
	struct ls_thread_stats lt;

	(void)state;
	assert_non_null(ts);
	thread_at(&lt, 1000, 100 * MS, 1000, 0);
	top_stats__begin(ts, 1 * S);
	assert_int_equal(top_stats__thread(ts, &lt, "old"), 0);
	top_stats__end(ts);
	thread_at(&lt, 10, 1 * MS, 10, 0);
	lt.first_seen_ns = 1500 * MS;
	top_stats__begin(ts, 2 * S);
	assert_int_equal(top_stats__thread(ts, &lt, "new"), 0);
	top_stats__end(ts);
	assert_int_equal(top_stats__n_threads(ts), 1);
	t = top_stats__thread_at(ts, 0);
	assert_false(t->rated);
	assert_true(t->iter_per_s == 0);
	/* its first sample's periods: ten of 0.1 ms */
	assert_true(t->p99_ns >= 90000 && t->p99_ns <= 110000);
	top_stats__free(ts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rates_and_stall),
		cmocka_unit_test(test_last_stalls_ring),
		cmocka_unit_test(test_max_and_stalls_beside_p99),
		cmocka_unit_test(test_tid_reuse),
		cmocka_unit_test(test_top_args),
		cmocka_unit_test(test_status_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
