// SPDX-License-Identifier: BSD-2-Clause
/*
 * The Prometheus exposition writer (metrics.c), for what `promtool check
 * metrics` does not check: buckets in increasing order and cumulative,
 * +Inf equal to _count, label values and HELP escaped, one HELP and one TYPE
 * per family with its samples right after them; and the conversion of BPF's
 * busy-period histogram into Prometheus buckets.
 */
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
#include "loop_tracker.h"
#include "metrics.h"

static const double stall_bounds[] = { .001, .0025, .005, .01, .025, .05, .1,
				       .25,  .5,    1,    2.5, 5,    10,  30 };
#define N_STALL (sizeof(stall_bounds) / sizeof(stall_bounds[0]))

static char *render(struct ls_metrics *m)
{
	char *text;
	size_t len;

	assert_int_equal(ls_metrics__render(m, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	return text;
}

static void test_counter_and_gauge(void **state)
{
	static const char *const labels[] = { "target", "cause", NULL };
	struct ls_metric_family *stalls, *targets, *info;
	struct ls_metrics *m;
	char *text;

	(void)state;
	assert_int_equal(ls_metrics__new(&m), 0);
	assert_int_equal(ls_metrics__family(m, "loopstall_stalls_total", "Stalls seen.",
					    LS_METRIC_COUNTER, labels, NULL, 0, &stalls),
			 0);
	assert_int_equal(ls_metrics__family(m, "loopstall_targets", "Attached processes.",
					    LS_METRIC_GAUGE, NULL, NULL, 0, &targets),
			 0);
	assert_int_equal(ls_metrics__family(m, "loopstall_build_info", "Build.", LS_METRIC_GAUGE,
					    (const char *const[]){ "version", NULL }, NULL, 0,
					    &info),
			 0);
	assert_int_equal(ls_metrics__add(stalls, (const char *const[]){ "redis", "cpu" }, 2), 0);
	assert_int_equal(ls_metrics__add(stalls, (const char *const[]){ "redis", "mixed" }, 0), 0);
	assert_int_equal(ls_metrics__add(stalls, (const char *const[]){ "redis", "cpu" }, 1), 0);
	assert_int_equal(ls_metrics__set(targets, NULL, 3), 0);
	assert_int_equal(ls_metrics__set(info, (const char *const[]){ "0.1.0" }, 1), 0);
	text = render(m);
	assert_string_equal(text, "# HELP loopstall_stalls_total Stalls seen.\n"
				  "# TYPE loopstall_stalls_total counter\n"
				  "loopstall_stalls_total{target=\"redis\",cause=\"cpu\"} 3\n"
				  "loopstall_stalls_total{target=\"redis\",cause=\"mixed\"} 0\n"
				  "# HELP loopstall_targets Attached processes.\n"
				  "# TYPE loopstall_targets gauge\n"
				  "loopstall_targets 3\n"
				  "# HELP loopstall_build_info Build.\n"
				  "# TYPE loopstall_build_info gauge\n"
				  "loopstall_build_info{version=\"0.1.0\"} 1\n");
	free(text);
	ls_metrics__free(m);
}

static void test_histogram_cumulative(void **state)
{
	static const double bounds[] = { 0.125, 0.25, 1 };
	const char *const target[] = { "api" };
	struct ls_metric_family *h;
	struct ls_metrics *m;
	char *text;

	(void)state;
	assert_int_equal(ls_metrics__new(&m), 0);
	assert_int_equal(ls_metrics__family(m, "x_seconds", "X.", LS_METRIC_HISTOGRAM,
					    (const char *const[]){ "target", NULL }, bounds, 3, &h),
			 0);
	/* 0.125 is "less than or equal": it belongs to the first bucket */
	assert_int_equal(ls_metrics__observe(h, target, 0.125), 0);
	assert_int_equal(ls_metrics__observe(h, target, 0.5), 0);
	assert_int_equal(ls_metrics__observe(h, target, 0.5), 0);
	assert_int_equal(ls_metrics__observe(h, target, 7), 0);
	assert_int_equal(ls_metrics__add_hist(h, target, (const uint64_t[]){ 1, 0, 0, 2 }, 2.5),
			 0);
	text = render(m);
	assert_string_equal(text, "# HELP x_seconds X.\n"
				  "# TYPE x_seconds histogram\n"
				  "x_seconds_bucket{target=\"api\",le=\"0.125\"} 2\n"
				  "x_seconds_bucket{target=\"api\",le=\"0.25\"} 2\n"
				  "x_seconds_bucket{target=\"api\",le=\"1\"} 4\n"
				  "x_seconds_bucket{target=\"api\",le=\"+Inf\"} 7\n"
				  "x_seconds_sum{target=\"api\"} 10.625\n"
				  "x_seconds_count{target=\"api\"} 7\n");
	free(text);
	ls_metrics__free(m);
}

/* cmocka 1.1.5 has no assert_double_equal */
static void expect_num(double got, double want)
{
	if (got != want)
		fail_msg("got %.17g, expected %.17g", got, want);
}

/* Parsed sample line: the number after the last space. */
static double sample_value(const char *line)
{
	return strtod(strrchr(line, ' ') + 1, NULL);
}

static double le_value(const char *line)
{
	const char *le = strstr(line, "le=\"") + 4;

	return strncmp(le, "+Inf", 4) ? strtod(le, NULL) : INFINITY;
}

/* Many observations, several series: check the invariants line by line. */
static void test_histogram_invariants(void **state)
{
	static const char *const causes[] = { "cpu", "blocking_syscall", "lock_wait" };
	uint64_t expect[3][N_STALL + 1] = { { 0 } };
	struct ls_metric_family *h;
	struct ls_metrics *m;
	char *text, *line, *save;
	double last_le = -1, last_count = -1, inf = -1;
	int series = -1, buckets = 0, sums = 0, counts = 0, k;
	uint64_t cum;
	unsigned i;

	(void)state;
	assert_int_equal(ls_metrics__new(&m), 0);
	assert_int_equal(ls_metrics__family(m, "loopstall_stall_duration_seconds", "Stalls.",
					    LS_METRIC_HISTOGRAM,
					    (const char *const[]){ "target", "cause", NULL },
					    stall_bounds, N_STALL, &h),
			 0);
	for (i = 0; i < 3000; i++) {
		const char *cause = causes[i % 3];
		/* 0.5 ms .. 60 s, spread over every bucket and past the last */
		double v = 0.0005 * pow(1.005, (double)i);

		assert_int_equal(ls_metrics__observe(h, (const char *const[]){ "t", cause }, v), 0);
		expect[i % 3][ls_metrics_bucket(stall_bounds, N_STALL, v)]++;
	}
	text = render(m);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "_bucket{")) {
			double le = le_value(line), v = sample_value(line);

			if (le < last_le || last_le == INFINITY) {
				/* a new series starts: the previous one ended at +Inf */
				assert_true(last_le == INFINITY);
				last_le = -1;
				last_count = -1;
			}
			if (last_le < 0) {
				series++;
				buckets = 0;
			}
			assert_true(le > last_le);
			assert_true(v >= last_count);
			if (le != INFINITY) {
				cum = 0;
				for (k = 0; k <= buckets; k++)
					cum += expect[series][k];
				expect_num(le, stall_bounds[buckets]);
				expect_num(v, (double)cum);
			} else {
				assert_int_equal(buckets, N_STALL);
				inf = v;
			}
			last_le = le;
			last_count = v;
			buckets++;
		} else if (strstr(line, "_sum{")) {
			sums++;
		} else if (strstr(line, "_count{")) {
			expect_num(sample_value(line), inf);
			expect_num(inf, 1000);
			counts++;
		}
	}
	assert_int_equal(series, 2);
	assert_int_equal(sums, 3);
	assert_int_equal(counts, 3);
	free(text);
	ls_metrics__free(m);
}

