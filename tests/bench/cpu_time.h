/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_BENCH_CPU_TIME_H
#define LOOPSTALL_BENCH_CPU_TIME_H

/*
 * The calling thread's CPU time and the median of rounds: what the
 * single-threaded cost benchmarks (symraw_cost, linetab_cost) time with.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t bench_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The median of v[0..n) (n >= 1), which it sorts. */
static inline uint64_t bench_median(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_u64);
	return v[n / 2];
}

#endif
