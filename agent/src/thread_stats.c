// SPDX-License-Identifier: BSD-2-Clause
#include <string.h>
#include "thread_stats.h"

void ls_ledger_start(struct ls_ledger *l, const struct ls_thread_stats *t)
{
	memset(l, 0, sizeof(*l));
	l->tid = t->tid;
	l->first_seen_ns = t->first_seen_ns;
}

bool ls_ledger_same_thread(uint32_t tid, uint64_t first_seen_ns, const struct ls_thread_stats *t)
{
	return t->tid == tid && t->first_seen_ns == first_seen_ns;
}

static uint64_t since(uint64_t now, uint64_t before)
{
	return now > before ? now - before : 0;
}

void ls_ledger_take(struct ls_ledger *l, const struct ls_thread_stats *t, struct ls_ledger *delta)
{
	unsigned i;

	delta->tid = t->tid;
	delta->first_seen_ns = t->first_seen_ns;
	delta->iterations = since(t->iterations, l->iterations);
	delta->busy_ns = since(t->busy_ns, l->busy_ns);
	delta->stalls = since(t->stalls, l->stalls);
	for (i = 0; i < LS_HIST_BUCKETS; i++)
		delta->hist[i] = t->hist[i] > l->hist[i] ? t->hist[i] - l->hist[i] : 0;
	l->tid = t->tid;
	l->first_seen_ns = t->first_seen_ns;
	l->iterations = t->iterations;
	l->busy_ns = t->busy_ns;
	l->stalls = t->stalls;
	memcpy(l->hist, t->hist, sizeof(l->hist));
}
