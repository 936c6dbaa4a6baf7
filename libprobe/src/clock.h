/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * CLOCK_MONOTONIC nanoseconds, cheaply. clock_gettime costs about 28 ns on
 * a VM and a callback needs one reading, so with an invariant TSC libprobe
 * reads the TSC (about 12 ns) and converts it with a line fitted against
 * CLOCK_MONOTONIC. The loop threads refit it at the start of an iteration
 * when it is due (lpi_clock_tick): no thread of its own. Until the first
 * fit, and on CPUs without an invariant TSC, it calls clock_gettime.
 */
#ifndef LPROBE_CLOCK_H
#define LPROBE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <x86intrin.h>

/* ns = base_ns + (tsc - base_tsc) * mult / 2^32; seq is odd while it changes. */
struct lpi_calib {
	uint32_t seq;
	uint32_t use_tsc;
	uint64_t base_tsc;
	uint64_t base_ns;
	uint64_t mult;
};

extern struct lpi_calib lpi_calib;

static inline uint64_t lpi_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t lpi_tsc_to_ns(uint64_t tsc, uint64_t base_tsc, uint64_t base_ns,
				     uint64_t mult)
{
	/* a TSC read just before a rebase is a little behind base_tsc */
	__int128 d = (__int128)(int64_t)(tsc - base_tsc) * (__int128)mult;

	return base_ns + (uint64_t)(int64_t)(d >> 32);
}

static inline uint64_t lpi_now(void)
{
	uint64_t tsc, base_tsc, base_ns, mult;
	uint32_t seq;

	do {
		seq = __atomic_load_n(&lpi_calib.seq, __ATOMIC_ACQUIRE);
		if (__builtin_expect(!lpi_calib.use_tsc, 0))
			return lpi_mono_ns();
		base_tsc = lpi_calib.base_tsc;
		base_ns = lpi_calib.base_ns;
		mult = lpi_calib.mult;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while (__builtin_expect(
	    (seq & 1) || seq != __atomic_load_n(&lpi_calib.seq, __ATOMIC_RELAXED), 0));
	tsc = __rdtsc();
	return lpi_tsc_to_ns(tsc, base_tsc, base_ns, mult);
}

/* One (tsc, ns) pair read as close together as the machine allows. */
struct lpi_clock_sample {
	uint64_t tsc;
	uint64_t ns;
};

struct lpi_clock_fit {
	struct lpi_clock_sample first; /* the fit's origin */
	uint64_t mult;
	bool tsc_ok; /* invariant TSC, and allowed */
};

/* A consistent copy of lpi_calib (its seq included). */
void lpi_clock_copy(struct lpi_calib *out);
/* Decide whether the TSC can be used (cpuid, LPROBE_CLOCK) and take the first sample. */
void lpi_clock_init(void);
/* Refit and publish. Returns true when the TSC is in use. */
bool lpi_clock_calibrate(void);

/* When the clock is refitted: at first use, then after 20, 80 and 320 ms, then every second. */
struct lpi_clock_sched {
	uint64_t next_ns; /* 0: at once */
	uint64_t step_ns; /* 0: no refit yet */
};

#define LPI_CLOCK_FIRST_STEP_NS 20000000ull
#define LPI_CLOCK_MAX_STEP_NS 1000000000ull

/* Pure: whether a refit is due at now; when it is, the schedule moves on to the next one. */
bool lpi_clock_sched_due(struct lpi_clock_sched *s, uint64_t now);
/*
 * Refit when the process-wide schedule says so (one thread at a time; any
 * thread may ask). Returns when to ask again: UINT64_MAX without a TSC.
 */
uint64_t lpi_clock_tick(uint64_t now);
/* In a forked child: a refit the parent had under way is no one's. */
void lpi_clock_forget(void);
/*
 * Pure: the multiplier for ns per TSC tick between two samples, or 0 when
 * they are too close or give a frequency no CPU has (below 100 MHz or above
 * 20 GHz).
 */
uint64_t lpi_clock_mult(const struct lpi_clock_sample *a, const struct lpi_clock_sample *b);

#endif
