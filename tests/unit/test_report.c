// SPDX-License-Identifier: BSD-2-Clause
/* The report renderers, their text helpers and the report/doctor arguments. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include "report_render.h"
#include "report_args.h"

static const char *const lines[] = {
	"{\"type\":\"stall_begin\",\"schema_version\":1,\"elapsed_ms\":51}",
	"{\"type\":\"stall\",\"schema_version\":1,\"pid\":42,\"tid\":42,\"comm\":\"svc|x\","
	"\"start_unix_ns\":1795697409076992000,\"end_unix_ns\":1795697409377244000,"
	"\"duration_ms\":300.252,\"threshold_ms\":50,\"cause\":\"blocking_syscall\","
	"\"on_cpu_ms\":0.146,\"off_cpu_ms\":300.099,\"runqueue_ms\":0.006,\"cut_short\":false,"
	"\"syscalls\":[{\"name\":\"clock_nanosleep\",\"count\":1,\"total_ms\":300.1,"
	"\"max_ms\":300.1,\"target\":null,\"stack\":["
	"{\"addr\":\"0x1\",\"symbol\":\"clock_nanosleep\",\"module\":\"/lib/libc.so.6\","
	"\"file\":\"clock_nanosleep.c\",\"line\":48},"
	"{\"addr\":\"0x2\",\"symbol\":\"read_config_slowly_with_a_rather_long_function_name\","
	"\"module\":\"/usr/bin/svc\",\"file\":\"/src/demo_service.c\",\"line\":154}]}],"
	"\"cpu_stacks\":[],\"callback\":null,"
	"\"advice\":\"The loop thread slept 300.1 ms in clock_nanosleep. Never sleep on the loop: "
	"use a timer (asyncio.sleep, setTimeout, an ev_timer) or move the work to a thread pool.\"}",
	"{\"type\":\"stall\",\"schema_version\":1,\"pid\":42,\"tid\":42,\"comm\":\"svc|x\","
	"\"start_unix_ns\":1795697409677411000,\"end_unix_ns\":1795697409877490000,"
	"\"duration_ms\":200.079,\"threshold_ms\":50,\"cause\":\"cpu\",\"on_cpu_ms\":170.4,"
	"\"off_cpu_ms\":0,\"runqueue_ms\":29.6,\"syscalls\":[],\"cpu_stacks\":[],"
	"\"callback\":null,\"advice\":\"compute less\"}",
	"{\"type\":\"summary\",\"schema_version\":1,\"pid\":42,\"comm\":\"svc|x\","
	"\"start_unix_ns\":1795697408857594000,\"end_unix_ns\":1795697410687832000,"
	"\"recorded_ms\":1830.238,\"threshold_ms\":50,\"stalls\":2,\"lost_events\":0,"
	"\"threads\":[{\"pid\":42,\"tid\":42,\"comm\":\"svc|x\",\"iterations\":136,"
	"\"busy_ms\":505.784,\"busy_ratio\":0.2811,\"stalls\":2,\"max_busy_ms\":300.252,"
	"\"heartbeat_gap_ms\":{\"p50\":0.008,\"p90\":0.021,\"p99\":197.132,\"max\":300.252}}]}",
};

struct fixture {
	struct recording *rec;
	struct aggregate *agg;
	char *text;
	size_t len;
	FILE *f;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct rf_error err;
	size_t i;

	if (!fx)
		return -1;
	fx->rec = recording__new();
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (recording__add_line(fx->rec, lines[i], strlen(lines[i]), (unsigned)i + 1, &err))
			return -1;
	if (aggregate__new(fx->rec, &fx->agg))
		return -1;
	fx->f = open_memstream(&fx->text, &fx->len);
	*state = fx;
	return fx->f ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx->f)
		fclose(fx->f);
	free(fx->text);
	aggregate__free(fx->agg);
	recording__free(fx->rec);
	free(fx);
	return 0;
}

static const char *output(struct fixture *fx)
{
	fflush(fx->f);
	return fx->text;
}

static void test_text_fits_width(void **state)
{
	struct fixture *fx = *state;
	struct out o = { .f = fx->f, .width = 60, .color = false };
	const char *p;

	report_text(fx->agg, 5, &o);
	p = output(fx);
	assert_null(strchr(p, '\033'));
	assert_non_null(strstr(p, "loopstall report: svc|x (pid 42)"));
	assert_non_null(strstr(p, "2026-11-26 12:50:08 UTC"));
	assert_non_null(strstr(p, "blocking_syscall"));
	/* a call site too long for the row goes on its own line, cut to the width */
	assert_non_null(strstr(p, "\n        read_config_slowly_with_a_rather_long_function_na..."));
	assert_non_null(strstr(p, "200 ms - 500 ms"));
	while (*p) {
		size_t n = strcspn(p, "\n");

		assert_true(n <= 60);
		p += n + (p[n] == '\n');
	}
}

