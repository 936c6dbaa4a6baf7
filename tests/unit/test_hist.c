// SPDX-License-Identifier: BSD-2-Clause
/*
 * The log-linear histogram shared with BPF (lt_hist_bucket/lt_hist_lower in
 * loop_tracker.h) and the quantiles user space reads from it (hist.c).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "hist.h"

#define LAST_BUCKET (LT_HIST_BUCKETS - 1)
#define MAX_NS (1ull << LT_HIST_MAX_SHIFT)

/* xorshift64*: reproducible samples without depending on libc's rand() */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void check_value(uint64_t v)
{
	uint32_t b = lt_hist_bucket(v);

	if (b > LAST_BUCKET)
		fail_msg("bucket(%llu) = %u out of range", (unsigned long long)v, b);
	if (v >= MAX_NS) {
		if (b != LAST_BUCKET)
			fail_msg("bucket(%llu) = %u, expected overflow bucket",
				 (unsigned long long)v, b);
		return;
	}
	if (v < lt_hist_lower(b) || v >= lt_hist_lower(b + 1))
		fail_msg("%llu outside its bucket %u [%llu, %llu)", (unsigned long long)v, b,
			 (unsigned long long)lt_hist_lower(b),
			 (unsigned long long)lt_hist_lower(b + 1));
}

static void test_bucket_contains_value(void **state)
{
	uint64_t v, step;
	unsigned shift, i;

	(void)state;
	for (v = 0; v < 4096; v++)
		check_value(v);
	/* every power of two, its neighbours, and points spread through each octave */
	for (shift = 0; shift <= LT_HIST_MAX_SHIFT + 2; shift++) {
		uint64_t p = 1ull << shift;

		check_value(p - 1);
		check_value(p);
		check_value(p + 1);
		step = p / 64 ? p / 64 : 1;
		for (v = p; v < 2 * p; v += step)
			check_value(v);
	}
	for (i = 0; i < 200000; i++)
		check_value(1 + rng() % (MAX_NS + MAX_NS / 8));
	check_value(UINT64_MAX);
}

static void test_bucket_monotonic(void **state)
{
	uint64_t v, prev_v = 0;
	uint32_t prev = 0;
	unsigned i;

	(void)state;
	/* geometric sweep 1 ns .. 2^41 ns, ~0.1 % apart, with a small additive step */
	for (v = 1; v <= 2 * MAX_NS; v = v + v / 1024 + 1) {
		uint32_t b = lt_hist_bucket(v);

		if (b < prev)
			fail_msg("bucket(%llu) = %u < bucket(%llu) = %u", (unsigned long long)v, b,
				 (unsigned long long)prev_v, prev);
		prev = b;
		prev_v = v;
	}
	assert_int_equal(prev, LAST_BUCKET);
	for (i = 0; i < LAST_BUCKET; i++)
		assert_true(lt_hist_lower(i) < lt_hist_lower(i + 1));
	/* every bucket's own lower bound maps back to it: no bucket is unreachable */
	for (i = 0; i <= LAST_BUCKET; i++)
		assert_int_equal(lt_hist_bucket(lt_hist_lower(i)), i);
}

static void test_bucket_width(void **state)
{
	unsigned i;

	(void)state;
	/* bucket 0 holds everything below the minimum resolution */
	assert_int_equal(lt_hist_lower(0), 0);
	assert_int_equal(lt_hist_lower(1), 1ull << LT_HIST_MIN_SHIFT);
	assert_int_equal(lt_hist_bucket((1ull << LT_HIST_MIN_SHIFT) - 1), 0);
	for (i = 1; i < LAST_BUCKET; i++) {
		uint64_t lo = lt_hist_lower(i), width = lt_hist_lower(i + 1) - lo;

		/* width / lo <= 1/16, in integers */
		if (width * LT_HIST_SUB > lo)
			fail_msg("bucket %u: width %llu of %llu exceeds 1/%u", i,
				 (unsigned long long)width, (unsigned long long)lo, LT_HIST_SUB);
	}
}

static void test_overflow_bucket(void **state)
{
	(void)state;
	assert_int_equal(lt_hist_bucket(MAX_NS - 1), LAST_BUCKET - 1);
	assert_int_equal(lt_hist_bucket(MAX_NS), LAST_BUCKET);
	assert_int_equal(lt_hist_bucket(MAX_NS * 3), LAST_BUCKET);
	assert_int_equal(lt_hist_bucket(UINT64_MAX), LAST_BUCKET);
	assert_int_equal(lt_hist_lower(LAST_BUCKET), MAX_NS);
	/* 1 ms and 1 s land where a reader expects them */
	assert_true(lt_hist_lower(lt_hist_bucket(1000000)) <= 1000000);
	assert_true(lt_hist_lower(lt_hist_bucket(1000000) + 1) > 1000000);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t bucket_width(uint64_t v)
{
	uint32_t b = lt_hist_bucket(v);

	if (b == LAST_BUCKET)
		return 0;
	return lt_hist_lower(b + 1) - lt_hist_lower(b);
}

/* Exact quantile with the definition hist.h documents, against the histogram's. */
static void check_quantiles(const uint64_t *sorted, size_t n, const struct ls_hist *h)
{
	static const double qs[] = { 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999 };
	size_t i;

	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		uint64_t rank = (uint64_t)ceil(qs[i] * (double)n);
		uint64_t exact = sorted[(rank ? rank : 1) - 1];
		uint64_t got = ls_hist_quantile(h, qs[i]);
		uint64_t diff = got > exact ? got - exact : exact - got;

		if (lt_hist_bucket(exact) == LAST_BUCKET) {
			assert_int_equal(got, h->max_ns);
			continue;
		}
		if (diff > bucket_width(exact) || got > sorted[n - 1])
			fail_msg("q=%g: got %llu, exact %llu (bucket width %llu)", qs[i],
				 (unsigned long long)got, (unsigned long long)exact,
				 (unsigned long long)bucket_width(exact));
	}
	assert_int_equal(ls_hist_quantile(h, 1.0), sorted[n - 1]);
}

