// SPDX-License-Identifier: BSD-2-Clause
/*
 * Folded stacks, the input of flamegraph.pl and its kin. Every weight is in
 * milliseconds of stall time (see aggregate.c: CPU stacks share the stall's
 * on-CPU time by samples, a syscall's stack carries its blocked time), so
 * one flame graph shows where the loop thread's stalled time went. Lines
 * that round to 0 ms are left out.
 */
#include <math.h>
#include <stdio.h>
#include "report_render.h"

void report_folded(const struct aggregate *agg, FILE *f)
{
	size_t i;

	for (i = 0; i < agg->n_folded; i++) {
		long long ms = llround(agg->folded[i].weight_ms);

		if (ms > 0)
			fprintf(f, "%s %lld\n", agg->folded[i].frames, ms);
	}
}