static void test_escaping(void **state)
{
	struct ls_metric_family *f;
	struct ls_metrics *m;
	char *text;

	(void)state;
	assert_int_equal(ls_metrics__new(&m), 0);
	assert_int_equal(ls_metrics__family(m, "esc_total", "A \\ and a\nnewline, \"quoted\".",
					    LS_METRIC_COUNTER, (const char *const[]){ "target", NULL },
					    NULL, 0, &f),
			 0);
	assert_int_equal(
		ls_metrics__add(f, (const char *const[]){ "a\\b \"c\"\nd\xc3\xa9" }, 1), 0);
	text = render(m);
	/* HELP escapes \ and newline only; label values also the double quote */
	assert_string_equal(text,
			    "# HELP esc_total A \\\\ and a\\nnewline, \"quoted\".\n"
			    "# TYPE esc_total counter\n"
			    "esc_total{target=\"a\\\\b \\\"c\\\"\\nd\xc3\xa9\"} 1\n");
	free(text);
	ls_metrics__free(m);
}

/* Interleaved updates of two families still print each family in one block. */
static void test_one_help_type_per_family(void **state)
{
	static const char *const names[] = { "a_total", "b_seconds" };
	struct ls_metric_family *a, *b;
	struct ls_metrics *m;
	char *text, *line, *save, label[16];
	int help[2] = { 0 }, type[2] = { 0 }, current = -1, seen_done[2] = { 0 };
	unsigned i;

	(void)state;
	assert_int_equal(ls_metrics__new(&m), 0);
	assert_int_equal(ls_metrics__family(m, "a_total", "A.", LS_METRIC_COUNTER,
					    (const char *const[]){ "target", NULL }, NULL, 0, &a),
			 0);
	assert_int_equal(ls_metrics__family(m, "b_seconds", "B.", LS_METRIC_HISTOGRAM,
					    (const char *const[]){ "target", NULL }, stall_bounds,
					    N_STALL, &b),
			 0);
	for (i = 0; i < 20; i++) {
		const char *const v[] = { label };

		snprintf(label, sizeof(label), "t%u", i % 7);
		assert_int_equal(ls_metrics__add(a, v, 1), 0);
		assert_int_equal(ls_metrics__observe(b, v, i * 0.01), 0);
	}
	assert_int_equal(ls_metrics__family(m, "a_total", "again", LS_METRIC_COUNTER, NULL, NULL,
					    0, NULL),
			 -EEXIST);
	text = render(m);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int k;

		for (k = 0; k < 2; k++) {
			size_t n = strlen(names[k]);

			if (!strncmp(line, "# HELP ", 7) && !strncmp(line + 7, names[k], n)) {
				help[k]++;
				if (current >= 0)
					seen_done[current] = 1;
				current = k;
			}
			if (!strncmp(line, "# TYPE ", 7) && !strncmp(line + 7, names[k], n)) {
				type[k]++;
				assert_int_equal(current, k);
			}
			if (!strncmp(line, names[k], n)) {
				/* a sample belongs to the family whose block is open */
				assert_int_equal(current, k);
				assert_false(seen_done[k]);
			}
		}
	}
	assert_int_equal(help[0], 1);
	assert_int_equal(help[1], 1);
	assert_int_equal(type[0], 1);
	assert_int_equal(type[1], 1);
	free(text);
	ls_metrics__free(m);
}

