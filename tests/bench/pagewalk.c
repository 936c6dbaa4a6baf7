// SPDX-License-Identifier: BSD-2-Clause
/*
 * What one page costs a program the first time it touches it after a
 * syscall, on this machine:
 *
 *   pagewalk [--iterations N] [--pages K]
 *
 * Each iteration makes one syscall (getppid) and then loads one word from
 * each of K pages, for K = 0, 2, .. --pages (default 8), twice: the loads
 * independent of one another, and as a chain (each page holds the address
 * of the next, so each load waits for the one before). Without a syscall
 * the pages stay in the TLB and cost nothing; with page-table isolation
 * and no PCID, every syscall switches page tables and empties the TLB, and
 * each page touched afterwards costs a page walk. The numbers are per
 * iteration (the median of 5 passes over all K in turn), and per page
 * against K = 0.
 *
 * Why it is here: libprobe touches a few pages of its own after each
 * callback (its code, its loop state, the flight-recorder ring), and on a
 * machine where this costs tens of nanoseconds a page, a callback that made
 * syscalls pays that many more (tests/bench/README.md, "libprobe overhead").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* pages 2 MiB apart: no two share a last-level page-table page */
#define STRIDE (512u * 4096u)
#define MAX_PAGES 32
#define PASSES 5 /* the median of these is printed */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ns per iteration: a syscall (or none), then k loads, independent or chained */
static double measure(char *base, unsigned k, bool sys, bool chained, long iterations)
{
	volatile uintptr_t sink = 0;
	uint64_t t0, t1;
	unsigned j;
	long i;

	for (j = 0; j < k; j++)
		*(char **)(base + (size_t)j * STRIDE) =
		    j + 1 < k ? base + (size_t)(j + 1) * STRIDE : NULL;
	t0 = now_ns();
	for (i = 0; i < iterations; i++) {
		uintptr_t s = 0;

		if (sys)
			syscall(SYS_getppid);
		if (chained) {
			char *p = k ? base : NULL;

			while (p) {
				s += (uintptr_t)p;
				p = *(char *volatile *)p;
			}
		} else {
			for (j = 0; j < k; j++)
				s += *(volatile uintptr_t *)(base + (size_t)j * STRIDE);
		}
		sink += s;
	}
	t1 = now_ns();
	(void)sink;
	return (double)(t1 - t0) / (double)iterations;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long iterations = 400000;
	unsigned max_pages = 8, k;
	char *base, *end;
	int i, mode;

	for (i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--iterations") && v) {
			iterations = strtol(v, &end, 10);
			if (*end || iterations < 1000) {
				fprintf(stderr, "pagewalk: --iterations: a number >= 1000\n");
				return 2;
			}
			i++;
		} else if (!strcmp(argv[i], "--pages") && v) {
			long n = strtol(v, &end, 10);

			if (*end || n < 1 || n > MAX_PAGES) {
				fprintf(stderr, "pagewalk: --pages: 1..%d\n", MAX_PAGES);
				return 2;
			}
			max_pages = (unsigned)n;
			i++;
		} else {
			fprintf(stderr, "usage: pagewalk [--iterations N] [--pages K]\n");
			return 2;
		}
	}
	base = mmap(NULL, (size_t)MAX_PAGES * STRIDE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		fprintf(stderr, "pagewalk: mmap: %s\n", strerror(errno));
		return 1;
	}
	printf("%-34s %12s %14s\n", "", "ns/iteration", "ns/page vs 0");
	for (mode = 0; mode < 4; mode++) {
		bool sys = mode >= 2, chained = mode & 1;
		double t[PASSES][MAX_PAGES + 1], v[PASSES], zero = 0;
		int pass;

		/* a first pass untimed: the pages get faulted in, the caches warm */
		for (k = 0; k <= max_pages; k += 2)
			measure(base, k, sys, chained, iterations / 10);
		/* K in turn, pass after pass: the VM's drift falls on every K alike */
		for (pass = 0; pass < PASSES; pass++)
			for (k = 0; k <= max_pages; k += 2)
				t[pass][k] = measure(base, k, sys, chained, iterations / PASSES);
		for (k = 0; k <= max_pages; k += 2) {
			char label[64];
			double med;

			for (pass = 0; pass < PASSES; pass++)
				v[pass] = t[pass][k];
			qsort(v, PASSES, sizeof(v[0]), cmp_double);
			med = v[PASSES / 2];
			if (!k)
				zero = med;
			snprintf(label, sizeof(label), "%s, %2u pages, %s",
				 sys ? "syscall" : "no syscall", k,
				 chained ? "chained" : "independent");
			if (k)
				printf("%-34s %12.1f %14.1f\n", label, med, (med - zero) / k);
			else
				printf("%-34s %12.1f\n", label, med);
		}
	}
	munmap(base, (size_t)MAX_PAGES * STRIDE);
	return 0;
}
