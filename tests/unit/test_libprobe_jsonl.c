// SPDX-License-Identifier: BSD-2-Clause
/* libprobe's own records (libprobe/src/jsonl.c): valid JSON whatever the text, or nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <cmocka.h>
#include "jsonl.h"
#include "lprobe_shm.h"

static void escaping(void **state)
{
	char buf[128];
	struct lpi_json j;
	size_t n;

	(void)state;
	lpi_json_init(&j, buf, sizeof(buf));
	lpi_json_object(&j, NULL);
	lpi_json_str(&j, "s", "a\"b\\c\n\x01\xc3\xa9");
	lpi_json_str(&j, "n", NULL);
	lpi_json_ms(&j, "ms", 1234567);
	lpi_json_int(&j, "i", -5);
	lpi_json_close(&j, '}');
	n = lpi_json_finish(&j);
	assert_true(n > 0);
	buf[n] = '\0';
	/* "é" (valid UTF-8) goes through as its two bytes, not escaped byte by byte */
	assert_string_equal(buf, "{\"s\":\"a\\\"b\\\\c\\u000a\\u0001\xc3\xa9\",\"n\":null,"
				 "\"ms\":1.235,\"i\":-5}\n");
}

/* What a JSON parser reads back from the string written for in. */
static char *round_trip(const char *in, char *line, size_t cap)
{
	struct lpi_json j;
	cJSON *o, *v;
	char *out;
	size_t n;

	lpi_json_init(&j, line, cap);
	lpi_json_object(&j, NULL);
	lpi_json_str(&j, "s", in);
	lpi_json_close(&j, '}');
	n = lpi_json_finish(&j);
	assert_true(n > 0);
	line[n] = '\0';
	o = cJSON_Parse(line);
	assert_non_null(o);
	v = cJSON_GetObjectItemCaseSensitive(o, "s");
	assert_true(cJSON_IsString(v));
	out = strdup(v->valuestring);
	cJSON_Delete(o);
	assert_non_null(out);
	return out;
}

#define FFFD "\xef\xbf\xbd"

static void utf8_round_trip(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    /* valid UTF-8 of every length comes back as it was */
	    {"caf\xc3\xa9", "caf\xc3\xa9"},
	    {"\xe6\x97\xa5\xe6\x9c\xac \xe2\x82\xac", "\xe6\x97\xa5\xe6\x9c\xac \xe2\x82\xac"},
	    {"\xf0\x9f\x90\x8d py", "\xf0\x9f\x90\x8d py"},
	    {"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"}, /* U+10FFFF, the last */
	    {"\xef\xbf\xbd", FFFD},		      /* U+FFFD itself */
	    {"tab\tdel\x7f", "tab\tdel\x7f"},	      /* escaped, read back the same */
	    /* each byte that is not part of a valid sequence becomes U+FFFD */
	    {"a\xff"
	     "b",
	     "a" FFFD "b"},
	    {"\xe2\x82", FFFD FFFD},			/* cut short by the end */
	    {"\xe2\x82x", FFFD FFFD "x"},		/* cut short by ASCII */
	    {"\xc0\xaf", FFFD FFFD},			/* overlong '/' */
	    {"\xe0\x80\xaf", FFFD FFFD FFFD},		/* overlong, 3 bytes */
	    {"\xed\xa0\x80", FFFD FFFD FFFD},		/* a UTF-16 surrogate */
	    {"\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD},	/* past U+10FFFF */
	    {"\x80\xc3\xa9\xbf", FFFD "\xc3\xa9" FFFD}, /* stray continuation bytes */
	};
	char line[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = round_trip(cases[i].in, line, sizeof(line));

		if (strcmp(got, cases[i].want))
			fail_msg("case %zu: line %s read back as \"%s\"", i, line, got);
		free(got);
	}
}

/* Every byte value in every position: the line always parses, and is valid UTF-8 for cJSON. */
static void any_bytes_parse(void **state)
{
	char in[5], line[256];
	unsigned a, b;

	(void)state;
	for (a = 1; a < 256; a++)
		for (b = 1; b < 256; b += 7) {
			char *got;

			in[0] = (char)a;
			in[1] = (char)b;
			in[2] = (char)0x80;
			in[3] = 'z';
			in[4] = '\0';
			got = round_trip(in, line, sizeof(line));
			assert_true(strlen(got) > 0);
			free(got);
		}
}

static void overflow_gives_nothing(void **state)
{
	char buf[16];
	struct lpi_json j;

	(void)state;
	lpi_json_init(&j, buf, sizeof(buf));
	lpi_json_object(&j, NULL);
	lpi_json_str(&j, "key", "a value longer than the buffer");
	lpi_json_close(&j, '}');
	assert_int_equal(lpi_json_finish(&j), 0);
}

