// SPDX-License-Identifier: BSD-2-Clause
/* recfile.c: reading recordings back, leniently where allowed, strictly where it matters. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "recfile.h"

#define STALL                                                                                      \
	"{\"type\":\"stall\",\"schema_version\":1,\"pid\":7,\"tid\":8,\"comm\":\"python3\","      \
	"\"start_unix_ns\":1795697411951645644,\"end_unix_ns\":1795697412452377884,"              \
	"\"duration_ms\":500.732,\"threshold_ms\":50,\"cause\":\"blocking_syscall\","             \
	"\"on_cpu_ms\":0.6,\"off_cpu_ms\":500.1,\"runqueue_ms\":0.01,\"fault_blocked_ms\":0,"     \
	"\"major_faults\":0,\"voluntary_switches\":1,\"involuntary_switches\":2,"                 \
	"\"cut_short\":false,\"syscalls\":[{\"name\":\"clock_nanosleep\",\"nr\":230,\"count\":1," \
	"\"total_ms\":500.1,\"max_ms\":500.1,\"fd\":null,\"target\":null,\"stack\":["             \
	"{\"addr\":\"0x7f01\",\"symbol\":\"clock_nanosleep\",\"module\":\"/lib/libc.so.6\","      \
	"\"file\":\"clock_nanosleep.c\",\"line\":71},"                                             \
	"{\"addr\":\"0x5d64b4\",\"symbol\":null,\"module\":\"/usr/bin/python3.11\","              \
	"\"file\":null,\"line\":null}]}],"                                                         \
	"\"cpu_stacks\":[{\"samples\":3,\"stack\":[]}],"                                           \
	"\"callback\":{\"symbol\":\"on_timer\",\"watcher\":\"timer\",\"started_ms_ago\":501},"    \
	"\"advice\":\"sleep less\"}"

#define SUMMARY(ms)                                                                                \
	"{\"type\":\"summary\",\"schema_version\":1,\"pid\":7,\"comm\":\"python3\","              \
	"\"start_unix_ns\":1795697411000000000,\"end_unix_ns\":1795697412000000000,"              \
	"\"recorded_ms\":" ms ",\"threshold_ms\":50,\"stalls\":1,\"lost_events\":2,"              \
	"\"threads\":[{\"pid\":7,\"tid\":8,\"comm\":\"python3\",\"iterations\":108,"              \
	"\"busy_ms\":505,\"busy_ratio\":0.5,\"stalls\":1,\"max_busy_ms\":500.7,\"exited\":true,"  \
	"\"heartbeat_gap_ms\":{\"p50\":0.02,\"p90\":0.08,\"p99\":0.3,\"max\":500.7}}]}"

static struct recording *read_text(const char *text, int *ret, struct rf_error *err)
{
	struct recording *rec = NULL;
	FILE *f = fmemopen((void *)text, strlen(text), "r");

	assert_non_null(f);
	*ret = recording__read(f, &rec, err);
	fclose(f);
	return rec;
}

static void test_stall_fields(void **state)
{
	struct rf_error err;
	struct recording *rec;
	const struct rf_stall *s;
	int ret;

	(void)state;
	rec = read_text(STALL "\n" SUMMARY("1176") "\n", &ret, &err);
	assert_int_equal(ret, 0);
	assert_int_equal(rec->n_stalls, 1);
	s = &rec->stalls[0];
	assert_int_equal(s->line, 1);
	assert_int_equal(s->pid, 7);
	assert_int_equal(s->tid, 8);
	assert_string_equal(s->comm, "python3");
	assert_string_equal(s->cause, "blocking_syscall");
	assert_true(s->duration_ms == 500.732);
	assert_int_equal(s->involuntary_switches, 2);
	/* doubles cannot hold every ns: the reader rounds to the microsecond */
	assert_true(s->start_unix_ns == 1795697411951646000LL);
	assert_int_equal(s->n_syscalls, 1);
	assert_string_equal(s->syscalls[0].name, "clock_nanosleep");
	assert_null(s->syscalls[0].target);
	assert_int_equal(s->syscalls[0].stack.n, 2);
	assert_string_equal(s->syscalls[0].stack.frames[0].symbol, "clock_nanosleep");
	assert_int_equal(s->syscalls[0].stack.frames[0].line, 71);
	assert_null(s->syscalls[0].stack.frames[1].symbol);
	assert_int_equal(s->syscalls[0].stack.frames[1].line, -1);
	assert_int_equal(s->n_cpu_stacks, 1);
	assert_int_equal(s->cpu_stacks[0].samples, 3);
	assert_non_null(s->callback);
	assert_string_equal(s->callback->symbol, "on_timer");
	assert_string_equal(s->callback->watcher, "timer");
	assert_string_equal(s->advice, "sleep less");
	assert_int_equal(rec->n_summaries, 1);
	assert_int_equal(rec->summary.lost_events, 2);
	assert_int_equal(rec->summary.n_threads, 1);
	assert_true(rec->summary.threads[0].gap_p99_ms == 0.3);
	assert_true(recording__recorded_ms(rec) == 1176);
	assert_true(recording__threshold_ms(rec) == 50);
	recording__free(rec);
}

