// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "stall.h"
#include "syscalls.h"

_Static_assert(sizeof(struct lt_slot) == 32, "lt_slot layout");
_Static_assert(sizeof(struct lt_busy) == 64 + LT_MAX_SLOTS * 32, "lt_busy layout");
_Static_assert(sizeof(struct lt_stall_rec) == 64 + sizeof(struct lt_busy), "lt_stall_rec layout");
_Static_assert(sizeof(struct lt_target) == 16, "lt_target layout");
_Static_assert(sizeof(struct lt_fork_rec) == 16, "lt_fork_rec layout");
_Static_assert(sizeof(struct lt_follow_rec) == 32 + LT_NREGS * 8, "lt_follow_rec layout");
_Static_assert(sizeof(struct lt_site) == 88, "lt_site layout");
_Static_assert(sizeof(struct lt_thread) == 552 + LT_HIST_BUCKETS * 4, "lt_thread layout");
_Static_assert(sizeof(struct lt_thread_exit_rec) == 32 + sizeof(struct lt_thread),
	       "lt_thread_exit_rec layout");
_Static_assert(sizeof(struct lt_thread_new_rec) == 16, "lt_thread_new_rec layout");
_Static_assert(sizeof(struct lt_live) == 40, "lt_live layout");
_Static_assert(sizeof(struct lt_stack_rec) == 184 + sizeof(struct lt_py_stack) + LT_STACK_MAX,
	       "lt_stack_rec layout");

static const char *const cause_names[LS_CAUSE_COUNT] = {
    [LS_CAUSE_BLOCKING_SYSCALL] = "blocking_syscall",
    [LS_CAUSE_CPU] = "cpu",
    [LS_CAUSE_LOCK_WAIT] = "lock_wait",
    [LS_CAUSE_PREEMPTED] = "preempted",
    [LS_CAUSE_PAGE_FAULT] = "page_fault",
    [LS_CAUSE_MIXED] = "mixed",
    [LS_CAUSE_UNKNOWN] = "unknown",
};

const char *ls_cause_name(enum ls_cause cause)
{
	if ((unsigned)cause >= LS_CAUSE_COUNT)
		return "unknown";
	return cause_names[cause];
}

const char *ls_frame_kind_name(enum ls_frame_kind kind)
{
	switch (kind) {
	case LS_FRAME_PYTHON:
		return "python";
	case LS_FRAME_JS:
		return "js";
	case LS_FRAME_NATIVE:
		break;
	}
	return "native";
}

void ls_stall_free_stacks(struct ls_stall *s)
{
	unsigned i;

	for (i = 0; i < s->n_syscalls; i++) {
		free(s->syscalls[i].stack.frames);
		s->syscalls[i].stack.frames = NULL;
		s->syscalls[i].stack.n = 0;
	}
	for (i = 0; i < s->n_cpu_stacks; i++)
		free(s->cpu_stacks[i].stack.frames);
	free(s->cpu_stacks);
	s->cpu_stacks = NULL;
	s->n_cpu_stacks = 0;
}

static int by_total_desc(const void *a, const void *b)
{
	const struct ls_syscall_use *x = a, *y = b;

	if (x->total_ns != y->total_ns)
		return x->total_ns < y->total_ns ? 1 : -1;
	return (x->nr > y->nr) - (x->nr < y->nr);
}

void ls_stall_from_busy(struct ls_stall *s, const struct lt_busy *busy, uint32_t pid, uint32_t tid,
			const char *comm, uint64_t end_ns, uint64_t threshold_ns,
			uint64_t major_faults)
{
	uint64_t dur, off;
	unsigned i, n;

	memset(s, 0, sizeof(*s));
	s->pid = pid;
	s->tid = tid;
	strncpy(s->comm, comm, sizeof(s->comm) - 1);
	s->start_ns = busy->start_ns;
	s->end_ns = end_ns > busy->start_ns ? end_ns : busy->start_ns;
	s->threshold_ns = threshold_ns;
	s->runq_ns = busy->runq_ns;
	s->off_cpu_ns = busy->offcpu_ns;
	s->major_faults = major_faults;
	s->nvcsw = busy->nvcsw;
	s->nivcsw = busy->nivcsw;

	n = busy->nr_slots < LT_MAX_SLOTS ? busy->nr_slots : LT_MAX_SLOTS;
	for (i = 0; i < n; i++) {
		const struct lt_slot *slot = &busy->slots[i];
		struct ls_syscall_use *u;

		if (!slot->count)
			continue;
		if (slot->nr == LT_NR_NONE) {
			s->fault_ns += slot->total_ns;
			continue;
		}
		u = &s->syscalls[s->n_syscalls++];
		u->nr = slot->nr == LT_NR_OTHER ? -1 : (int)slot->nr;
		u->fd = slot->fd;
		u->name = u->nr < 0 ? "other" : ls_syscall_name((unsigned)u->nr);
		if (!u->name)
			u->name = "unknown";
		u->count = slot->count;
		u->total_ns = slot->total_ns;
		u->max_ns = slot->max_ns;
	}
	qsort(s->syscalls, s->n_syscalls, sizeof(s->syscalls[0]), by_total_desc);

	/* on-CPU time is what the period did not spend off the CPU */
	dur = s->end_ns - s->start_ns;
	off = s->off_cpu_ns + s->runq_ns;
	if (off > dur) {
		/* clock skew between CPUs can overshoot by a few ns */
		s->runq_ns = dur > s->off_cpu_ns ? dur - s->off_cpu_ns : 0;
		s->off_cpu_ns = s->off_cpu_ns < dur ? s->off_cpu_ns : dur;
		off = s->off_cpu_ns + s->runq_ns;
	}
	s->on_cpu_ns = dur - off;
	s->cause = ls_classify(s);
}

