// SPDX-License-Identifier: BSD-2-Clause
/* aggregate.c: causes, durations, culprits by call site, folded stacks. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "aggregate.h"
#include "report_describe.h"

#define FRAME(sym, mod)                                                                            \
	"{\"addr\":\"0x1\",\"symbol\":" sym ",\"module\":\"" mod "\",\"file\":null,\"line\":null}"
#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
#define APP "/usr/bin/app"

/* A blocking stall in syscall `sys` on `target` (a JSON value), with a stack. */
static char *blocked(const char *comm, double ms, const char *sys, const char *target,
		     const char *stack)
{
	char *line;

	assert_true(
	    asprintf(&line,
		     "{\"type\":\"stall\",\"schema_version\":1,\"pid\":1,\"tid\":1,"
		     "\"comm\":\"%s\",\"start_unix_ns\":1000000000,\"end_unix_ns\":2000000000,"
		     "\"duration_ms\":%g,\"threshold_ms\":50,\"cause\":\"blocking_syscall\","
		     "\"on_cpu_ms\":0,\"off_cpu_ms\":%g,\"runqueue_ms\":0,"
		     "\"syscalls\":[{\"name\":\"%s\",\"count\":1,\"total_ms\":%g,"
		     "\"max_ms\":%g,\"target\":%s,\"stack\":[%s]}],\"cpu_stacks\":[],"
		     "\"callback\":null,\"advice\":\"\"}",
		     comm, ms, ms, sys, ms, ms, target, stack) > 0);
	return line;
}

/* A CPU stall whose samples are split over two stacks. */
static char *computing(const char *comm, double ms, const char *stack_a, unsigned samples_a,
		       const char *stack_b, unsigned samples_b)
{
	char *line;

	assert_true(
	    asprintf(&line,
		     "{\"type\":\"stall\",\"schema_version\":1,\"pid\":1,\"tid\":1,"
		     "\"comm\":\"%s\",\"duration_ms\":%g,\"threshold_ms\":50,\"cause\":\"cpu\","
		     "\"on_cpu_ms\":%g,\"off_cpu_ms\":0,\"runqueue_ms\":0,\"syscalls\":[],"
		     "\"cpu_stacks\":[{\"samples\":%u,\"stack\":[%s]},"
		     "{\"samples\":%u,\"stack\":[%s]}],\"callback\":null}",
		     comm, ms, ms, samples_a, stack_a, samples_b, stack_b) > 0);
	return line;
}

static struct recording *build(char **lines, size_t n)
{
	struct recording *rec = recording__new();
	struct rf_error err;
	size_t i;

	assert_non_null(rec);
	for (i = 0; i < n; i++) {
		assert_int_equal(
		    recording__add_line(rec, lines[i], strlen(lines[i]), (unsigned)i + 1, &err), 0);
		free(lines[i]);
	}
	return rec;
}

/* Without stacks, one row per process, cause, syscall and target. */
static void test_culprits_without_stacks(void **state)
{
	char *lines[] = {
	    blocked("app", 100, "clock_nanosleep", "null", ""),
	    blocked("app", 300, "clock_nanosleep", "null", ""),
	    blocked("app", 80, "recvfrom", "\"socket:TCP 10.0.0.1:41234->10.0.0.2:6379\"", ""),
	    blocked("app", 90, "recvfrom", "\"socket:TCP 10.0.0.1:45678->10.0.0.2:6379\"", ""),
	    blocked("app", 70, "read", "\"/var/data\"", ""),
	};
	struct recording *rec = build(lines, 5);
	struct aggregate *agg;

	(void)state;
	assert_int_equal(aggregate__new(rec, &agg), 0);
	assert_int_equal(agg->stalls, 5);
	/* ephemeral local ports differ per connection, not per call site */
	assert_int_equal(agg->n_culprits, 3);
	assert_string_equal(agg->culprits[0].syscall->name, "clock_nanosleep");
	assert_int_equal(agg->culprits[0].stalls, 2);
	assert_true(agg->culprits[0].total_ms == 400);
	assert_true(agg->culprits[0].max_ms == 300);
	assert_true(agg->culprits[0].worst->duration_ms == 300);
	assert_null(agg->culprits[0].site);
	assert_string_equal(agg->culprits[1].syscall->name, "recvfrom");
	assert_int_equal(agg->culprits[1].stalls, 2);
	assert_true(agg->culprits[1].syscall_ms == 170);
	assert_string_equal(agg->culprits[2].syscall->target, "/var/data");
	assert_true(agg->by_duration[0]->duration_ms == 300);
	assert_true(agg->by_duration[4]->duration_ms == 70);
	assert_int_equal(agg->n_causes, 1);
	assert_int_equal(agg->causes[0].stalls, 5);
	aggregate__free(agg);
	recording__free(rec);
}

