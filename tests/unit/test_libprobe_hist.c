// SPDX-License-Identifier: BSD-2-Clause
/*
 * libprobe's log-linear histogram (lprobe_shm.h) and the agent's quantiles
 * over it (probe_shm.c): every value has exactly one bucket, and from 1 us
 * to minutes a quantile is within 1 % of the exact one.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lprobe_shm.h"
#include "probe_shm.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void every_value_has_one_bucket(void **state)
{
	uint32_t prev = 0;
	uint64_t v;

	(void)state;
	for (v = 0; v < (1ull << 42); v = v < 4096 ? v + 1 : v + v / 97 + 1) {
		uint32_t b = lps_hist_bucket(v);

		assert_true(b < LPS_HIST_BUCKETS);
		assert_true(b >= prev); /* monotonic */
		prev = b;
		if (b < LPS_HIST_BUCKETS - 1) {
			assert_true(lps_hist_lower(b) <= v);
			assert_true(v < lps_hist_lower(b + 1));
		}
	}
	/* beyond 2^41 ns (36 min) everything shares the last bucket */
	assert_int_equal(lps_hist_bucket(UINT64_MAX), LPS_HIST_BUCKETS - 1);
	assert_int_equal(lps_hist_bucket(0), 0);
}

static void buckets_are_narrow_from_1us(void **state)
{
	uint32_t b;

	(void)state;
	for (b = lps_hist_bucket(1000); b < LPS_HIST_BUCKETS - 1; b++) {
		double lo = (double)lps_hist_lower(b), hi = (double)lps_hist_lower(b + 1);

		/* the midpoint is within half a bucket of any value in it: under 1 %, 1/128 from
		 * 1024 ns */
		assert_true((hi - lo) / 2 / lo <= (lo < 1024 ? 0.01 : 1.0 / 128 + 1e-12));
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Fill a histogram with n values from gen, compare its quantiles with the exact ones. */
static void check_quantiles(uint64_t (*gen)(unsigned i), unsigned n)
{
	static const double qs[] = {0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0};
	uint64_t *counts = calloc(LPS_HIST_BUCKETS, sizeof(*counts));
	uint64_t *vals = calloc(n, sizeof(*vals)), max = 0;
	unsigned i, k;

	assert_non_null(counts);
	assert_non_null(vals);
	for (i = 0; i < n; i++) {
		vals[i] = gen(i);
		counts[lps_hist_bucket(vals[i])]++;
		if (vals[i] > max)
			max = vals[i];
	}
	qsort(vals, n, sizeof(*vals), cmp_u64);
	for (k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		uint64_t rank = (uint64_t)ceil(qs[k] * n);
		uint64_t exact = vals[(rank ? rank : 1) - 1];
		uint64_t est = ls_probe_hist_quantile(counts, LPS_HIST_BUCKETS, qs[k], max);
		double err = fabs((double)est - (double)exact) / (double)exact;

		if (err > 0.01)
			fail_msg("q%.3f: exact %llu ns, histogram %llu ns: %.2f %% off", qs[k],
				 (unsigned long long)exact, (unsigned long long)est, err * 100);
	}
	free(vals);
	free(counts);
}

/* log-uniform from 1 us to 10 min */
static uint64_t log_uniform(unsigned i)
{
	double u = (double)(next_rand() >> 11) / (double)(1ull << 53);

	(void)i;
	return (uint64_t)(1e3 * pow(6e5, u)) + 1000;
}

static uint64_t heartbeat_like(unsigned i)
{
	/* mostly 10-500 us late, now and then a stall of 50 ms .. 3 s */
	if (i % 97 == 0)
		return 50000000ull + next_rand() % 2950000000ull;
	return 10000 + next_rand() % 490000;
}

static uint64_t constant_2min(unsigned i)
{
	(void)i;
	return 120ull * 1000000000ull;
}

static void quantiles_within_1_percent(void **state)
{
	(void)state;
	check_quantiles(log_uniform, 200000);
	check_quantiles(heartbeat_like, 200000);
	/* a long block is recorded as the long gap it was */
	check_quantiles(constant_2min, 10);
}

static void quantile_edges(void **state)
{
	uint64_t counts[LPS_HIST_BUCKETS] = {0};

	(void)state;
	assert_int_equal(ls_probe_hist_quantile(counts, LPS_HIST_BUCKETS, 0.5, 0), 0);
	/* never above the largest value seen */
	counts[lps_hist_bucket(1500000)] = 3;
	assert_true(ls_probe_hist_quantile(counts, LPS_HIST_BUCKETS, 1.0, 1500001) <= 1500001);
	/* values past the last bucket come back as the maximum */
	memset(counts, 0, sizeof(counts));
	counts[lps_hist_bucket(1ull << 45)] = 1;
	assert_int_equal(
	    ls_probe_hist_quantile(counts, LPS_HIST_BUCKETS, 0.5, 1ull << 45),
	    lps_hist_lower(LPS_HIST_BUCKETS - 1) +
		(lps_hist_lower(LPS_HIST_BUCKETS) - lps_hist_lower(LPS_HIST_BUCKETS - 1)) / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_value_has_one_bucket),
	    cmocka_unit_test(buckets_are_narrow_from_1us),
	    cmocka_unit_test(quantiles_within_1_percent),
	    cmocka_unit_test(quantile_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