static void test_quantile_random(void **state)
{
	enum { N = 5000 };
	uint64_t *samples = calloc(N, sizeof(*samples));
	struct ls_hist *h = calloc(1, sizeof(*h));
	unsigned round, i;

	(void)state;
	assert_non_null(samples);
	assert_non_null(h);
	for (round = 0; round < 20; round++) {
		memset(h, 0, sizeof(*h));
		for (i = 0; i < N; i++) {
			/* log-uniform over 2 us .. 2^(11+round) us, like loop busy periods */
			unsigned shift = 11 + (unsigned)(rng() % (round + 2));

			samples[i] = (1ull << shift) + rng() % (1ull << shift);
			ls_hist_record(h, samples[i]);
		}
		qsort(samples, N, sizeof(*samples), cmp_u64);
		assert_int_equal(h->total, N);
		assert_int_equal(h->max_ns, samples[N - 1]);
		check_quantiles(samples, N, h);
	}
	free(samples);
	free(h);
}

static void test_quantile_small_sets(void **state)
{
	struct ls_hist h;
	uint64_t v[3] = { 2000000, 30000000, 400000000 };

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_int_equal(ls_hist_quantile(&h, 0.5), 0);
	assert_int_equal(ls_hist_quantile(&h, 1.0), 0);

	/* one sample: every quantile is in its bucket and never above it */
	ls_hist_record(&h, 5000000);
	assert_true(ls_hist_quantile(&h, 0.5) <= 5000000);
	assert_true(ls_hist_quantile(&h, 0.5) >= lt_hist_lower(lt_hist_bucket(5000000)));
	assert_int_equal(ls_hist_quantile(&h, 1.0), 5000000);

	memset(&h, 0, sizeof(h));
	ls_hist_record(&h, v[0]);
	ls_hist_record(&h, v[1]);
	ls_hist_record(&h, v[2]);
	check_quantiles(v, 3, &h);
	/* rank ceil(0.34 * 3) = 2 is the second value */
	assert_int_equal(lt_hist_bucket(ls_hist_quantile(&h, 0.34)), lt_hist_bucket(v[1]));
	assert_int_equal(lt_hist_bucket(ls_hist_quantile(&h, 0.33)), lt_hist_bucket(v[0]));
}

static void test_quantile_overflow(void **state)
{
	struct ls_hist h;

	(void)state;
	memset(&h, 0, sizeof(h));
	ls_hist_record(&h, 1000);
	ls_hist_record(&h, 3 * MAX_NS);
	assert_int_equal(ls_hist_quantile(&h, 1.0), 3 * MAX_NS);
	assert_int_equal(ls_hist_quantile(&h, 0.9), 3 * MAX_NS);
	/* the value below the resolution: bucket 0's midpoint */
	assert_int_equal(ls_hist_quantile(&h, 0.5), (1ull << LT_HIST_MIN_SHIFT) / 2);
}

static void test_add_bpf(void **state)
{
	static uint32_t bpf[LT_HIST_BUCKETS];
	uint32_t slow = lt_hist_bucket(75000000);
	uint64_t slow_mid =
		lt_hist_lower(slow) + (lt_hist_lower(slow + 1) - lt_hist_lower(slow)) / 2;
	struct ls_hist h;

	(void)state;
	memset(&h, 0, sizeof(h));
	bpf[lt_hist_bucket(1000000)] = 9;
	bpf[slow] = 1;
	ls_hist_add_bpf(&h, bpf, 75000000);
	assert_int_equal(h.total, 10);
	assert_int_equal(h.max_ns, 75000000);
	assert_int_equal(lt_hist_bucket(ls_hist_quantile(&h, 0.9)), lt_hist_bucket(1000000));
	/* 75 ms sits above its bucket's midpoint, so the midpoint is reported */
	assert_true(slow_mid < 75000000);
	assert_int_equal(ls_hist_quantile(&h, 0.95), slow_mid);
	/* a second per-CPU copy adds up; a smaller max does not lower it */
	ls_hist_add_bpf(&h, bpf, 2000000);
	assert_int_equal(h.total, 20);
	assert_int_equal(h.counts[lt_hist_bucket(1000000)], 18);
	assert_int_equal(h.max_ns, 75000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_contains_value),
		cmocka_unit_test(test_bucket_monotonic),
		cmocka_unit_test(test_bucket_width),
		cmocka_unit_test(test_overflow_bucket),
		cmocka_unit_test(test_quantile_random),
		cmocka_unit_test(test_quantile_small_sets),
		cmocka_unit_test(test_quantile_overflow),
		cmocka_unit_test(test_add_bpf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