/* With stacks, the innermost frames' symbols decide, whatever the syscall's target. */
static void test_culprits_by_stack(void **state)
{
	const char *site_a = FRAME("\"clock_nanosleep\"", LIBC) "," FRAME(
	    "\"usleep\"", LIBC) "," FRAME("\"read_config\"", APP) "," FRAME("\"main\"", APP);
	const char *site_b = FRAME("\"clock_nanosleep\"", LIBC) "," FRAME(
	    "\"usleep\"", LIBC) "," FRAME("\"write_backup\"", APP) "," FRAME("\"main\"", APP);
	char *lines[] = {
	    blocked("app", 100, "clock_nanosleep", "null", site_a),
	    blocked("app", 120, "clock_nanosleep", "null", site_b),
	    blocked("app", 110, "clock_nanosleep", "null", site_a),
	};
	struct recording *rec = build(lines, 3);
	struct aggregate *agg;

	(void)state;
	assert_int_equal(aggregate__new(rec, &agg), 0);
	assert_int_equal(agg->n_culprits, 2);
	assert_int_equal(agg->culprits[0].stalls, 2);
	assert_true(agg->culprits[0].total_ms == 210);
	/* the call site is past the C library */
	assert_non_null(agg->culprits[0].site);
	assert_string_equal(agg->culprits[0].site->symbol, "read_config");
	assert_string_equal(agg->culprits[1].site->symbol, "write_backup");
	assert_int_equal(agg->culprits[0].lang, AGG_LANG_C);
	aggregate__free(agg);
	recording__free(rec);
}

#define PYFRAME(sym, file, line)                                                                   \
	"{\"addr\":\"0x2\",\"symbol\":\"" sym "\",\"module\":null,\"file\":\"" file         \
	"\",\"line\":" #line ",\"kind\":\"python\"}"
#define PYLIB "/usr/lib/libpython3.12.so.1.0"
#define DYNLOAD "/usr/lib/python3.12/lib-dynload/_asyncio.cpython-312-x86_64-linux-gnu.so"

/*
 * Python frames name the culprit (the innermost one, past the interpreter's
 * native frames) and group it by file:line, whatever called it.
 */
