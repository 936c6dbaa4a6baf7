/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_THREADS_H
#define LOOPSTALL_THREADS_H

#include <stdbool.h>
#include <stdint.h>
#include "lean.h"
#include "loop_tracker.h"
#include "thread_stats.h"

/*
 * The loop threads the agent knows, by tid: what user space holds about each
 * beside BPF's own entry (the `threads` map). A thread enters when BPF
 * announces it (LT_REC_THREAD_NEW) or when a stall in progress is seen on it,
 * and leaves in one step when it exits or its process is no longer traced.
 *
 * Not here, on purpose: the raw stacks and fd targets of the running busy
 * period (stack_collector.c, target_store.c) are keyed by busy period and
 * read from the finisher's side; the perf events (thread_events.c) follow
 * every thread of a target, loop thread or not.
 */
#define LS_THREAD_NO_SLOT LT_SLOT_NONE

struct ls_thread {
	uint32_t tid;
	uint32_t pid;
	uint32_t slot;		 /* its entry in BPF's `live` array; LS_THREAD_NO_SLOT: none */
	bool begun;		 /* a stall in progress was announced with stall_begin */
	uint64_t begun_start_ns; /* the busy period it was announced for */
	/*
	 * The busy period that was running at attach (inflight.h), while it
	 * runs: its stack showed a loop's callback, so it is a loop thread
	 * before it finished an iteration.
	 */
	uint64_t inflight_start_ns;
	struct ls_lean lean; /* its pace, which says when it may run lean (lean.h) */
};

struct ls_threads;

struct ls_threads *ls_threads__new(void);
void ls_threads__free(struct ls_threads *th);
/* The thread, or NULL. Valid until the next __get or __remove. */
struct ls_thread *ls_threads__find(struct ls_threads *th, uint32_t tid);
/* The thread, added when new (pid set then). NULL without memory or for tid 0. */
struct ls_thread *ls_threads__get(struct ls_threads *th, uint32_t pid, uint32_t tid);
/* The thread holds `live` entry slot (out of range: none). */
void ls_threads__set_slot(struct ls_threads *th, struct ls_thread *t, uint32_t slot);
/*
 * Forget the thread. Its `live` entry is no longer scanned unless another
 * thread took it since (BPF reuses an entry as soon as it gave it back).
 * Returns the slot it held, LS_THREAD_NO_SLOT when none (or unknown tid:
 * then `slot_hint`, BPF's word for it, is released when nobody holds it).
 */
uint32_t ls_threads__remove(struct ls_threads *th, uint32_t tid, uint32_t slot_hint);
/* The next `live` entry in use after `slot` (-1: from the start); -1 when none. */
int64_t ls_threads__next_slot(const struct ls_threads *th, int64_t slot);
/* BPF's counters of a thread as the agent exports them. */
void ls_thread_stats_from_bpf(struct ls_thread_stats *out, const struct lt_thread *t);
/* Loop threads known. */
size_t ls_threads__count(const struct ls_threads *th);

#endif
