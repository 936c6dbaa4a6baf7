// SPDX-License-Identifier: BSD-2-Clause
/*
 * report --since/--until/--pid/--target: the times they take
 * (report_filter.c), their arguments (report_args.c) and what the reader
 * keeps (recfile.c), several files read as one history.
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
#include "recfile.h"
#include "report_args.h"
#include "report_filter.h"

#define S 1000000000ll
#define NOW (1796667600ll * S) /* 2026-12-07T18:20:00Z */

static int64_t when(const char *text)
{
	int64_t t = -1;

	if (report_parse_when(text, NOW, &t))
		fail_msg("'%s' did not parse", text);
	return t;
}

static void refused(const char *text)
{
	int64_t t = -7;

	if (report_parse_when(text, NOW, &t) != -EINVAL)
		fail_msg("'%s' parsed, to %lld", text, (long long)t);
	assert_int_equal(t, -7);
}

static void test_durations_ago(void **state)
{
	(void)state;
	assert_int_equal(when("5m"), NOW - 300 * S);
	assert_int_equal(when("1.5h"), NOW - 5400 * S);
	assert_int_equal(when("2d"), NOW - 2 * 86400 * S);
	assert_int_equal(when("250ms"), NOW - S / 4);
	assert_int_equal(when("30s"), NOW - 30 * S);
	assert_int_equal(when("10us"), NOW - 10000);
	assert_int_equal(when("7ns"), NOW - 7);
	assert_int_equal(when("0s"), NOW);
	refused("5x");
	refused("m");
	refused("-5m");
	refused("5 m");
	refused("5M");
	refused("1e3s");
	refused("99999999d"); /* before 1970 */
	refused("");
	refused(NULL);
}

static void test_rfc3339(void **state)
{
	(void)state;
	assert_int_equal(when("2026-12-07T18:20:00Z"), NOW);
	assert_int_equal(when("2026-12-07t18:20:00z"), NOW);
	assert_int_equal(when("2026-12-07 18:20:00Z"), NOW);
	assert_int_equal(when("2026-12-07T18:20:00.25Z"), NOW + S / 4);
	assert_int_equal(when("2026-12-07T18:20:00.000000001Z"), NOW + 1);
	assert_int_equal(when("2026-12-07T19:20:00+01:00"), NOW);
	assert_int_equal(when("2026-12-07T12:50:00-05:30"), NOW);
	assert_int_equal(when("2024-02-29T00:00:00Z"), 1709164800ll * S);
	refused("2026-12-07T18:20:00"); /* no offset: which zone? */
	refused("2026-02-30T00:00:00Z");
	refused("2026-13-01T00:00:00Z");
	refused("2026-12-07T24:00:00Z");
	refused("2026-12-07T18:20Z");
	refused("2026-12-07T18:20:00.Z");
	refused("2026-12-07T18:20:00Zjunk");
	refused("2026-12-07T18:20:00+1:00");
	refused("1969-12-31T23:59:59Z");
	refused("3026-12-07T12:50:00-05:30"); /* past int64 nanoseconds (2262) */
	refused("2026-12-07");
}

static void test_unix_times(void **state)
{
	(void)state;
	assert_int_equal(when("1796667600"), NOW);
	assert_int_equal(when("1796667600.5"), NOW + S / 2);
	assert_int_equal(when("1796667600250"), NOW + S / 4);		      /* ms */
	assert_int_equal(when("1796667600000001"), NOW + 1000);		      /* us */
	assert_int_equal(when("1795697982651557123"), 1795697982651557123ll); /* ns, exact */
	refused("17966676001234567890");
	refused("99999999999");	   /* seconds past 2262: would wrap */
	refused("99999999999999"); /* ms, the same */
	refused("1796667600x");
	refused("0x10");
	refused("1.2.3");
}