static void test_rejects_bad_input(void **state)
{
	static const double unordered[] = { 0.1, 0.01 };
	static const double with_inf[] = { 0.1, INFINITY };
	struct ls_metric_family *c, *h;
	struct ls_metrics *m;

	(void)state;
	assert_int_equal(ls_metrics__new(&m), 0);
	assert_int_equal(ls_metrics__family(m, "9bad", "x", LS_METRIC_GAUGE, NULL, NULL, 0, NULL),
			 -EINVAL);
	assert_int_equal(ls_metrics__family(m, "bad-name", "x", LS_METRIC_GAUGE, NULL, NULL, 0,
					    NULL),
			 -EINVAL);
	assert_int_equal(ls_metrics__family(m, "ok", "x", LS_METRIC_GAUGE,
					    (const char *const[]){ "__reserved", NULL }, NULL, 0,
					    NULL),
			 -EINVAL);
	assert_int_equal(ls_metrics__family(m, "ok", "x", LS_METRIC_GAUGE,
					    (const char *const[]){ "a", "a", NULL }, NULL, 0, NULL),
			 -EINVAL);
	assert_int_equal(ls_metrics__family(m, "h", "x", LS_METRIC_HISTOGRAM,
					    (const char *const[]){ "le", NULL }, stall_bounds,
					    N_STALL, NULL),
			 -EINVAL);
	assert_int_equal(ls_metrics__family(m, "h", "x", LS_METRIC_HISTOGRAM, NULL, unordered, 2,
					    NULL),
			 -EINVAL);
	assert_int_equal(ls_metrics__family(m, "h", "x", LS_METRIC_HISTOGRAM, NULL, with_inf, 2,
					    NULL),
			 -EINVAL);
	assert_int_equal(ls_metrics__family(m, "h", "x", LS_METRIC_HISTOGRAM, NULL, NULL, 0, NULL),
			 -EINVAL);
	assert_int_equal(ls_metrics__family(m, "c_total", "x", LS_METRIC_COUNTER,
					    (const char *const[]){ "target", NULL }, NULL, 0, &c),
			 0);
	assert_int_equal(ls_metrics__family(m, "h", "x", LS_METRIC_HISTOGRAM, NULL, stall_bounds,
					    N_STALL, &h),
			 0);
	/* a counter never goes down, a value is never NaN, every label has a value */
	assert_int_equal(ls_metrics__add(c, (const char *const[]){ "t" }, -1), -EINVAL);
	assert_int_equal(ls_metrics__set(c, (const char *const[]){ "t" }, NAN), -EINVAL);
	assert_int_equal(ls_metrics__add(c, NULL, 1), -EINVAL);
	assert_int_equal(ls_metrics__add(c, (const char *const[]){ NULL }, 1), -EINVAL);
	assert_int_equal(ls_metrics__observe(c, (const char *const[]){ "t" }, 1), -EINVAL);
	assert_int_equal(ls_metrics__add(h, NULL, 1), -EINVAL);
	assert_int_equal(ls_metrics__observe(h, NULL, NAN), -EINVAL);
	ls_metrics__free(m);
}

