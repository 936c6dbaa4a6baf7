/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_PROBE_INFO_H
#define LOOPSTALL_PROBE_INFO_H

#include <stdbool.h>
#include <stdint.h>

/*
 * What libprobe tells the agent, as values a stall (stall.h) and a thread's
 * summary (summary.h) hold. Apart from the reader of libprobe's region
 * (probe_shm.h), which fills them in: the reader needs the stall and the
 * summary, they need only these.
 */

#define LS_PROBE_SYMBOL_MAX 128
#define LS_PROBE_MODULE_MAX 256
#define LS_PROBE_RECENT 5

/* A callback as libprobe recorded it. */
struct ls_probe_cb {
	uint64_t addr;
	/* "" when the region has no name for it: the finisher names addr then */
	char symbol[LS_PROBE_SYMBOL_MAX];
	char module[LS_PROBE_MODULE_MAX]; /* "" when unknown */
	uint32_t watcher;		  /* libprobe's enum lps_watcher */
	int32_t arg;			  /* fd, signal number or child pid; -1: none */
	uint64_t interval_ns;		  /* timer repeat, periodic interval; 0: none */
	uint64_t start_ns;		  /* CLOCK_MONOTONIC */
	uint64_t end_ns;		  /* 0: still running */
	/* asyncio (watcher LPS_W_ASYNCIO_*, version 2 regions); "" / 0 when unknown */
	int32_t line; /* where symbol is defined; module is then its .py file */
	bool is_task;
	char task[LS_PROBE_SYMBOL_MAX];
	char resumed_at[LS_PROBE_MODULE_MAX];
	char suspended_at[LS_PROBE_MODULE_MAX];
};

/* What libprobe says about the callback behind a stall. */
struct ls_stall_callback {
	bool present;
	struct ls_probe_cb cb;
	char span[LS_PROBE_SYMBOL_MAX]; /* task segment (lp_await_end/lp_yield) in it; "" none */
	uint64_t span_start_ns;
	uint64_t span_end_ns; /* 0: still running */
	unsigned n_recent;
	struct ls_probe_cb recent[LS_PROBE_RECENT]; /* the flight recorder's tail, oldest first */
};

/* libprobe's own view of a loop thread over its life (all its loops added up). */
struct ls_probe_thread {
	bool present;
	unsigned loops;
	uint64_t iterations;
	uint64_t callbacks;
	uint64_t busy_ns;
	uint64_t poll_ns;
	uint64_t callback_ns;
	uint64_t stalls;
	uint64_t max_callbacks_per_iteration;
	uint64_t awaits;
	uint64_t heartbeat_interval_ns;
	uint64_t heartbeat_samples;
	/* heartbeat lateness: quantiles from libprobe's histogram, and the maximum */
	uint64_t heartbeat_p50_ns;
	uint64_t heartbeat_p90_ns;
	uint64_t heartbeat_p99_ns;
	uint64_t heartbeat_max_ns;
};

#endif
