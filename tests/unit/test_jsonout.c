// SPDX-License-Identifier: BSD-2-Clause
/*
 * JSON Lines records (jsonout.c), parsed back with cJSON and checked field by
 * field against the schema_version 1 contract in docs/records.md.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <cmocka.h>
#include "jsonout.h"

#define MS 1000000ull
#define START (7000 * MS)
/* a real wall-clock time in ns: beyond a double's 53-bit mantissa */
#define UNIX_NS 1795696751146240603ll
#define UNIX_NS_TEXT "1795696751146240603"

static cJSON *parse(const char *line)
{
	cJSON *o;

	assert_non_null(line);
	/* one line: the writer adds the newline */
	assert_null(strchr(line, '\n'));
	o = cJSON_Parse(line);
	if (!o)
		fail_msg("not JSON: %s", line);
	assert_true(cJSON_IsObject(o));
	return o;
}

static const cJSON *field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v)
		fail_msg("no \"%s\"", key);
	return v;
}

static void has_string(const cJSON *o, const char *key, const char *want)
{
	const cJSON *v = field(o, key);

	if (!cJSON_IsString(v))
		fail_msg("\"%s\" is not a string", key);
	assert_string_equal(v->valuestring, want);
}

static void has_number(const cJSON *o, const char *key, double want)
{
	const cJSON *v = field(o, key);

	if (!cJSON_IsNumber(v))
		fail_msg("\"%s\" is not a number", key);
	if (fabs(v->valuedouble - want) > 1e-9)
		fail_msg("\"%s\" is %.9g, expected %.9g", key, v->valuedouble, want);
}

/* An integer field: a number, and printed without fraction or exponent. */
static void has_int(const char *line, const cJSON *o, const char *key, long long want)
{
	const char *at;
	char text[96];

	has_number(o, key, (double)want);
	snprintf(text, sizeof(text), "\"%s\":%lld", key, want);
	at = strstr(line, text);
	if (!at || (at[strlen(text)] != ',' && at[strlen(text)] != '}'))
		fail_msg("%s not printed as a plain integer in %s", text, line);
}

static void has_null(const cJSON *o, const char *key)
{
	if (!cJSON_IsNull(field(o, key)))
		fail_msg("\"%s\" is not null", key);
}

static void sample_stall(struct ls_stall *s)
{
	struct lt_busy b;

	memset(&b, 0, sizeof(b));
	b.start_ns = START;
	b.offcpu_ns = 290 * MS;
	b.nvcsw = 3;
	b.nivcsw = 1;
	b.slots[0] = (struct lt_slot){ .nr = 230, .fd = -1, .count = 1, .total_ns = 250 * MS,
				       .max_ns = 250 * MS };
	b.slots[1] = (struct lt_slot){ .nr = 0, .fd = 5, .count = 2, .total_ns = 40 * MS + 1500,
				       .max_ns = 30 * MS };
	b.nr_slots = 2;
	ls_stall_from_busy(s, &b, 4242, 4243, (const char[16]){ "python3" }, START + 300 * MS,
			   50 * MS, 2);
	snprintf(s->syscalls[1].target, sizeof(s->syscalls[1].target),
		 "socket:TCP 127.0.0.1:8080->127.0.0.1:41234");
	s->syscalls[1].target_kind = LS_TK_SOCKET;
}