static void test_culprits_python(void **state)
{
	/* fetch_user at app.py:16, called from two places */
	const char *from_handler = FRAME("\"clock_nanosleep\"", LIBC) "," FRAME(
	    "\"time_sleep\"", PYLIB) "," PYFRAME("fetch_user", "/srv/app.py", 16) "," FRAME(
	    "\"_PyEval_EvalFrameDefault\"", PYLIB) "," PYFRAME("handler", "/srv/app.py", 21) "," FRAME(
	    "\"task_step\"", DYNLOAD);
	const char *from_batch = FRAME("\"clock_nanosleep\"", LIBC) "," FRAME(
	    "\"time_sleep\"", PYLIB) "," PYFRAME("fetch_user", "/srv/app.py", 16) "," FRAME(
	    "\"_PyEval_EvalFrameDefault\"", PYLIB) "," PYFRAME("batch", "/srv/app.py", 40);
	/* the same function, another line */
	const char *other_line = FRAME("\"clock_nanosleep\"", LIBC) "," PYFRAME(
	    "fetch_user", "/srv/app.py", 18) "," PYFRAME("handler", "/srv/app.py", 21);
	/* a C extension called from Python: its own code is the user's, innermost */
	const char *extension = FRAME("\"read\"", LIBC) "," FRAME(
	    "\"slow_read\"", "/srv/_native.cpython-312-x86_64-linux-gnu.so") "," FRAME(
	    "\"cfunction_call\"", PYLIB) "," PYFRAME("load", "/srv/app.py", 7);
	char *lines[] = {
	    blocked("python3", 300, "clock_nanosleep", "null", from_handler),
	    blocked("python3", 200, "clock_nanosleep", "null", from_batch),
	    blocked("python3", 100, "clock_nanosleep", "null", other_line),
	    blocked("python3", 90, "read", "null", extension),
	};
	struct recording *rec = build(lines, 4);
	struct aggregate *agg;
	char where[512];
	size_t i;

	(void)state;
	assert_int_equal(aggregate__new(rec, &agg), 0);
	assert_int_equal(agg->n_culprits, 3);
	assert_int_equal(agg->culprits[0].stalls, 2);
	assert_true(agg->culprits[0].total_ms == 500);
	assert_string_equal(agg->culprits[0].site->symbol, "fetch_user");
	assert_int_equal(agg->culprits[0].site->kind, RF_KIND_PYTHON);
	assert_int_equal(agg->culprits[0].site->line, 16);
	assert_string_equal(report_where(&agg->culprits[0], where, sizeof(where)),
			    "fetch_user (app.py:16) in clock_nanosleep");
	assert_int_equal(agg->culprits[1].site->line, 18);
	assert_string_equal(agg->culprits[2].site->symbol, "slow_read");
	/* Python frames fold with their file and line */
	for (i = 0; i < agg->n_folded && !strstr(agg->folded[i].frames, "batch"); i++)
		;
	assert_true(i < agg->n_folded);
	assert_string_equal(agg->folded[i].frames,
			    "python3;batch (app.py:40);_PyEval_EvalFrameDefault;"
			    "fetch_user (app.py:16);time_sleep;clock_nanosleep");
	aggregate__free(agg);
	recording__free(rec);
}

static void test_durations_histogram(void **state)
{
	char *lines[] = {
	    blocked("app", 60, "nanosleep", "null", ""),
	    blocked("app", 99.9, "nanosleep", "null", ""),
	    blocked("app", 250, "nanosleep", "null", ""),
	    blocked("app", 1200, "nanosleep", "null", ""),
	};
	struct recording *rec = build(lines, 4);
	struct aggregate *agg;
	size_t i;

	(void)state;
	assert_int_equal(aggregate__new(rec, &agg), 0);
	/* 50-100, 100-200 (empty, kept between), 200-500, 500-1000 (empty), 1000-2000 */
	assert_int_equal(agg->n_buckets, 5);
	assert_true(agg->buckets[0].lo_ms == 50 && agg->buckets[0].hi_ms == 100);
	assert_int_equal(agg->buckets[0].stalls, 2);
	assert_int_equal(agg->buckets[1].stalls, 0);
	assert_int_equal(agg->buckets[2].stalls, 1);
	assert_true(agg->buckets[4].lo_ms == 1000 && agg->buckets[4].hi_ms == 2000);
	assert_int_equal(agg->buckets[4].stalls, 1);
	for (i = 0; i + 1 < agg->n_buckets; i++)
		assert_true(agg->buckets[i].hi_ms == agg->buckets[i + 1].lo_ms);
	assert_true(agg->longest_ms == 1200);
	assert_true(fabs(agg->stalled_ms - 1609.9) < 1e-9);
	aggregate__free(agg);
	recording__free(rec);
}

static const struct agg_folded *folded(const struct aggregate *agg, const char *frames)
{
	size_t i;

	for (i = 0; i < agg->n_folded; i++)
		if (!strcmp(agg->folded[i].frames, frames))
			return &agg->folded[i];
	return NULL;
}