/* A family without series is left out; numbers print in their shortest exact form. */
static void test_empty_family_and_numbers(void **state)
{
	static const double bounds[] = { 1e-05, 0.0025, 30 };
	struct ls_metric_family *g, *h;
	struct ls_metrics *m;
	char *text;

	(void)state;
	assert_int_equal(ls_metrics__new(&m), 0);
	assert_int_equal(ls_metrics__family(m, "empty", "E.", LS_METRIC_GAUGE, NULL, NULL, 0, NULL),
			 0);
	assert_int_equal(ls_metrics__family(m, "g", "G.", LS_METRIC_GAUGE,
					    (const char *const[]){ "k", NULL }, NULL, 0, &g),
			 0);
	assert_int_equal(ls_metrics__family(m, "h", "H.", LS_METRIC_HISTOGRAM, NULL, bounds, 3,
					    &h),
			 0);
	assert_int_equal(ls_metrics__set(g, (const char *const[]){ "big" }, 18446744073709551616.0),
			 0);
	assert_int_equal(ls_metrics__set(g, (const char *const[]){ "frac" }, 0.1 + 0.2), 0);
	assert_int_equal(ls_metrics__set(g, (const char *const[]){ "inf" }, INFINITY), 0);
	assert_int_equal(ls_metrics__set(g, (const char *const[]){ "neg" }, -2.5), 0);
	assert_int_equal(ls_metrics__set(g, (const char *const[]){ "tiny" }, 1.5e-300), 0);
	assert_int_equal(ls_metrics__set(g, (const char *const[]){ "ms" }, 0.123), 0);
	assert_int_equal(ls_metrics__add_hist(h, NULL, NULL, 0), 0);
	text = render(m);
	assert_string_equal(text, "# HELP g G.\n"
				  "# TYPE g gauge\n"
				  "g{k=\"big\"} 18446744073709551616\n"
				  "g{k=\"frac\"} 0.30000000000000004\n"
				  "g{k=\"inf\"} +Inf\n"
				  "g{k=\"neg\"} -2.5\n"
				  "g{k=\"tiny\"} 1.5e-300\n"
				  "g{k=\"ms\"} 0.123\n"
				  "# HELP h H.\n"
				  "# TYPE h histogram\n"
				  "h_bucket{le=\"1e-05\"} 0\n"
				  "h_bucket{le=\"0.0025\"} 0\n"
				  "h_bucket{le=\"30\"} 0\n"
				  "h_bucket{le=\"+Inf\"} 0\n"
				  "h_sum 0\n"
				  "h_count 0\n");
	free(text);
	ls_metrics__free(m);
}

