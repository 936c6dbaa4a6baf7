// SPDX-License-Identifier: BSD-2-Clause
/*
 * Naming the cause of a stall from how its time was spent.
 *
 * The busy period is split into parts: on-CPU, blocked in lock waits, blocked
 * in other syscalls, blocked outside any syscall (page faults) and run-queue
 * wait. The part that holds most of the time names the cause; when none holds
 * a majority the stall is "mixed".
 */
#include "stall.h"
#include "syscall_class.h"

/* A part must explain more than this share of the stall to name it. */
#define MAJORITY 0.5

enum ls_cause ls_classify(const struct ls_stall *s)
{
	uint64_t dur = s->end_ns - s->start_ns;
	uint64_t lock = 0, sys = 0, attributed, best;
	enum ls_cause cause;
	unsigned i;

	if (s->end_ns <= s->start_ns)
		return LS_CAUSE_UNKNOWN;
	for (i = 0; i < s->n_syscalls; i++) {
		const struct ls_syscall_use *u = &s->syscalls[i];

		if (u->nr >= 0 && ls_sc_class_of_nr((unsigned)u->nr) == LS_SC_LOCK)
			lock += u->total_ns;
		else
			sys += u->total_ns;
	}

	/*
	 * Blocked time no syscall slot explains (a switch we did not see) is
	 * still blocked time: count it with the syscalls.
	 */
	attributed = lock + sys + s->fault_ns;
	if (s->off_cpu_ns > attributed)
		sys += s->off_cpu_ns - attributed;

	cause = LS_CAUSE_CPU;
	best = s->on_cpu_ns;
	if (sys > best) {
		cause = LS_CAUSE_BLOCKING_SYSCALL;
		best = sys;
	}
	if (lock > best) {
		cause = LS_CAUSE_LOCK_WAIT;
		best = lock;
	}
	if (s->runq_ns > best) {
		cause = LS_CAUSE_PREEMPTED;
		best = s->runq_ns;
	}
	if (s->fault_ns > best) {
		cause = LS_CAUSE_PAGE_FAULT;
		best = s->fault_ns;
	}
	if ((double)best <= MAJORITY * (double)dur)
		return LS_CAUSE_MIXED;
	return cause;
}