static void test_stall(void **state)
{
	struct ls_stall s;
	const cJSON *calls, *c, *stacks;
	cJSON *o;
	char *line;

	(void)state;
	sample_stall(&s);
	ls_stall_conclude(&s);
	line = ls_json_stall(&s, UNIX_NS, UNIX_NS + 300000000);
	o = parse(line);

	has_string(o, "type", "stall");
	has_int(line, o, "schema_version", 1);
	has_int(line, o, "pid", 4242);
	has_int(line, o, "tid", 4243);
	has_string(o, "comm", "python3");
	/* exact as text: a double would print 1.7956967511462406e+18 */
	assert_non_null(strstr(line, "\"start_unix_ns\":" UNIX_NS_TEXT ","));
	assert_non_null(strstr(line, "\"end_unix_ns\":1795696751446240603,"));
	has_number(o, "duration_ms", 300.0);
	has_number(o, "threshold_ms", 50.0);
	has_string(o, "cause", "blocking_syscall");
	has_number(o, "on_cpu_ms", 10.0);
	has_number(o, "off_cpu_ms", 290.0);
	has_number(o, "runqueue_ms", 0.0);
	has_int(line, o, "major_faults", 2);
	has_int(line, o, "voluntary_switches", 3);
	has_int(line, o, "involuntary_switches", 1);
	assert_true(cJSON_IsFalse(field(o, "cut_short")));

	calls = field(o, "syscalls");
	assert_true(cJSON_IsArray(calls));
	assert_int_equal(cJSON_GetArraySize(calls), 2);
	/* largest total first */
	c = cJSON_GetArrayItem(calls, 0);
	has_string(c, "name", "clock_nanosleep");
	has_number(c, "nr", 230);
	has_number(c, "count", 1);
	has_number(c, "total_ms", 250.0);
	has_number(c, "max_ms", 250.0);
	has_null(c, "target");
	has_null(c, "target_kind");
	has_null(c, "fd");
	assert_true(cJSON_IsArray(field(c, "stack")));
	c = cJSON_GetArrayItem(calls, 1);
	has_string(c, "name", "read");
	has_number(c, "count", 2);
	/* ms rounded to the microsecond */
	has_number(c, "total_ms", 40.002);
	has_number(c, "max_ms", 30.0);
	has_number(c, "fd", 5);
	has_string(c, "target", "socket:TCP 127.0.0.1:8080->127.0.0.1:41234");
	has_string(c, "target_kind", "socket");
	assert_true(cJSON_IsArray(field(c, "stack")));
	assert_non_null(strstr(line, "\"count\":2,"));

	stacks = field(o, "cpu_stacks");
	assert_true(cJSON_IsArray(stacks));
	assert_int_equal(cJSON_GetArraySize(stacks), 0);
	has_null(o, "callback");
	assert_true(cJSON_IsString(field(o, "advice")));
	assert_non_null(strstr(field(o, "advice")->valuestring, "clock_nanosleep"));

	cJSON_Delete(o);
	free(line);
}

/* Every frame says its kind; a Python frame has no module; the asyncio task when known. */
static void test_frame_kinds_and_task(void **state)
{
	struct ls_frame frames[] = {
		{ .addr = 0x7f0000001000, .symbol = "clock_nanosleep", .module = "/lib/libc.so.6" },
		{ .addr = 0x7f00dead0000, .symbol = "Handler.fetch_user", .file = "/srv/app.py",
		  .line = 16, .kind = LS_FRAME_PYTHON },
		{ .addr = 0x3000, .symbol = "LazyCompile:~main", .module = "[jit]",
		  .kind = LS_FRAME_JS },
	};
	const cJSON *stack, *f, *task;
	struct ls_stall s;
	cJSON *o;
	char *line;

	(void)state;
	sample_stall(&s);
	s.syscalls[0].stack.n = 3;
	s.syscalls[0].stack.frames = frames;
	s.task.coroutine = "_main";
	s.task.file = "/srv/main.py";
	s.task.line = 53;
	line = ls_json_stall(&s, UNIX_NS, UNIX_NS);
	o = parse(line);
	stack = field(cJSON_GetArrayItem(field(o, "syscalls"), 0), "stack");
	assert_int_equal(cJSON_GetArraySize(stack), 3);
	has_string(cJSON_GetArrayItem(stack, 0), "kind", "native");
	f = cJSON_GetArrayItem(stack, 1);
	has_string(f, "kind", "python");
	has_string(f, "symbol", "Handler.fetch_user");
	has_string(f, "file", "/srv/app.py");
	has_number(f, "line", 16);
	has_null(f, "module");
	has_string(f, "addr", "0x7f00dead0000");
	has_string(cJSON_GetArrayItem(stack, 2), "kind", "js");
	task = field(o, "task");
	has_string(task, "coroutine", "_main");
	has_string(task, "file", "/srv/main.py");
	has_int(line, task, "line", 53);
	/* the Task's name was not read: no name, never an empty one */
	assert_null(cJSON_GetObjectItemCaseSensitive(task, "name"));
	cJSON_Delete(o);
	free(line);
	snprintf(s.task.name, sizeof(s.task.name), "fetch-7");
	line = ls_json_stall(&s, UNIX_NS, UNIX_NS);
	o = parse(line);
	has_string(field(o, "task"), "name", "fetch-7");
	has_string(field(o, "task"), "coroutine", "_main");
	cJSON_Delete(o);
	free(line);
	/* no task seen: no field */
	s.task.coroutine = NULL;
	line = ls_json_stall(&s, UNIX_NS, UNIX_NS);
	o = parse(line);
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "task"));
	cJSON_Delete(o);
	free(line);
}

