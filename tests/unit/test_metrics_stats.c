// SPDX-License-Identifier: BSD-2-Clause
/*
 * loopstalld's totals (daemon/loopstalld_stats.c) as /metrics shows them:
 * stalls by cause, loop counters that stay monotonic when threads exit,
 * vanish or are replaced by a thread reusing their tid, and processes that
 * restart under the same name.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "loopstalld.h"

#define KEY(t) (&(const struct lsd_key){ .target = (t) })

#define MS 1000000ull

/* The value of one series of the exposition, -1 when it is missing. */
static double value(const struct lsd_stats *s, const char *series)
{
	struct lsd_self self = { .version = "test", .targets = 1 };
	struct ls_metrics *m;
	char *text, *line, *nl, *end;
	size_t len, n = strlen(series);
	double v = -1;

	assert_int_equal(ls_metrics__new(&m), 0);
	assert_int_equal(lsd_stats__export(s, &self, m), 0);
	assert_int_equal(ls_metrics__render(m, &text, &len), 0);
	/*
	 * By lengths, not strchr/strncmp: with a thousand targets the text is
	 * megabytes, and ASan's strict_string_checks measures the whole rest
	 * of it at every string call (.ci/sanitizers).
	 */
	end = text + len;
	for (line = text; line < end; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			nl = end;
		if ((size_t)(nl - line) > n && !memcmp(line, series, n) && line[n] == ' ')
			v = strtod(line + n + 1, NULL);
	}
	free(text);
	ls_metrics__free(m);
	return v;
}

static double iterations(const struct lsd_stats *s, const char *target)
{
	char series[128];

	snprintf(series, sizeof(series), "loopstall_loop_iterations_total{target=\"%s\",container_id=\"\",pod_uid=\"\"}", target);
	return value(s, series);
}

static double busy(const struct lsd_stats *s, const char *target)
{
	char series[128];

	snprintf(series, sizeof(series), "loopstall_loop_busy_seconds_total{target=\"%s\",container_id=\"\",pod_uid=\"\"}",
		 target);
	return value(s, series);
}

/* A thread that has done n iterations of 1 ms each. */
static void thread(struct ls_thread_stats *t, uint32_t pid, uint32_t tid, uint64_t first_seen,
		   uint64_t n)
{
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->tid = tid;
	t->first_seen_ns = first_seen;
	t->iterations = n;
	t->busy_ns = n * MS;
	t->hist[lt_hist_bucket(MS)] = (uint32_t)n;
}

static void snap(struct lsd_stats *s, uint64_t now, const struct ls_thread_stats *const *threads)
{
	lsd_stats__begin(s, now);
	for (; *threads; threads++)
		assert_int_equal(lsd_stats__thread(s, KEY("api"), *threads, 50 * MS), 0);
	assert_int_equal(lsd_stats__end(s), 0);
}

static void test_live_then_exit(void **state)
{
	struct lsd_stats *s;
	struct ls_thread_stats a, b;

	(void)state;
	assert_int_equal(lsd_stats__new(&s), 0);
	assert_int_equal(lsd_stats__target(s, KEY("api")), 0);
	/* the series exist from attach on */
	assert_true(iterations(s, "api") == 0);
	assert_true(value(s, "loopstall_stalls_total{target=\"api\",container_id=\"\",pod_uid=\"\",cause=\"cpu\"}") == 0);

	thread(&a, 10, 10, 1, 100);
	thread(&b, 10, 11, 2, 5);
	snap(s, 1000, (const struct ls_thread_stats *const[]){ &a, &b, NULL });
	assert_true(iterations(s, "api") == 105);
	assert_true(value(s, "loopstall_heartbeat_gap_seconds_count{target=\"api\",container_id=\"\",pod_uid=\"\"}") == 105);
	/*
	 * BPF's bucket for 1 ms is [0.983, 1.016) ms: it straddles le="0.001",
	 * so the conversion counts it in the next bucket up, never below
	 */
	assert_true(value(s, "loopstall_heartbeat_gap_seconds_bucket{target=\"api\",container_id=\"\",pod_uid=\"\",le=\"0.001\"}") ==
		    0);
	assert_true(value(s, "loopstall_heartbeat_gap_seconds_bucket{target=\"api\",container_id=\"\",pod_uid=\"\",le=\"0.0025\"}") ==
		    105);

	/* a exits with 20 more iterations than last seen: all of them count */
	thread(&a, 10, 10, 1, 120);
	assert_int_equal(lsd_stats__thread_exit(s, KEY("api"), &a), 0);
	assert_true(iterations(s, "api") == 125);
	snap(s, 2000, (const struct ls_thread_stats *const[]){ &b, NULL });
	assert_true(iterations(s, "api") == 125);
	assert_true(busy(s, "api") > 0.1249 && busy(s, "api") < 0.1251);
	lsd_stats__free(s);
}