/*
 * The kernel updates a running task's CPU time at ticks and switches: at
 * HZ=100 it can lag 10 ms at each end of the period.
 */
#define EXEC_SLACK_NS (20ull * 1000 * 1000)
/*
 * A period whose first milliseconds went unseen (part_unseen): blocks there
 * are missing from the switch-by-switch split by design, so on-CPU time is
 * the kernel's as soon as the split exceeds it by more than the kernel's
 * lag at the period's end (a tick at HZ=250, with margin).
 */
#define EXEC_SLACK_UNSEEN_NS (5ull * 1000 * 1000)

/*
 * Per-call blocked time runs from switch-out to switch-in, so it includes
 * the wait for a CPU after the wakeup, which run_delay already counts as
 * run-queue time: scale the parts down to the blocked total, so no
 * millisecond is counted twice.
 */
static void scale_blocked(struct ls_stall *s)
{
	uint64_t parts = s->fault_ns;
	double f;
	unsigned i;

	for (i = 0; i < s->n_syscalls; i++)
		parts += s->syscalls[i].total_ns;
	if (parts <= s->off_cpu_ns)
		return;
	f = parts ? (double)s->off_cpu_ns / (double)parts : 0.0;
	s->fault_ns = (uint64_t)((double)s->fault_ns * f);
	for (i = 0; i < s->n_syscalls; i++) {
		struct ls_syscall_use *u = &s->syscalls[i];

		u->total_ns = (uint64_t)((double)u->total_ns * f);
		if (u->max_ns > u->total_ns)
			u->max_ns = u->total_ns;
	}
}

void ls_stall_apply_kernel_times(struct ls_stall *s, uint64_t exec_ns, uint64_t run_delay_ns)
{
	uint64_t dur = s->end_ns - s->start_ns, runq, on;

	runq = run_delay_ns < dur ? run_delay_ns : dur;
	on = s->on_cpu_ns;
	/* switches we saw are exact; more on-CPU time than the kernel counted means one was missed
	 */
	if (on > exec_ns + (s->part_unseen ? EXEC_SLACK_UNSEEN_NS : EXEC_SLACK_NS + dur / 50))
		on = exec_ns;
	if (on > dur - runq)
		on = dur - runq;
	s->runq_ns = runq;
	s->on_cpu_ns = on;
	s->off_cpu_ns = dur - on - runq;
	scale_blocked(s);
	s->cause = ls_classify(s);
}

int ls_stall_from_record(struct ls_stall *s, const void *data, size_t size, uint64_t threshold_ns)
{
	const struct lt_stall_rec *rec = data;
	char comm[16];

	if (size < sizeof(*rec) || rec->type != LT_REC_STALL)
		return -EINVAL;
	if (rec->busy.nr_slots > LT_MAX_SLOTS || rec->end_ns < rec->busy.start_ns)
		return -EINVAL;
	memcpy(comm, rec->comm, sizeof(comm));
	comm[sizeof(comm) - 1] = '\0';
	ls_stall_from_busy(s, &rec->busy, rec->pid, rec->tid, comm, rec->end_ns, threshold_ns,
			   rec->maj_flt);
	s->cut_short = rec->flags & LT_STALL_CUT_SHORT;
	s->loop_gone = rec->flags & LT_STALL_LOOP_GONE;
	s->began_before_attach = rec->flags & LT_STALL_BEFORE_ATTACH;
	s->part_unseen = rec->flags & LT_STALL_PART_UNSEEN;
	if (rec->flags & LT_STALL_KERNEL_TIMES)
		ls_stall_apply_kernel_times(s, rec->exec_ns, rec->run_delay_ns);
	return 0;
}