static void test_stall_other_causes(void **state)
{
	struct ls_stall s;
	cJSON *o;
	char *line;

	(void)state;
	sample_stall(&s);
	s.n_syscalls = 0;
	s.cause = LS_CAUSE_CPU;
	s.cut_short = true;
	ls_stall_conclude(&s);
	line = ls_json_stall(&s, -5, 0);
	o = parse(line);
	has_string(o, "cause", "cpu");
	assert_true(cJSON_IsTrue(field(o, "cut_short")));
	assert_int_equal(cJSON_GetArraySize(field(o, "syscalls")), 0);
	assert_non_null(strstr(line, "\"start_unix_ns\":-5,"));
	assert_non_null(strstr(field(o, "advice")->valuestring, "yield"));
	cJSON_Delete(o);
	free(line);
}

/*
 * The writer only reads: the advice is the stall's own (the pipeline's last
 * stage wrote it), never computed while serializing.
 */
static void test_stall_advice_is_read(void **state)
{
	struct ls_stall s;
	cJSON *o;
	char *line;

	(void)state;
	sample_stall(&s);
	snprintf(s.advice, sizeof(s.advice), "as concluded");
	line = ls_json_stall(&s, UNIX_NS, UNIX_NS);
	o = parse(line);
	has_string(o, "advice", "as concluded");
	cJSON_Delete(o);
	free(line);
	/* not concluded: nothing made up */
	s.advice[0] = '\0';
	line = ls_json_stall(&s, UNIX_NS, UNIX_NS);
	o = parse(line);
	has_string(o, "advice", "");
	cJSON_Delete(o);
	free(line);
}

static void test_strings_escaped(void **state)
{
	struct ls_stall s;
	cJSON *o, *c;
	char *line;

	(void)state;
	/* comm and paths come from the traced process: quotes, backslashes, controls */
	sample_stall(&s);
	memcpy(s.comm, "a\"b\\c\td", 8);
	snprintf(s.syscalls[1].target, sizeof(s.syscalls[1].target), "/tmp/we\"ird\\\n.txt");
	line = ls_json_stall(&s, UNIX_NS, UNIX_NS);
	o = parse(line);
	has_string(o, "comm", "a\"b\\c\td");
	c = cJSON_GetArrayItem(field(o, "syscalls"), 1);
	has_string(c, "target", "/tmp/we\"ird\\\n.txt");
	cJSON_Delete(o);
	free(line);
}

static const struct ls_stall_begin begin_60ms = {
    .pid = 4242, .tid = 4243, .comm = "node", .elapsed_ns = 60 * MS, .threshold_ns = 50 * MS};