static void stall_record(void **state)
{
	struct lpi_cb_report recent[2] = {
	    {.addr = 0x10,
	     .symbol = "on_tick",
	     .watcher = LPS_W_TIMER,
	     .arg = -1,
	     .interval_ns = 10000000,
	     .start_ns = 1000,
	     .end_ns = 2000},
	    {.addr = 0x20,
	     .symbol = NULL,
	     .watcher = LPS_W_IO,
	     .arg = 7,
	     .start_ns = 3000,
	     .end_ns = 300003000},
	};
	struct lpi_stall_report r = {
	    .pid = 12,
	    .tid = 13,
	    .comm = "svc\"x",
	    .start_unix_ns = 1700000000000000000ll,
	    .end_unix_ns = 1700000000300000000ll,
	    .start_ns = 2500,
	    .end_ns = 300002500,
	    .threshold_ns = 50000000,
	    .callbacks = 2,
	    .has_cb = true,
	    .cb = recent[1],
	    .span = "db_query",
	    .n_recent = 2,
	    .recent = recent,
	};
	char buf[4096];
	cJSON *o, *cb;
	size_t n;

	(void)state;
	n = lpi_json_stall(buf, sizeof(buf), &r);
	assert_true(n > 0 && buf[n - 1] == '\n');
	buf[n] = '\0';
	o = cJSON_Parse(buf);
	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "type")->valuestring, "stall");
	assert_string_equal(cJSON_GetObjectItem(o, "source")->valuestring, "libprobe");
	assert_string_equal(cJSON_GetObjectItem(o, "cause")->valuestring, "unknown");
	assert_string_equal(cJSON_GetObjectItem(o, "comm")->valuestring, "svc\"x");
	/* large integers as integers, not doubles */
	assert_non_null(strstr(buf, "\"start_unix_ns\":1700000000000000000,"));
	assert_true(cJSON_GetObjectItem(o, "duration_ms")->valuedouble == 300.0);
	cb = cJSON_GetObjectItem(o, "callback");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cb, "symbol")));
	assert_string_equal(cJSON_GetObjectItem(cb, "watcher")->valuestring, "io");
	assert_int_equal(cJSON_GetObjectItem(cb, "fd")->valueint, 7);
	assert_true(cJSON_GetObjectItem(cb, "duration_ms")->valuedouble == 300.0);
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(cb, "span"), "name")->valuestring, "db_query");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cb, "recent")), 2);
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cb, "recent"), 0), "symbol")
		->valuestring,
	    "on_tick");
	cJSON_Delete(o);
	/* without a callback: null */
	r.has_cb = false;
	n = lpi_json_stall(buf, sizeof(buf), &r);
	buf[n] = '\0';
	o = cJSON_Parse(buf);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "callback")));
	cJSON_Delete(o);
}

/* The CPython probe's callbacks: a Task step and a plain callback, with their Python fields. */
static void asyncio_record(void **state)
{
	struct lpi_cb_report recent[2] = {
	    {.addr = 0x5079010000000002ull,
	     .symbol = "on_timer",
	     .module = "/srv/app.py",
	     .watcher = LPS_W_ASYNCIO_CALLBACK,
	     .arg = -1,
	     .interval_ns = 77, /* a task key in a plain callback's entry: not an interval */
	     .line = 5,
	     .start_ns = 1000,
	     .end_ns = 2000},
	    {.addr = 0x5079010000000001ull,
	     .symbol = "handle",
	     .module = "/srv/app.py",
	     .watcher = LPS_W_ASYNCIO_TASK,
	     .arg = -1,
	     .line = 10,
	     .task = "Task-3",
	     .resumed_at = "/srv/app.py:12",
	     .suspended_at = NULL,
	     .start_ns = 3000,
	     .end_ns = 300003000},
	};
	struct lpi_stall_report r = {
	    .pid = 12,
	    .tid = 12,
	    .comm = "python3",
	    .start_ns = 2500,
	    .end_ns = 300002500,
	    .threshold_ns = 50000000,
	    .callbacks = 2,
	    .has_cb = true,
	    .cb = recent[1],
	    .n_recent = 2,
	    .recent = recent,
	};
	char buf[4096];
	cJSON *o, *cb, *plain;
	size_t n;

	(void)state;
	n = lpi_json_stall(buf, sizeof(buf), &r);
	assert_true(n > 0);
	buf[n] = '\0';
	o = cJSON_Parse(buf);
	assert_non_null(o);
	cb = cJSON_GetObjectItem(o, "callback");
	assert_string_equal(cJSON_GetObjectItem(cb, "watcher")->valuestring, "asyncio_task");
	assert_string_equal(cJSON_GetObjectItem(cb, "task")->valuestring, "Task-3");
	assert_string_equal(cJSON_GetObjectItem(cb, "coroutine")->valuestring, "handle");
	assert_string_equal(cJSON_GetObjectItem(cb, "resumed_at")->valuestring, "/srv/app.py:12");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cb, "suspended_at")));
	assert_int_equal(cJSON_GetObjectItem(cb, "line")->valueint, 10);
	assert_null(cJSON_GetObjectItem(cb, "fd"));
	plain = cJSON_GetArrayItem(cJSON_GetObjectItem(cb, "recent"), 0);
	assert_string_equal(cJSON_GetObjectItem(plain, "watcher")->valuestring, "asyncio_callback");
	assert_int_equal(cJSON_GetObjectItem(plain, "line")->valueint, 5);
	assert_null(cJSON_GetObjectItem(plain, "task"));
	assert_null(cJSON_GetObjectItem(plain, "interval_ms"));
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(escaping),	       cmocka_unit_test(utf8_round_trip),
	    cmocka_unit_test(any_bytes_parse), cmocka_unit_test(overflow_gives_nothing),
	    cmocka_unit_test(stall_record),
	    cmocka_unit_test(asyncio_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