/* Folded stacks: outermost first under the comm, weighted in ms of stall time. */
static void test_folded(void **state)
{
	const char *a = FRAME("\"is_prime\"", APP) "," FRAME("\"main\"", APP);
	const char *b = FRAME("\"a;b\"", APP) "," FRAME("null", "/usr/lib/libfoo.so.1") "," FRAME(
	    "null", "") "," FRAME("\"main\"", APP);
	char *lines[] = {
	    computing("app", 200, a, 3, b, 1),
	    blocked("app", 300, "clock_nanosleep", "null", ""),
	    blocked("app", 100, "clock_nanosleep", "null", ""),
	};
	struct recording *rec = build(lines, 3);
	struct aggregate *agg;
	const struct agg_folded *f;
	size_t i;

	(void)state;
	assert_int_equal(aggregate__new(rec, &agg), 0);
	f = folded(agg, "app;main;is_prime");
	assert_non_null(f);
	assert_true(f->weight_ms == 150);
	/* ';' cannot appear in a frame; a frame without symbol is named by its module */
	f = folded(agg, "app;main;[unknown];[libfoo.so.1];a:b");
	assert_non_null(f);
	assert_true(f->weight_ms == 50);
	/* time without a stack goes under a bracketed pseudo frame, summed */
	f = folded(agg, "app;[clock_nanosleep]");
	assert_non_null(f);
	assert_true(f->weight_ms == 400);
	for (i = 0; i + 1 < agg->n_folded; i++)
		assert_true(strcmp(agg->folded[i].frames, agg->folded[i + 1].frames) < 0);
	aggregate__free(agg);
	recording__free(rec);
}

static void test_language(void **state)
{
	const char *py =
	    FRAME("\"clock_nanosleep\"", LIBC) "," FRAME("null", "/usr/bin/python3.11") "," FRAME(
		"\"_PyEval_EvalFrameDefault\"",
		"/usr/bin/python3.11") "," FRAME("\"main\"", "/usr/bin/python3.11");
	const char *js = FRAME("\"uv__hrtime\"", "/usr/bin/node") "," FRAME("\"Builtins_JSEntry\"",
									    "/usr/bin/node");
	char *lines[] = {
	    blocked("gunicorn", 100, "clock_nanosleep", "null", py),
	    blocked("app", 90, "clock_nanosleep", "null", js),
	    blocked("python3", 80, "nanosleep", "null", ""),
	    blocked("node", 70, "nanosleep", "null", ""),
	    blocked("redis-server", 60, "nanosleep", "null", ""),
	};
	struct recording *rec = build(lines, 5);
	struct aggregate *agg;

	(void)state;
	assert_int_equal(aggregate__new(rec, &agg), 0);
	assert_int_equal(agg->n_culprits, 5);
	assert_int_equal(agg->culprits[0].lang, AGG_LANG_PYTHON);
	/* interpreter machinery names no call site: the innermost symbol stands in */
	assert_string_equal(agg->culprits[0].site->symbol, "clock_nanosleep");
	assert_int_equal(agg_stack_runtime(agg->culprits[0].stack), AGG_LANG_PYTHON);
	assert_int_equal(agg->culprits[1].lang, AGG_LANG_NODE);
	assert_string_equal(agg->culprits[1].site->symbol, "uv__hrtime");
	assert_int_equal(agg->culprits[2].lang, AGG_LANG_PYTHON);
	assert_int_equal(agg->culprits[3].lang, AGG_LANG_NODE);
	assert_int_equal(agg->culprits[4].lang, AGG_LANG_C);
	assert_string_equal(agg_lang_name(AGG_LANG_NODE), "Node.js");
	aggregate__free(agg);
	recording__free(rec);
}

static void test_empty(void **state)
{
	struct recording *rec = recording__new();
	struct aggregate *agg;

	(void)state;
	assert_int_equal(aggregate__new(rec, &agg), 0);
	assert_int_equal(agg->stalls, 0);
	assert_int_equal(agg->n_culprits, 0);
	assert_int_equal(agg->n_buckets, 0);
	assert_int_equal(agg->n_folded, 0);
	aggregate__free(agg);
	aggregate__free(NULL);
	recording__free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_culprits_without_stacks),
	    cmocka_unit_test(test_culprits_by_stack),
	    cmocka_unit_test(test_culprits_python),
	    cmocka_unit_test(test_durations_histogram),
	    cmocka_unit_test(test_folded),
	    cmocka_unit_test(test_language),
	    cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