static void test_text_color(void **state)
{
	struct fixture *fx = *state;
	struct out o = { .f = fx->f, .width = 100, .color = true };
	const char *p;

	report_text(fx->agg, 5, &o);
	p = output(fx);
	assert_non_null(strstr(p, "\033[1m"));
	/* every line that opened a colour closes it */
	assert_non_null(strstr(p, "\033[0m\n"));
}

static void test_top_limits(void **state)
{
	struct fixture *fx = *state;
	struct out o = { .f = fx->f, .width = 100, .color = false };
	const char *p;

	report_text(fx->agg, 1, &o);
	p = output(fx);
	assert_non_null(strstr(p, "1 more (--top N shows more)"));
	assert_null(strstr(p, "   2. "));
}

static void test_json(void **state)
{
	struct fixture *fx = *state;
	cJSON *root, *culprits, *worst, *c;

	assert_int_equal(report_json(fx->agg, 5, fx->f), 0);
	root = cJSON_Parse(output(fx));
	assert_non_null(root);
	assert_string_equal(cJSON_GetObjectItem(root, "type")->valuestring, "report");
	assert_int_equal(cJSON_GetObjectItem(root, "stalls")->valueint, 2);
	assert_true(cJSON_GetObjectItem(root, "stalled_ms")->valuedouble == 500.331);
	culprits = cJSON_GetObjectItem(root, "culprits");
	assert_int_equal(cJSON_GetArraySize(culprits), 2);
	c = cJSON_GetArrayItem(culprits, 0);
	assert_string_equal(cJSON_GetObjectItem(c, "cause")->valuestring, "blocking_syscall");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(c, "call_site"), "symbol")
				    ->valuestring,
			    "read_config_slowly_with_a_rather_long_function_name");
	worst = cJSON_GetObjectItem(root, "worst");
	assert_int_equal(cJSON_GetArraySize(worst), 2);
	assert_true(cJSON_GetObjectItem(cJSON_GetArrayItem(worst, 0), "offset_ms")->valuedouble ==
		    219.398);
	assert_true(strstr(output(fx), "\"start_unix_ns\":\t1795697409076992000") != NULL);
	cJSON_Delete(root);
}

static void test_folded(void **state)
{
	struct fixture *fx = *state;

	report_folded(fx->agg, fx->f);
	assert_string_equal(output(fx),
			    "svc|x;[on-CPU] 171\n"
			    "svc|x;[run queue] 30\n"
			    "svc|x;read_config_slowly_with_a_rather_long_function_name;clock_nanosleep 300\n");
}

static void test_markdown(void **state)
{
	struct fixture *fx = *state;
	const char *p;

	report_markdown(fx->agg, 5, fx->f);
	p = output(fx);
	assert_non_null(strstr(p, "# loopstall report: `svc|x` (pid 42)"));
	/* a '|' in a table cell is escaped */
	assert_non_null(strstr(p, "| 42 | svc\\|x | 136 |"));
	assert_non_null(strstr(p, "## Top culprits"));
	assert_non_null(strstr(p, "```text\n"));
	assert_non_null(strstr(p, "#1  read_config_slowly_with_a_rather_long_function_name "
				  "(demo_service.c:154)"));
}