static void test_vanished_then_exit_record(void **state)
{
	struct lsd_stats *s;
	struct ls_thread_stats a;

	(void)state;
	assert_int_equal(lsd_stats__new(&s), 0);
	thread(&a, 10, 10, 1, 100);
	snap(s, 1000, (const struct ls_thread_stats *const[]){ &a, NULL });
	/* BPF dropped it before its exit record was read: the last snapshot stays */
	snap(s, 2000, (const struct ls_thread_stats *const[]){ NULL });
	assert_true(iterations(s, "api") == 100);
	/* the record brings the rest, once */
	thread(&a, 10, 10, 1, 130);
	assert_int_equal(lsd_stats__thread_exit(s, KEY("api"), &a), 0);
	assert_true(iterations(s, "api") == 130);
	assert_int_equal(lsd_stats__thread_exit(s, KEY("api"), &a), 0);
	assert_true(iterations(s, "api") == 130);
	/* a thread that lived and died between two snapshots */
	thread(&a, 10, 12, 5, 7);
	assert_int_equal(lsd_stats__thread_exit(s, KEY("api"), &a), 0);
	assert_true(iterations(s, "api") == 137);
	lsd_stats__free(s);
}

static void test_tid_reuse_and_restart(void **state)
{
	struct lsd_stats *s;
	struct ls_thread_stats a;
	double last;
	int round;

	(void)state;
	assert_int_equal(lsd_stats__new(&s), 0);
	thread(&a, 10, 10, 1, 50);
	snap(s, 1000, (const struct ls_thread_stats *const[]){ &a, NULL });
	/* same tid, another thread (first seen later), fewer iterations */
	thread(&a, 77, 10, 9000, 3);
	snap(s, 10000, (const struct ls_thread_stats *const[]){ &a, NULL });
	assert_true(iterations(s, "api") == 53);

	/* the process restarts again and again under one name: never a step down */
	last = iterations(s, "api");
	for (round = 0; round < 5; round++) {
		uint32_t pid = 100 + (uint32_t)round;

		thread(&a, pid, pid, 20000 + (uint64_t)round, 1);
		snap(s, 20000 + (uint64_t)round * 10, (const struct ls_thread_stats *const[]){ &a, NULL });
		assert_true(iterations(s, "api") >= last);
		last = iterations(s, "api");
		thread(&a, pid, pid, 20000 + (uint64_t)round, 10);
		snap(s, 20005 + (uint64_t)round * 10, (const struct ls_thread_stats *const[]){ &a, NULL });
		assert_true(iterations(s, "api") >= last);
		last = iterations(s, "api");
		assert_int_equal(lsd_stats__thread_exit(s, KEY("api"), &a), 0);
		assert_true(iterations(s, "api") >= last);
		last = iterations(s, "api");
	}
	assert_true(last == 53 + 5 * 10);
	lsd_stats__free(s);
}