/* xorshift64*: reproducible samples */
static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* Where one busy period of v ns lands after the conversion. */
static size_t converted_bucket(uint64_t v)
{
	static uint64_t bpf[LT_HIST_BUCKETS];
	uint64_t out[N_STALL + 1];
	size_t k;

	memset(bpf, 0, sizeof(bpf));
	bpf[lt_hist_bucket(v)] = 1;
	ls_metrics_from_bpf_hist(bpf, stall_bounds, N_STALL, out);
	for (k = 0; k <= N_STALL; k++)
		if (out[k])
			return k;
	fail_msg("%llu ns lost in the conversion", (unsigned long long)v);
	return 0;
}

/*
 * Never a shorter bucket than the true one, and one above it only when the
 * value is within a BPF bucket width (1/16 of it) below the bound it crossed.
 */
static void check_conversion(uint64_t v)
{
	size_t truth = ls_metrics_bucket(stall_bounds, N_STALL, (double)v / 1e9);
	size_t got = converted_bucket(v);

	if (got < truth)
		fail_msg("%llu ns: bucket %zu, below the true %zu", (unsigned long long)v, got,
			 truth);
	if (got > truth + 1 ||
	    (got > truth && stall_bounds[got - 1] * 1e9 > (double)v * (1.0 + 1.0 / 16) + 1024))
		fail_msg("%llu ns: bucket %zu, true %zu: beyond the documented error",
			 (unsigned long long)v, got, truth);
}

static void test_bpf_conversion(void **state)
{
	uint64_t bpf[LT_HIST_BUCKETS] = { 0 }, out[N_STALL + 1], total = 0, sum = 0;
	unsigned i, k;

	(void)state;
	for (k = 0; k < N_STALL; k++) {
		uint64_t edge = (uint64_t)llround(stall_bounds[k] * 1e9);

		check_conversion(edge - 1);
		check_conversion(edge);
		check_conversion(edge + 1);
		check_conversion(edge - edge / 20);
		check_conversion(edge + edge / 20);
	}
	for (i = 0; i < 20000; i++)
		check_conversion(rng() % 40000000000ull);
	/* tiny periods go to the first bucket, BPF's overflow to +Inf */
	assert_int_equal(converted_bucket(0), 0);
	assert_int_equal(converted_bucket(500), 0);
	assert_int_equal(converted_bucket(1ull << 41), N_STALL);
	assert_int_equal(converted_bucket(31000000000ull), N_STALL);

	/* every count survives the conversion */
	for (i = 0; i < LT_HIST_BUCKETS; i++) {
		bpf[i] = i + 1;
		total += i + 1;
	}
	ls_metrics_from_bpf_hist(bpf, stall_bounds, N_STALL, out);
	for (k = 0; k <= N_STALL; k++)
		sum += out[k];
	assert_int_equal(sum, total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_and_gauge),
		cmocka_unit_test(test_histogram_cumulative),
		cmocka_unit_test(test_histogram_invariants),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_one_help_type_per_family),
		cmocka_unit_test(test_rejects_bad_input),
		cmocka_unit_test(test_empty_family_and_numbers),
		cmocka_unit_test(test_bpf_conversion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