/* Newer writers may add record types and fields: both are skipped. */
static void test_unknown_types_and_fields(void **state)
{
	struct rf_error err;
	struct recording *rec;
	int ret;

	(void)state;
	rec = read_text("{\"type\":\"gc_pause\",\"schema_version\":1,\"ms\":3}\n"
			"\n"
			"{\"type\":\"stall_begin\",\"schema_version\":1,\"elapsed_ms\":51}\n"
			"{\"type\":\"stall\",\"schema_version\":1,\"duration_ms\":60,\"cause\":\"cpu\","
			"\"new_field\":{\"deep\":[1,2]},\"syscalls\":\"not an array\"}\n",
			&ret, &err);
	assert_int_equal(ret, 0);
	assert_int_equal(rec->unknown_types, 1);
	assert_int_equal(rec->n_stall_begins, 1);
	assert_int_equal(rec->n_stalls, 1);
	assert_int_equal(rec->stalls[0].line, 4);
	assert_string_equal(rec->stalls[0].comm, "?");
	assert_int_equal(rec->stalls[0].n_syscalls, 0);
	assert_null(rec->stalls[0].callback);
	assert_int_equal(rec->n_summaries, 0);
	recording__free(rec);
}

static void expect_error(const char *text, unsigned line, const char *msg)
{
	struct rf_error err;
	struct recording *rec;
	int ret;

	rec = read_text(text, &ret, &err);
	assert_int_equal(ret, -EINVAL);
	assert_null(rec);
	assert_int_equal(err.line, line);
	assert_non_null(strstr(err.msg, msg));
}

static void test_malformed(void **state)
{
	(void)state;
	expect_error(STALL "\n{\"type\":\"stall\",\n" SUMMARY("1") "\n", 2, "malformed JSON");
	expect_error(STALL "\n" STALL " trailing\n", 2, "malformed JSON");
	expect_error("[1,2]\n", 1, "not a record");
	expect_error("{\"schema_version\":1}\n", 1, "without a type");
	expect_error("{\"type\":\"stall\"}\n", 1, "without a schema_version");
	expect_error("{\"type\":\"summary\",\"schema_version\":2}\n", 1, "schema_version 2");
	expect_error("{\"type\":\"stall\",\"schema_version\":1,\"cause\":\"cpu\"}\n", 1,
		     "duration_ms");
	expect_error("{\"type\":\"stall\",\"schema_version\":1,\"duration_ms\":9}\n", 1, "cause");
	expect_error("", 0, "no loopstall records");
	expect_error("\n\n", 0, "no loopstall records");
}

/* What a killed recorder leaves: the last line cut, no newline. */
static void test_truncated_last_line(void **state)
{
	char text[4096];
	struct rf_error err;
	struct recording *rec;
	int ret;

	(void)state;
	snprintf(text, sizeof(text), "%s\n%.*s", STALL, 100, STALL);
	expect_error(text, 2, "malformed JSON");
	rec = read_text(text, &ret, &err);
	assert_non_null(strstr(err.msg, "ends mid-line"));
	assert_null(rec);

	/* a complete last line without its newline is fine */
	snprintf(text, sizeof(text), "%s\n%s", STALL, SUMMARY("5"));
	rec = read_text(text, &ret, &err);
	assert_int_equal(ret, 0);
	assert_int_equal(rec->n_summaries, 1);
	recording__free(rec);
}

static void test_summaries_merge(void **state)
{
	struct rf_error err;
	struct recording *rec;
	int ret;

	(void)state;
	rec = read_text(SUMMARY("1000") "\n" SUMMARY("500") "\n", &ret, &err);
	assert_int_equal(ret, 0);
	assert_int_equal(rec->n_summaries, 2);
	assert_true(rec->summary.recorded_ms == 1500);
	assert_int_equal(rec->summary.stalls, 2);
	assert_int_equal(rec->summary.lost_events, 4);
	assert_int_equal(rec->summary.n_threads, 2);
	recording__free(rec);
}

/* Without a summary, the stalls' own span is the time recorded. */
static void test_no_summary(void **state)
{
	struct recording *rec = recording__new();
	struct rf_error err;

	(void)state;
	assert_int_equal(recording__add_line(rec, STALL, strlen(STALL), 1, &err), 0);
	assert_true(recording__recorded_ms(rec) > 500.7 && recording__recorded_ms(rec) < 500.8);
	assert_true(recording__threshold_ms(rec) == 50);
	recording__free(rec);
	recording__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stall_fields),
		cmocka_unit_test(test_unknown_types_and_fields),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncated_last_line),
		cmocka_unit_test(test_summaries_merge),
		cmocka_unit_test(test_no_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
