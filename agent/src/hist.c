// SPDX-License-Identifier: BSD-2-Clause
#include <math.h>
#include "hist.h"

void ls_hist_add_bpf(struct ls_hist *h, const uint32_t *bpf_counts, uint64_t max_ns)
{
	unsigned i;

	for (i = 0; i < LT_HIST_BUCKETS; i++) {
		h->counts[i] += bpf_counts[i];
		h->total += bpf_counts[i];
	}
	if (max_ns > h->max_ns)
		h->max_ns = max_ns;
}

void ls_hist_record(struct ls_hist *h, uint64_t ns)
{
	h->counts[lt_hist_bucket(ns)]++;
	h->total++;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

uint64_t ls_hist_lower(unsigned i)
{
	return lt_hist_lower(i);
}

uint64_t ls_hist_quantile(const struct ls_hist *h, double q)
{
	uint64_t rank, seen = 0, lo, hi, mid;
	unsigned i;

	if (!h->total)
		return 0;
	if (q >= 1.0)
		return h->max_ns;
	/* the smallest value with at least q of the samples at or below it */
	rank = (uint64_t)ceil(q * (double)h->total);
	if (rank == 0)
		rank = 1;
	for (i = 0; i < LT_HIST_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= rank)
			break;
	}
	if (i >= LT_HIST_BUCKETS - 1)
		return h->max_ns;
	lo = lt_hist_lower(i);
	hi = lt_hist_lower(i + 1);
	mid = lo + (hi - lo) / 2;
	return mid < h->max_ns ? mid : h->max_ns;
}
