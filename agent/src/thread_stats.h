/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_THREAD_STATS_H
#define LOOPSTALL_THREAD_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include "hist.h"

/*
 * A loop thread's counters as the agent exports them (agent.h): cumulative
 * since the thread finished its first iteration. What BPF keeps per thread
 * is the agent's business and changes with it; this struct only gains fields.
 */
struct ls_thread_stats {
	uint32_t pid;
	uint32_t tid;
	uint64_t first_seen_ns; /* tells a thread from a later one that got its tid */
	uint64_t iterations;	/* completed busy periods */
	uint64_t busy_ns;	/* their total */
	uint64_t max_busy_ns;
	uint64_t stalls;
	uint64_t busy_start_ns;		/* the busy period running now; 0 while the loop waits */
	uint32_t hist[LS_HIST_BUCKETS]; /* busy periods by length (ls_hist buckets) */
};

/*
 * The counter ledger: one thread's counters as last taken, so that readers
 * that sample threads over time (the summary, `top`, loopstalld) take what
 * happened in between the same way, and tell a reused tid apart.
 */
struct ls_ledger {
	uint32_t tid;
	uint64_t first_seen_ns;
	uint64_t iterations;
	uint64_t busy_ns;
	uint64_t stalls;
	uint32_t hist[LS_HIST_BUCKETS];
};

/* A ledger that has taken nothing of t yet: the first take is all of t. */
void ls_ledger_start(struct ls_ledger *l, const struct ls_thread_stats *t);
/*
 * Whether t is the thread whose tid and first_seen_ns these are: a thread
 * that exited leaves its tid to the next one the kernel creates.
 */
bool ls_ledger_same_thread(uint32_t tid, uint64_t first_seen_ns, const struct ls_thread_stats *t);
/*
 * What t counted since the last take, into delta (its tid and first_seen_ns
 * are t's), then l holds t. A counter below its last value (a torn read)
 * counts nothing, never a wrapped-around difference.
 */
void ls_ledger_take(struct ls_ledger *l, const struct ls_thread_stats *t, struct ls_ledger *delta);

#endif