static void test_stall_begin(void **state)
{
	struct ls_stall_begin b = begin_60ms;
	cJSON *o;
	char *line;

	(void)state;
	b.elapsed_ns = 60 * MS + 250;
	line = ls_json_stall_begin(&b, UNIX_NS);
	o = parse(line);
	has_string(o, "type", "stall_begin");
	has_int(line, o, "schema_version", 1);
	has_int(line, o, "pid", 4242);
	has_int(line, o, "tid", 4243);
	has_string(o, "comm", "node");
	assert_non_null(strstr(line, "\"start_unix_ns\":" UNIX_NS_TEXT ","));
	has_number(o, "elapsed_ms", 60.0);
	has_number(o, "threshold_ms", 50.0);
	/* written only when true: the period was running at attach */
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "began_before_attach"));
	cJSON_Delete(o);
	free(line);
	b.began_before_attach = true;
	line = ls_json_stall_begin(&b, UNIX_NS);
	o = parse(line);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "began_before_attach")));
	cJSON_Delete(o);
	free(line);
}

/* Context fields appended to a finished record; empty ones left out; bytes made UTF-8. */
static void test_context(void **state)
{
	struct ls_json_context ctx = {
		.time_unix_ns = UNIX_NS,
		.target = "api",
		.host = "node-\xff" "1",
		.container_id = "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a",
		.pod_uid = "",
		.cgroup = "/system.slice/a\"b",
	};
	struct ls_json_context none = { 0 };
	char *line, when[40];
	cJSON *o;

	(void)state;
	/* 1795696751.146240603 s: 2026-11-26T12:39:11.146Z, the ms cut, not rounded */
	ls_rfc3339_ms(UNIX_NS, when, sizeof(when));
	assert_string_equal(when, "2026-11-26T12:39:11.146Z");
	ls_rfc3339_ms(-5, when, sizeof(when));
	assert_string_equal(when, "1970-01-01T00:00:00.000Z");
	line = ls_json_add_context(
	    ls_json_stall_begin(&begin_60ms, UNIX_NS), &ctx);
	o = parse(line);
	has_string(o, "type", "stall_begin");
	has_int(line, o, "pid", 4242);
	has_string(o, "time", "2026-11-26T12:39:11.146Z");
	has_string(o, "target", "api");
	has_string(o, "host", "node-\xef\xbf\xbd" "1");
	has_string(o, "container_id", ctx.container_id);
	has_string(o, "cgroup", "/system.slice/a\"b");
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "pod_uid"));
	cJSON_Delete(o);
	free(line);
	/* nothing to add: the line as it was */
	line = ls_json_add_context(
	    ls_json_stall_begin(&begin_60ms, UNIX_NS), &none);
	o = parse(line);
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "time"));
	cJSON_Delete(o);
	free(line);
	line = ls_json_add_context(strdup("{}"), &ctx);
	assert_non_null(line);
	assert_int_equal(strncmp(line, "{\"time\":", 8), 0);
	free(line);
	assert_null(ls_json_add_context(NULL, &ctx));
	assert_null(ls_json_add_context(strdup("not json"), &ctx));
}

static double mid_ms(uint64_t ns)
{
	uint32_t b = lt_hist_bucket(ns);
	uint64_t mid = lt_hist_lower(b) + (lt_hist_lower(b + 1) - lt_hist_lower(b)) / 2;

	return round((double)mid / 1e3) / 1e3;
}

