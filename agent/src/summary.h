/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_SUMMARY_H
#define LOOPSTALL_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hist.h"
#include "probe_info.h"
#include "thread_stats.h"

/* What one loop thread did over the run. */
struct ls_thread_summary {
	uint32_t pid;
	uint32_t tid;
	char comm[16];
	bool exited;
	uint64_t first_seen_ns;
	uint64_t last_ns; /* exit, or the last snapshot */
	uint64_t iterations;
	uint64_t busy_ns;
	uint64_t max_busy_ns;
	uint64_t stalls;
	struct ls_hist hist;	      /* busy periods: the loop's heartbeat gaps */
	struct ls_probe_thread probe; /* libprobe's numbers, when it is in the process */
};

struct ls_run_summary {
	uint32_t pid; /* the process recording started on */
	char comm[16];
	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t threshold_ns;
	uint64_t stalls; /* stall records written */
	uint64_t lost_events;
	size_t n_threads;
	size_t cap_threads;
	struct ls_thread_summary *threads;
};

/*
 * Take a loop thread's cumulative counters: replaces what an earlier
 * snapshot of the same live thread said. Returns the thread's entry, or
 * NULL without memory.
 */
struct ls_thread_summary *ls_summary_update(struct ls_run_summary *sum,
					    const struct ls_thread_stats *t, const char *comm,
					    uint64_t now_ns, bool exited);
void ls_summary_free(struct ls_run_summary *sum);
double ls_thread_busy_ratio(const struct ls_thread_summary *t);

#endif