static void stall(struct ls_stall *st, enum ls_cause cause, uint64_t dur_ns, const char *syscall,
		  uint64_t sys_ns)
{
	memset(st, 0, sizeof(*st));
	st->pid = 10;
	st->tid = 10;
	st->start_ns = 1000 * MS;
	st->end_ns = st->start_ns + dur_ns;
	st->threshold_ns = 50 * MS;
	st->cause = cause;
	if (syscall) {
		st->n_syscalls = 1;
		st->syscalls[0].nr = 230;
		st->syscalls[0].fd = -1;
		st->syscalls[0].name = syscall;
		st->syscalls[0].count = 1;
		st->syscalls[0].total_ns = sys_ns;
		st->syscalls[0].max_ns = sys_ns;
	}
}

static void test_stalls(void **state)
{
	struct lsd_stats *s;
	struct ls_stall st;

	(void)state;
	assert_int_equal(lsd_stats__new(&s), 0);
	stall(&st, LS_CAUSE_BLOCKING_SYSCALL, 300 * MS, "clock_nanosleep", 299 * MS);
	assert_int_equal(lsd_stats__stall(s, KEY("web"), &st), 0);
	stall(&st, LS_CAUSE_BLOCKING_SYSCALL, 1000 * MS, "clock_nanosleep", 1000 * MS);
	assert_int_equal(lsd_stats__stall(s, KEY("web"), &st), 0);
	stall(&st, LS_CAUSE_CPU, 60 * MS, NULL, 0);
	assert_int_equal(lsd_stats__stall(s, KEY("web"), &st), 0);
	stall(&st, LS_CAUSE_COUNT, 60 * MS, NULL, 0);
	assert_int_equal(lsd_stats__stall(s, KEY("web"), &st), 0);

	assert_true(value(s, "loopstall_stalls_total{target=\"web\",container_id=\"\",pod_uid=\"\",cause=\"blocking_syscall\"}") ==
		    2);
	assert_true(value(s, "loopstall_stalls_total{target=\"web\",container_id=\"\",pod_uid=\"\",cause=\"cpu\"}") == 1);
	/* a cause out of range is counted as unknown, not dropped */
	assert_true(value(s, "loopstall_stalls_total{target=\"web\",container_id=\"\",pod_uid=\"\",cause=\"unknown\"}") == 1);
	assert_true(value(s, "loopstall_stall_duration_seconds_bucket{target=\"web\",container_id=\"\",pod_uid=\"\",cause="
			     "\"blocking_syscall\",le=\"0.25\"}") == 0);
	assert_true(value(s, "loopstall_stall_duration_seconds_bucket{target=\"web\",container_id=\"\",pod_uid=\"\",cause="
			     "\"blocking_syscall\",le=\"0.5\"}") == 1);
	/* exactly 1 s is in le="1" */
	assert_true(value(s, "loopstall_stall_duration_seconds_bucket{target=\"web\",container_id=\"\",pod_uid=\"\",cause="
			     "\"blocking_syscall\",le=\"1\"}") == 2);
	assert_true(value(s, "loopstall_stall_duration_seconds_sum{target=\"web\",container_id=\"\",pod_uid=\"\",cause="
			     "\"blocking_syscall\"}") == 1.3);
	assert_true(value(s, "loopstall_blocking_syscall_seconds_total{target=\"web\",container_id=\"\",pod_uid=\"\",syscall="
			     "\"clock_nanosleep\"}") == 1.299);
	assert_true(value(s, "loopstall_lost_events_total") == 0);
	assert_true(value(s, "loopstall_build_info{version=\"test\"}") == 1);
	lsd_stats__free(s);
}

