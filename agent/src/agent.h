/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_AGENT_H
#define LOOPSTALL_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "stall.h"
#include "summary.h"
#include "thread_stats.h"

/*
 * The agent: loads loop_tracker.bpf.c, follows the loop threads of the
 * processes it is given and reports their stalls through callbacks. Used by
 * `loopstall record` and by loopstalld. Functions return 0 or -errno.
 */
struct ls_agent;

#define LS_RING_BYTES_DEFAULT (1u << 20)
#define LS_RING_BYTES_MIN (1u << 12)
#define LS_RING_BYTES_MAX (1u << 30)

struct ls_agent_opts {
	uint64_t threshold_ns; /* a busy period this long is a stall */
	bool verbose;	       /* let libbpf print its own messages */
	bool bpf_stats;	       /* count BPF run time (bpf_enable_stats) for self-metrics */
	bool no_stacks;	       /* skip stack capture and CPU sampling */
	bool all_waits;	       /* hook every wait call, not only those the targets' loops use */
	uint32_t stack_bytes;  /* user stack copied per stack (0: 16 KiB; at most 32 KiB) */
	uint64_t stack_min_block_ns; /* blocks shorter than this get no stack (0: 1 ms) */
	uint64_t sample_period_ns;   /* CPU sampling period of loop threads (0: 1 ms) */
	uint32_t ring_bytes;	     /* kernel-to-agent ring buffer: a power of two, 4 KiB..1 GiB
					(0: LS_RING_BYTES_DEFAULT) */
};

struct ls_agent_ops {
	/* A stall ended (or was cut short). A negative return stops the poll. */
	int (*stall)(void *ctx, const struct ls_stall *s);
	/* A stall is in progress: sent once per stall, soon after it crosses the threshold. */
	int (*stall_begin)(void *ctx, const struct ls_stall_begin *b);
	/* A traced process exited (its threads' last stalls were delivered before). */
	void (*target_exit)(void *ctx, pid_t pid);
	/* A loop thread exited: its final counters, after which it is gone from for_each_thread. */
	void (*thread_exit)(void *ctx, const struct ls_thread_stats *t, const char *comm);
};

/* BPF's own cost, summed over the agent's programs. */
struct ls_bpf_stats {
	uint64_t run_time_ns;
	uint64_t run_count;
};

int ls_agent__new(const struct ls_agent_opts *opts, const struct ls_agent_ops *ops, void *ctx,
		  struct ls_agent **out);
/*
 * Trace process pid (only thread only_tid when non-zero); follow_forks adds
 * its children. name is what the summary calls it (NULL: its comm now).
 */
int ls_agent__add_target(struct ls_agent *a, pid_t pid, pid_t only_tid, bool follow_forks,
			 const char *name);
/* Stop tracing pid and forget its threads. */
int ls_agent__remove_target(struct ls_agent *a, pid_t pid);
/* The threshold of targets added from now on (those added before keep theirs). */
void ls_agent__set_threshold(struct ls_agent *a, uint64_t threshold_ns);
/* The threshold of one target already added, changed in place (-ENOENT: not traced). */
int ls_agent__set_target_threshold(struct ls_agent *a, pid_t pid, uint64_t threshold_ns);
/* Handle what the kernel sent and look for stalls in progress; waits up to timeout_ms. */
int ls_agent__poll(struct ls_agent *a, int timeout_ms);
/* Hook every wait call (true), or only those the targets' loops use; from the next poll. */
void ls_agent__set_all_waits(struct ls_agent *a, bool all);
/* The wait calls hooked now: 1 << enum lt_wait (see waitplan.h). */
uint32_t ls_agent__hooked_waits(struct ls_agent *a);
/* How many traced processes are still running. */
unsigned ls_agent__alive(struct ls_agent *a);
/*
 * Visit every live loop thread's counters (cumulative: iterations, busy
 * time, busy-period histogram; busy_start_ns != 0 while a busy period runs).
 * Only threads that finished an iteration are visited.
 */
int ls_agent__for_each_thread(struct ls_agent *a,
			      int (*fn)(void *ctx, const struct ls_thread_stats *t), void *ctx);
/* Ring-buffer records lost so far (reservations that failed, undecodable records). */
uint64_t ls_agent__lost_events(struct ls_agent *a);
/* What stacks cost: copies in BPF, unwinding and symbolizing in user space. */
struct ls_stack_stats {
	uint64_t copies;
	uint64_t copy_ns;
	uint64_t unwound;
	uint64_t unwind_ns;
	uint64_t symbolized;
	uint64_t symbolize_ns;
	uint64_t debuginfo_cached; /* debug files from the debug-info cache (debugcache.h) */
	uint64_t debuginfo_stored;
	uint64_t debuginfo_inflated; /* compressed debug files the agent inflated (inflate.h) */
	uint64_t lines_read;	     /* line lookups the agent read itself (linetab.h) */
	uint64_t lines_libdw;	     /* ... left to libdw */
};

int ls_agent__stack_stats(struct ls_agent *a, struct ls_stack_stats *stats);
/* BPF run time so far; zeros unless opts.bpf_stats was set. */
int ls_agent__bpf_stats(struct ls_agent *a, struct ls_bpf_stats *stats);
/*
 * End of recording: handle what is left, report stalls still in progress as
 * cut short, and fill the run summary (owned by the agent).
 */
int ls_agent__finish(struct ls_agent *a, const struct ls_run_summary **sum);
void ls_agent__free(struct ls_agent *a);

#endif