static void test_args(void **state)
{
	char *ok[] = {"report", "--since",  "5m",  "--until", "1m",	   "--pid",
		      "42",	"--target", "api", "a.jsonl", "a.jsonl.1", NULL};
	char *short_pid[] = {"doctor", "-p", "9", "x", NULL};
	char *bad_pid[] = {"report", "--pid", "0", "x", NULL};
	char *word_pid[] = {"report", "--pid", "nginx", "x", NULL};
	char *empty_target[] = {"report", "--target", "", "x", NULL};
	char *backwards[] = {"report", "--since", "1m", "--until", "5m", "x", NULL};
	char *bad_since[] = {"report", "--since", "yesterday", "x", NULL};
	char *stdin_and_file[] = {"report", "x", "-", NULL};
	struct report_args a;
	struct rf_filter f;
	char err[256];

	(void)state;
	assert_int_equal(report_args_parse(11, ok, false, &a, err, sizeof(err)), 0);
	assert_int_equal(a.n_files, 2);
	assert_string_equal(a.files[1], "a.jsonl.1");
	assert_int_equal(report_args_filter(&a, NOW, &f, err, sizeof(err)), 0);
	assert_int_equal(f.since_unix_ns, NOW - 300 * S);
	assert_int_equal(f.until_unix_ns, NOW - 60 * S);
	assert_int_equal(f.pid, 42);
	assert_string_equal(f.target, "api");
	assert_true(rf_filter__active(&f));
	assert_int_equal(report_args_parse(4, short_pid, true, &a, err, sizeof(err)), 0);
	assert_int_equal(a.pid, 9);

	assert_int_equal(report_args_parse(4, bad_pid, false, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--pid '0'"));
	assert_int_equal(report_args_parse(4, word_pid, false, &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(report_args_parse(4, empty_target, false, &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(report_args_parse(6, backwards, false, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not before --until"));
	assert_int_equal(report_args_parse(4, bad_since, false, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--since 'yesterday'"));
	assert_int_equal(report_args_parse(3, stdin_and_file, false, &a, err, sizeof(err)),
			 -EINVAL);

	memset(&f, 0, sizeof(f));
	assert_false(rf_filter__active(&f));
}

/* A stall of pid P (comm C, loopstalld target T or none) starting at second SEC. */
static void stall_line(char *buf, size_t len, unsigned pid, const char *comm, const char *target,
		       long long sec)
{
	char tgt[64] = "";

	if (target)
		snprintf(tgt, sizeof(tgt), "\"target\":\"%s\",", target);
	snprintf(buf, len,
		 "{\"type\":\"stall\",\"schema_version\":1,\"pid\":%u,\"tid\":%u,\"comm\":\"%s\",%s"
		 "\"start_unix_ns\":%lld,\"end_unix_ns\":%lld,\"duration_ms\":100,"
		 "\"threshold_ms\":50,\"cause\":\"cpu\",\"syscalls\":[],\"cpu_stacks\":[]}\n",
		 pid, pid, comm, tgt, sec * S, sec * S + S / 10);
}

static void summary_line(char *buf, size_t len, unsigned pid, const char *comm, long long from,
			 long long to)
{
	snprintf(buf, len,
		 "{\"type\":\"summary\",\"schema_version\":1,\"pid\":%u,\"comm\":\"%s\","
		 "\"start_unix_ns\":%lld,\"end_unix_ns\":%lld,\"recorded_ms\":%lld,"
		 "\"threshold_ms\":50,\"stalls\":2,\"lost_events\":0,\"threads\":[{\"pid\":%u,"
		 "\"tid\":%u,\"comm\":\"%s\",\"iterations\":10,\"busy_ms\":1,\"busy_ratio\":0.1,"
		 "\"stalls\":2,\"max_busy_ms\":100,\"heartbeat_gap_ms\":{\"p50\":1,\"p90\":1,"
		 "\"p99\":1,\"max\":100}}]}\n",
		 pid, comm, from * S, to * S, (to - from) * 1000, pid, pid, comm);
}

/*
 * Two files, newest first as a shell lists stalls.jsonl stalls.jsonl.1:
 * pid 10 (python3, target "api") stalls at 100 s and 200 s, pid 20
 * (node) at 150 s and 300 s; each process's summary covers 50..400 s.
 */
static struct recording *history(const struct rf_filter *filter)
{
	char older[4096], newer[4096], line[1024];
	struct recording *rec = recording__new();
	struct rf_error err;
	FILE *f;

	assert_non_null(rec);
	if (filter)
		rec->filter = *filter;
	older[0] = newer[0] = '\0';
	stall_line(line, sizeof(line), 10, "python3", "api", 100);
	strcat(older, line);
	stall_line(line, sizeof(line), 20, "node", NULL, 150);
	strcat(older, line);
	stall_line(line, sizeof(line), 10, "python3", "api", 200);
	strcat(newer, line);
	stall_line(line, sizeof(line), 20, "node", NULL, 300);
	strcat(newer, line);
	summary_line(line, sizeof(line), 10, "python3", 50, 400);
	strcat(newer, line);
	summary_line(line, sizeof(line), 20, "node", 50, 400);
	strcat(newer, line);

	f = fmemopen(newer, strlen(newer), "r");
	assert_int_equal(recording__read_more(rec, f, &err), 0);
	fclose(f);
	f = fmemopen(older, strlen(older), "r");
	assert_int_equal(recording__read_more(rec, f, &err), 0);
	fclose(f);
	recording__sort_stalls(rec);
	return rec;
}

static void test_one_history(void **state)
{
	struct recording *rec = history(NULL);
	uint32_t pids[4];

	(void)state;
	assert_int_equal(rec->n_stalls, 4);
	/* in order of their start, whichever file held them; lines are per file */
	assert_int_equal(rec->stalls[0].start_unix_ns, 100 * S);
	assert_int_equal(rec->stalls[1].start_unix_ns, 150 * S);
	assert_int_equal(rec->stalls[2].start_unix_ns, 200 * S);
	assert_int_equal(rec->stalls[3].start_unix_ns, 300 * S);
	assert_int_equal(rec->stalls[0].line, 1);
	assert_int_equal(rec->stalls[2].line, 1);
	assert_int_equal(rec->n_summaries, 2);
	assert_int_equal(recording__pids(rec, pids, 4), 2);
	assert_int_equal(pids[0], 10);
	assert_int_equal(pids[1], 20);
	/* a short array: the smallest pids */
	assert_int_equal(recording__pids(rec, pids, 1), 1);
	assert_int_equal(pids[0], 10);
	recording__free(rec);
}

static void test_filter_pid_and_target(void **state)
{
	struct rf_filter f = {.pid = 20};
	struct recording *rec = history(&f);

	(void)state;
	assert_int_equal(rec->n_stalls, 2);
	assert_int_equal(rec->stalls[0].pid, 20);
	assert_int_equal(rec->stalls[1].pid, 20);
	assert_int_equal(rec->n_summaries, 1);
	assert_int_equal(rec->summary.pid, 20);
	assert_int_equal(rec->summary.n_threads, 1);
	assert_int_equal(rec->filtered_out, 3);
	recording__free(rec);

	/* a target is loopstalld's name when the record has one, else the comm */
	f = (struct rf_filter){.target = "api"};
	rec = history(&f);
	assert_int_equal(rec->n_stalls, 2);
	assert_int_equal(rec->stalls[0].pid, 10);
	/* pid 10's summary has no target field: its comm is python3, not api */
	assert_int_equal(rec->n_summaries, 0);
	recording__free(rec);
	f = (struct rf_filter){.target = "node"};
	rec = history(&f);
	assert_int_equal(rec->n_stalls, 2);
	assert_int_equal(rec->n_summaries, 1);
	assert_string_equal(rec->summary.comm, "node");
	recording__free(rec);
}

static void test_filter_window(void **state)
{
	struct rf_filter f = {.since_unix_ns = 150 * S, .until_unix_ns = 300 * S};
	struct recording *rec = history(&f);

	(void)state;
	/* began at or after 150 s and before 300 s */
	assert_int_equal(rec->n_stalls, 2);
	assert_int_equal(rec->stalls[0].start_unix_ns, 150 * S);
	assert_int_equal(rec->stalls[1].start_unix_ns, 200 * S);
	/* both summaries overlap: each counts its 150 s of the window */
	assert_int_equal(rec->n_summaries, 2);
	assert_true(rec->summary.recorded_ms > 299999.0 && rec->summary.recorded_ms < 300001.0);
	assert_int_equal(rec->summary.start_unix_ns, 150 * S);
	assert_int_equal(rec->summary.end_unix_ns, 300 * S);
	recording__free(rec);

	/* after everything: no stall, no summary, and the records were there */
	f = (struct rf_filter){.since_unix_ns = 500 * S};
	rec = history(&f);
	assert_int_equal(rec->n_stalls, 0);
	assert_int_equal(rec->n_summaries, 0);
	assert_int_equal(rec->filtered_out, 6);
	assert_int_equal(rec->records, 6);
	recording__free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_durations_ago), cmocka_unit_test(test_rfc3339),
	    cmocka_unit_test(test_unix_times),	  cmocka_unit_test(test_args),
	    cmocka_unit_test(test_one_history),	  cmocka_unit_test(test_filter_pid_and_target),
	    cmocka_unit_test(test_filter_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
