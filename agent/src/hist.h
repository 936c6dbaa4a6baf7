/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_HIST_H
#define LOOPSTALL_HIST_H

#include <stdint.h>
#include "loop_tracker.h"

/* Buckets of a busy-period histogram, BPF's layout (loop_tracker.h stays private to the agent). */
#define LS_HIST_BUCKETS LT_HIST_BUCKETS

/* Busy-period histogram as BPF fills it (see lt_hist_bucket()). */
struct ls_hist {
	uint64_t counts[LS_HIST_BUCKETS];
	uint64_t total;
	uint64_t max_ns;
};

void ls_hist_add_bpf(struct ls_hist *h, const uint32_t *bpf_counts, uint64_t max_ns);
void ls_hist_record(struct ls_hist *h, uint64_t ns);
/* The smallest value bucket i holds (i == LS_HIST_BUCKETS: past the last). */
uint64_t ls_hist_lower(unsigned i);
/*
 * The q-quantile (0 < q <= 1) in ns: the midpoint of the bucket holding it,
 * never above the largest value seen. 0 for an empty histogram.
 */
uint64_t ls_hist_quantile(const struct ls_hist *h, double q);

#endif