/* One target in two containers: two series, told apart by container_id and pod_uid; bounded. */
static void test_containers(void **state)
{
	static const char a_id[] = "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a";
	static const char b_id[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	static const char uid[] = "1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b";
	struct lsd_key a = { "py", a_id, uid }, b = { "py", b_id, NULL }, extra = { "py", NULL, uid };
	char series[320], label[16];
	struct lsd_stats *s;
	struct ls_stall st;
	unsigned i;

	(void)state;
	assert_int_equal(lsd_stats__new(&s), 0);
	stall(&st, LS_CAUSE_CPU, 60 * MS, NULL, 0);
	assert_int_equal(lsd_stats__stall(s, &a, &st), 0);
	assert_int_equal(lsd_stats__stall(s, &a, &st), 0);
	assert_int_equal(lsd_stats__stall(s, &b, &st), 0);
	snprintf(series, sizeof(series),
		 "loopstall_stalls_total{target=\"py\",container_id=\"%s\",pod_uid=\"%s\","
		 "cause=\"cpu\"}",
		 a_id, uid);
	assert_true(value(s, series) == 2);
	snprintf(series, sizeof(series),
		 "loopstall_stalls_total{target=\"py\",container_id=\"%s\",pod_uid=\"\","
		 "cause=\"cpu\"}",
		 b_id);
	assert_true(value(s, series) == 1);
	/* the target's series without a container is another one, and exists at zero */
	assert_int_equal(lsd_stats__target(s, KEY("py")), 0);
	assert_true(value(s, "loopstall_stalls_total{target=\"py\",container_id=\"\",pod_uid=\"\","
			     "cause=\"cpu\"}") == 0);
	/* past the bound, a new container's stalls go to its target's plain series */
	for (i = 0; i < LSD_SERIES_MAX; i++) {
		snprintf(label, sizeof(label), "t%u", i);
		assert_int_equal(lsd_stats__target(s, KEY(label)), 0);
	}
	assert_int_equal(lsd_stats__stall(s, &extra, &st), 0);
	assert_true(value(s, "loopstall_stalls_total{target=\"py\",container_id=\"\",pod_uid=\"\","
			     "cause=\"cpu\"}") == 1);
	snprintf(series, sizeof(series),
		 "loopstall_stalls_total{target=\"py\",container_id=\"\",pod_uid=\"%s\","
		 "cause=\"cpu\"}",
		 uid);
	assert_true(value(s, series) == -1);
	/* ...but a series that exists still counts */
	assert_int_equal(lsd_stats__stall(s, &b, &st), 0);
	snprintf(series, sizeof(series),
		 "loopstall_stalls_total{target=\"py\",container_id=\"%s\",pod_uid=\"\","
		 "cause=\"cpu\"}",
		 b_id);
	assert_true(value(s, series) == 2);
	lsd_stats__free(s);
}

static void test_in_progress(void **state)
{
	struct lsd_stats *s;
	struct ls_thread_stats a, b;

	(void)state;
	assert_int_equal(lsd_stats__new(&s), 0);
	thread(&a, 10, 10, 1, 10);
	thread(&b, 10, 11, 1, 10);
	/* a has been busy for 2 s, b for 10 ms: only a is a stall */
	a.busy_start_ns = 8000 * MS;
	b.busy_start_ns = 9990 * MS;
	snap(s, 10000 * MS, (const struct ls_thread_stats *const[]){ &a, &b, NULL });
	assert_true(value(s, "loopstall_stall_in_progress_seconds{target=\"api\",container_id=\"\",pod_uid=\"\"}") == 2);
	a.busy_start_ns = 0;
	snap(s, 10001 * MS, (const struct ls_thread_stats *const[]){ &a, &b, NULL });
	assert_true(value(s, "loopstall_stall_in_progress_seconds{target=\"api\",container_id=\"\",pod_uid=\"\"}") == 0);
	lsd_stats__free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_then_exit),
		cmocka_unit_test(test_containers),
		cmocka_unit_test(test_vanished_then_exit_record),
		cmocka_unit_test(test_tid_reuse_and_restart),
		cmocka_unit_test(test_stalls),
		cmocka_unit_test(test_in_progress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