static void test_summary(void **state)
{
	struct ls_run_summary sum;
	struct ls_thread_stats *t = calloc(1, sizeof(*t));
	const cJSON *threads, *th, *gap;
	cJSON *o;
	char *line;

	(void)state;
	assert_non_null(t);
	memset(&sum, 0, sizeof(sum));
	sum.pid = 4242;
	memcpy(sum.comm, "redis-server", 13);
	sum.start_ns = START;
	sum.end_ns = START + 10000 * MS;
	sum.threshold_ns = 50 * MS;
	sum.stalls = 10;
	sum.lost_events = 7;

	/* heartbeat gaps: 50 x 1 ms, 40 x 5 ms, 9 x 20 ms, 1 x 300 ms */
	t->pid = 4242;
	t->tid = 4242;
	t->first_seen_ns = START;
	t->iterations = 100;
	t->busy_ns = 2500 * MS;
	t->max_busy_ns = 300 * MS;
	t->stalls = 10;
	t->hist[lt_hist_bucket(1 * MS)] = 50;
	t->hist[lt_hist_bucket(5 * MS)] = 40;
	t->hist[lt_hist_bucket(20 * MS)] = 9;
	t->hist[lt_hist_bucket(300 * MS)] = 1;
	assert_non_null(ls_summary_update(&sum, t, (const char[16]){ "redis-server" },
					  START + 10000 * MS, false));

	line = ls_json_summary(&sum, UNIX_NS, UNIX_NS + 10000000000ll);
	o = parse(line);
	has_string(o, "type", "summary");
	has_int(line, o, "schema_version", 1);
	has_int(line, o, "pid", 4242);
	has_string(o, "comm", "redis-server");
	assert_non_null(strstr(line, "\"start_unix_ns\":" UNIX_NS_TEXT ","));
	has_number(o, "recorded_ms", 10000.0);
	has_number(o, "threshold_ms", 50.0);
	has_int(line, o, "stalls", 10);
	has_int(line, o, "lost_events", 7);

	threads = field(o, "threads");
	assert_true(cJSON_IsArray(threads));
	assert_int_equal(cJSON_GetArraySize(threads), 1);
	th = cJSON_GetArrayItem(threads, 0);
	has_number(th, "tid", 4242);
	has_string(th, "comm", "redis-server");
	has_number(th, "iterations", 100);
	has_number(th, "busy_ms", 2500.0);
	has_number(th, "busy_ratio", 0.25);
	has_number(th, "stalls", 10);
	has_number(th, "max_busy_ms", 300.0);
	assert_true(cJSON_IsFalse(field(th, "exited")));
	assert_non_null(strstr(line, "\"iterations\":100,"));

	gap = field(th, "heartbeat_gap_ms");
	assert_true(cJSON_IsObject(gap));
	has_number(gap, "p50", mid_ms(1 * MS));
	has_number(gap, "p90", mid_ms(5 * MS));
	has_number(gap, "p99", mid_ms(20 * MS));
	has_number(gap, "max", 300.0);
	/* and they are what a reader expects, to within the 1/16 bucket width */
	assert_true(fabs(field(gap, "p50")->valuedouble - 1.0) < 1.0 / 16);
	assert_true(fabs(field(gap, "p90")->valuedouble - 5.0) < 5.0 / 16);
	assert_true(fabs(field(gap, "p99")->valuedouble - 20.0) < 20.0 / 16);

	cJSON_Delete(o);
	free(line);
	ls_summary_free(&sum);
	free(t);
}

static void test_summary_empty(void **state)
{
	struct ls_run_summary sum;
	cJSON *o;
	char *line;

	(void)state;
	/* nothing seen, and an end before the start: zeros, not a wrapped duration */
	memset(&sum, 0, sizeof(sum));
	sum.start_ns = START;
	sum.end_ns = START - 1;
	line = ls_json_summary(&sum, 0, 0);
	o = parse(line);
	has_number(o, "recorded_ms", 0.0);
	has_string(o, "comm", "");
	assert_int_equal(cJSON_GetArraySize(field(o, "threads")), 0);
	has_int(line, o, "lost_events", 0);
	cJSON_Delete(o);
	free(line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stall),
		cmocka_unit_test(test_stall_other_causes),
		cmocka_unit_test(test_stall_advice_is_read),
		cmocka_unit_test(test_frame_kinds_and_task),
		cmocka_unit_test(test_strings_escaped),
		cmocka_unit_test(test_stall_begin),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_summary_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
