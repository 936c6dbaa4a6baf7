/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_TOP_STATS_H
#define LOOPSTALL_TOP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "stall.h"
#include "thread_stats.h"

/*
 * What `loopstall top` shows, computed from the agent's cumulative per-thread
 * counters sampled about once a second: per-second rates, a heartbeat p99
 * over the last TOP_WINDOW samples, stalls in progress and the last stalls.
 * Pure: times come in as arguments.
 */
#define TOP_WINDOW 10
#define TOP_LAST_STALLS 5

struct top_thread {
	uint32_t pid;
	uint32_t tid;
	char comm[16];
	bool rated;		 /* seen in two samples: the rates below mean something */
	double iter_per_s;	 /* over the last interval */
	double busy_ratio;	 /* over the last interval, the running busy period included */
	uint64_t stalls;	 /* since tracing began */
	uint64_t p99_ns;	 /* heartbeat gap p99 over the last TOP_WINDOW samples */
	/*
	 * The longest heartbeat gap over the same window: exact when it was a
	 * stall (its record's duration), else under the threshold, known to the
	 * histogram's bucket. A p99 over ~1,000 iterations never sees a few
	 * stalls: these two columns do.
	 */
	uint64_t max_ns;
	uint64_t window_stalls;	 /* stalls over the same window */
	uint64_t busy_start_ns;	 /* the busy period running now; 0 while waiting */
	uint64_t stall_start_ns; /* a stall_begin not yet ended; 0: none */
};

struct top_stall {
	uint32_t tid;
	char comm[16];
	uint64_t end_ns;
	double duration_ms;
	const char *cause;
	char what[96]; /* the first syscall, or where it computed */
	bool cut_short;
};

struct top_stats;

struct top_stats *top_stats__new(uint64_t threshold_ns);
void top_stats__free(struct top_stats *ts);
/* One sample: top_stats__thread() for every live loop thread between begin and end. */
void top_stats__begin(struct top_stats *ts, uint64_t now_ns);
int top_stats__thread(struct top_stats *ts, const struct ls_thread_stats *t, const char *comm);
/* Threads not seen in this sample are gone. */
void top_stats__end(struct top_stats *ts);
void top_stats__stall_begin(struct top_stats *ts, uint32_t tid, uint64_t start_ns);
void top_stats__stall(struct top_stats *ts, const struct ls_stall *s);

size_t top_stats__n_threads(const struct top_stats *ts);
const struct top_thread *top_stats__thread_at(const struct top_stats *ts, size_t i);
/* Last stalls, newest first. */
size_t top_stats__n_stalls(const struct top_stats *ts);
const struct top_stall *top_stats__stall_at(const struct top_stats *ts, size_t i);
/* How long a stall in progress on t has lasted at now_ns; 0 when none is. */
uint64_t top_stats__in_progress(const struct top_stats *ts, const struct top_thread *t,
				uint64_t now_ns);
/* Any thread stalled at now_ns. */
bool top_stats__stalled(const struct top_stats *ts, uint64_t now_ns);

#endif
