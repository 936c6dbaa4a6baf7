/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_WAITPLAN_H
#define LOOPSTALL_WAITPLAN_H

#include <stdbool.h>
#include <stdint.h>
#include "loop_tracker.h"

/*
 * Which wait calls to hook: the pure half of waitcalls.c.
 *
 * Each hooked wait call costs every process on the machine that makes it
 * (the exit tracepoint runs the agent's program, which returns after one
 * byte for a process not traced; the kernel's part is ~200 ns a call on a
 * VM). A loop waits in one call, so the agent
 * hooks only the calls its targets' loops are seen in: in /proc (a thread
 * blocked in a wait now) and by BPF (a thread of a target blocking in a
 * wait call, or a loop returning from a hooked one). Until something is
 * seen every call is hooked; so is every call for a while after a target
 * came while one of its threads was running (its call cannot be read
 * then). When a target goes, what was hooked stays hooked that long, while
 * the remaining loops show the calls they use.
 */

/* How long a learning window keeps calls hooked. */
#define LS_WAIT_LEARN_NS 500000000ull

/* What a thread was doing, from its /proc/PID/task/TID/syscall line. */
enum ls_thread_state {
	LS_THREAD_RUNNING, /* on a CPU, or not readable: its wait call is unknown */
	LS_THREAD_WAITING, /* blocked in a loop's wait call */
	LS_THREAD_BLOCKED, /* blocked in anything else */
};

/* enum lt_wait of syscall nr, or -1 when it is no wait call the agent hooks. */
int ls_wait_index(long nr);
/*
 * Whether a call of syscall nr with these arguments is a loop's wait, as the
 * BPF side decides it (select with no fds is a sleep; io_uring_enter only
 * waits when asked for completions). *wait gets its enum lt_wait.
 */
bool ls_wait_is_loop(long nr, const uint64_t args[6], int *wait);
/* Parse a /proc/.../syscall line ("NR ARG1..ARG6 SP PC", "-1 SP PC" or "running"). */
enum ls_thread_state ls_wait_parse_proc(const char *line, int *wait);

struct ls_wait_plan {
	bool all;		 /* hook every call, always (--all-waits) */
	uint32_t seen;		 /* 1 << enum lt_wait: calls some loop was seen in */
	uint64_t learn_until_ns; /* the calls in learn_mask stay hooked until then */
	uint32_t learn_mask;
};

/*
 * Keep the calls in mask hooked for LS_WAIT_LEARN_NS from now, whatever is
 * seen meanwhile (windows that overlap add up their masks).
 */
void ls_wait_plan_learn(struct ls_wait_plan *p, uint32_t mask, uint64_t now_ns);
/* The calls to keep hooked now. */
uint32_t ls_wait_plan_want(const struct ls_wait_plan *p, uint64_t now_ns);
/* "epoll_wait,poll": the names of the calls in mask; returns buf. */
const char *ls_wait_names(uint32_t mask, char *buf, size_t size);

#endif