static void test_out_wrap(void **state)
{
	struct fixture *fx = *state;
	struct out o = { .f = fx->f, .width = 40, .color = false };

	out_wrap(&o, "  lead: ", 8,
		 "one two three four five six seven eight nine ten eleven twelve "
		 "averyveryveryveryveryveryveryverylongwordthatcannotfit end");
	assert_string_equal(output(fx), "  lead: one two three four five six\n"
					"        seven eight nine ten eleven\n"
					"        twelve\n"
					"        averyveryveryveryveryveryvery...\n"
					"        end\n");
}

static void test_out_units(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(out_ms(0.4, buf, sizeof(buf)), "0.40 ms");
	assert_string_equal(out_ms(12.34, buf, sizeof(buf)), "12.3 ms");
	assert_string_equal(out_ms(1250, buf, sizeof(buf)), "1.25 s");
	assert_string_equal(out_secs(12345, buf, sizeof(buf)), "12.3 s");
	assert_string_equal(out_edge(0.5, buf, sizeof(buf)), "500 us");
	assert_string_equal(out_edge(2000, buf, sizeof(buf)), "2 s");
	assert_int_equal(out_visible(OUT_BOLD "ab" OUT_RESET "\xc3\xa9"), 3);
	assert_int_equal(out_parse_color("never"), OUT_COLOR_NEVER);
	assert_int_equal(out_parse_color("sometimes"), -1);
}

static void test_args(void **state)
{
	char *ok[] = { "report", "x.jsonl", "--format", "markdown", "--top", "3", "--width", "80",
		       "--color", "never", NULL };
	char *md[] = { "report", "-f", "md", "-", NULL };
	char *bad_format[] = { "report", "x", "--format", "xml", NULL };
	char *two[] = { "report", "a", "b", NULL };
	char *none[] = { "report", NULL };
	char *narrow[] = { "report", "x", "--width", "5", NULL };
	char *doctor_format[] = { "doctor", "x", "--format", "json", NULL };
	char *doctor[] = { "doctor", "x", NULL };
	struct report_args a;
	char err[256];

	(void)state;
	assert_int_equal(report_args_parse(10, ok, false, &a, err, sizeof(err)), 0);
	assert_string_equal(a.file, "x.jsonl");
	assert_int_equal(a.format, REPORT_MARKDOWN);
	assert_int_equal(a.top, 3);
	assert_int_equal(a.width, 80);
	assert_int_equal(a.color, OUT_COLOR_NEVER);
	assert_int_equal(report_args_parse(4, md, false, &a, err, sizeof(err)), 0);
	assert_string_equal(a.file, "-");
	assert_int_equal(a.top, REPORT_DEFAULT_TOP);
	assert_int_equal(report_args_parse(4, bad_format, false, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown format 'xml'"));
	/* several files are one history */
	assert_int_equal(report_args_parse(3, two, false, &a, err, sizeof(err)), 0);
	assert_int_equal(a.n_files, 2);
	assert_string_equal(a.files[0], "a");
	assert_string_equal(a.files[1], "b");
	assert_int_equal(report_args_parse(1, none, false, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no FILE"));
	assert_int_equal(report_args_parse(4, narrow, false, &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(report_args_parse(4, doctor_format, true, &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(report_args_parse(2, doctor, true, &a, err, sizeof(err)), 0);
	assert_int_equal(a.top, DOCTOR_DEFAULT_TOP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_text_fits_width, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_color, setup, teardown),
		cmocka_unit_test_setup_teardown(test_top_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_markdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_wrap, setup, teardown),
		cmocka_unit_test(test_out_units),
		cmocka_unit_test(test_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
