// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <cpuid.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"

struct lpi_calib lpi_calib;

static struct lpi_clock_fit fit;
static struct lpi_clock_sched sched;
static bool refitting;

/* Two samples closer than this give too coarse a slope. */
#define MIN_SPAN_NS 10000000ull

static struct lpi_clock_sample sample(void)
{
	struct lpi_clock_sample best = {0, 0};
	uint64_t best_win = UINT64_MAX;
	int i;

	/* keep the pair whose clock_gettime window was narrowest: least preempted */
	for (i = 0; i < 5; i++) {
		uint64_t a = lpi_mono_ns();
		uint64_t t = __rdtsc();
		uint64_t b = lpi_mono_ns();

		if (b - a < best_win) {
			best_win = b - a;
			best.tsc = t;
			best.ns = a + (b - a) / 2;
		}
	}
	return best;
}

uint64_t lpi_clock_mult(const struct lpi_clock_sample *a, const struct lpi_clock_sample *b)
{
	uint64_t dns, dtsc, mult;

	if (b->ns <= a->ns || b->tsc <= a->tsc)
		return 0;
	dns = b->ns - a->ns;
	dtsc = b->tsc - a->tsc;
	if (dns < MIN_SPAN_NS)
		return 0;
	mult = (uint64_t)(((unsigned __int128)dns << 32) / dtsc);
	/* 2^32 ns per tick * f: 20 GHz .. 100 MHz */
	if (mult < (1ull << 32) / 20 || mult > (1ull << 32) * 10)
		return 0;
	return mult;
}

static bool invariant_tsc(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid(0x80000007, &a, &b, &c, &d))
		return false;
	return d & (1u << 8);
}

void lpi_clock_copy(struct lpi_calib *out)
{
	uint32_t seq;

	do {
		seq = __atomic_load_n(&lpi_calib.seq, __ATOMIC_ACQUIRE);
		out->use_tsc = lpi_calib.use_tsc;
		out->base_tsc = lpi_calib.base_tsc;
		out->base_ns = lpi_calib.base_ns;
		out->mult = lpi_calib.mult;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((seq & 1) || seq != __atomic_load_n(&lpi_calib.seq, __ATOMIC_RELAXED));
	out->seq = seq;
}

void lpi_clock_init(void)
{
	const char *want = getenv("LPROBE_CLOCK");

	fit.tsc_ok = invariant_tsc() && !(want && !strcmp(want, "monotonic"));
	fit.first = sample();
}

static void publish(const struct lpi_clock_sample *base, uint64_t mult, bool use)
{
	uint32_t seq = lpi_calib.seq;

	__atomic_store_n(&lpi_calib.seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	lpi_calib.base_tsc = base->tsc;
	lpi_calib.base_ns = base->ns;
	lpi_calib.mult = mult;
	lpi_calib.use_tsc = use;
	__atomic_store_n(&lpi_calib.seq, seq + 2, __ATOMIC_RELEASE);
}

bool lpi_clock_calibrate(void)
{
	struct lpi_clock_sample now;
	uint64_t mult;

	if (!fit.tsc_ok)
		return false;
	now = sample();
	mult = lpi_clock_mult(&fit.first, &now);
	if (!mult)
		return lpi_calib.use_tsc;
	/*
	 * A rate that moved by more than 0.1 % means the TSC is not what it
	 * claims (or the VM moved): start a new fit from here, on the clock.
	 */
	if (fit.mult && (mult > fit.mult + fit.mult / 1000 || mult < fit.mult - fit.mult / 1000)) {
		fit.first = now;
		fit.mult = 0;
		publish(&now, 0, false);
		return false;
	}
	fit.mult = mult;
	/* rebase on the newest sample so the error never accumulates */
	publish(&now, mult, true);
	return true;
}

bool lpi_clock_sched_due(struct lpi_clock_sched *s, uint64_t now)
{
	if (now < s->next_ns)
		return false;
	/* soon after start (the first fit needs 10 ms of span), then less and less often */
	s->step_ns = s->step_ns ? s->step_ns * 4 : LPI_CLOCK_FIRST_STEP_NS;
	if (s->step_ns > LPI_CLOCK_MAX_STEP_NS)
		s->step_ns = LPI_CLOCK_MAX_STEP_NS;
	s->next_ns = now + s->step_ns;
	return true;
}

uint64_t lpi_clock_tick(uint64_t now)
{
	uint64_t next;

	if (!fit.tsc_ok)
		return UINT64_MAX;
	/* another thread refits now: ask again a little later */
	if (__atomic_exchange_n(&refitting, true, __ATOMIC_ACQUIRE))
		return now + 1000000ull;
	if (lpi_clock_sched_due(&sched, now))
		lpi_clock_calibrate();
	next = sched.next_ns;
	__atomic_store_n(&refitting, false, __ATOMIC_RELEASE);
	return next;
}

void lpi_clock_forget(void)
{
	refitting = false;
}
