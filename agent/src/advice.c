// SPDX-License-Identifier: BSD-2-Clause
/* A short remedy for one stall, from its cause and the call that dominated. */
#include <stdio.h>
#include <string.h>
#include "stall.h"
#include "syscall_class.h"

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* The target's kind; records without one (older agents, tests) by the target's text. */
static enum ls_target_kind target_kind(const struct ls_syscall_use *u)
{
	if (u->target_kind != LS_TK_NONE)
		return u->target_kind;
	return ls_target_kind_from_text(u->target);
}

/*
 * The kind of wait of the call that dominated. The sentences about what a
 * call waited on name its target: without one, only a sleep says more
 * than the call's name.
 */
static enum ls_wait blocking_wait(const struct ls_syscall_use *u)
{
	enum ls_wait kind = ls_wait_of_call(u->name, target_kind(u), u->target);

	if (!u->target[0] && kind != LS_WAIT_SLEEP)
		return LS_WAIT_SYSCALL;
	return kind;
}

/*
 * "The loop thread blocked 40.0 ms in read on NOUN TARGET (2 calls): it
 * waited for WHOM. REMEDY": the calls whose target is another party.
 */
static void waited_for(char *buf, size_t len, const struct ls_syscall_use *u, const char *noun,
		       const char *whom, const char *remedy)
{
	snprintf(buf, len,
		 "The loop thread blocked %.1f ms in %s on %s%s (%u call%s): it waited for %s. %s",
		 ms(u->total_ns), u->name, noun, u->target, u->count, u->count == 1 ? "" : "s",
		 whom, remedy);
}

static void blocking_advice(const struct ls_stall *s, enum ls_wait kind, char *buf, size_t len)
{
	const struct ls_syscall_use *u = &s->syscalls[0];
	const char *what = u->target, *calls = u->count == 1 ? "" : "s";
	const char *remedy = ls_wait_advice(kind);

	switch (kind) {
	case LS_WAIT_SLEEP:
		snprintf(buf, len, "The loop thread slept %.1f ms in %s. %s", ms(u->total_ns),
			 u->name, remedy);
		return;
	case LS_WAIT_DNS:
		snprintf(
		    buf, len,
		    "The loop thread waited %.1f ms in %s for a DNS answer (%s): a name lookup "
		    "(getaddrinfo) ran on the loop. %s",
		    ms(u->total_ns), u->name, what, remedy);
		return;
	case LS_WAIT_SOCKET:
		snprintf(buf, len, "The loop thread blocked %.1f ms in %s on %s: network I/O. %s",
			 ms(u->total_ns), u->name, what, remedy);
		return;
	case LS_WAIT_FILE:
		snprintf(buf, len, "The loop thread blocked %.1f ms in %s on the %s %s. %s",
			 ms(u->total_ns), u->name,
			 target_kind(u) == LS_TK_DIR ? "directory" : "file", what, remedy);
		return;
	case LS_WAIT_PIPE:
		waited_for(buf, len, u,
			   target_kind(u) == LS_TK_FIFO ? "the FIFO "
			   : strcmp(what, "pipe")	? "the pipe "
							: "a ",
			   "the process at the other end, not for the disk", remedy);
		return;
	case LS_WAIT_DEVICE:
		waited_for(buf, len, u, "the device ", "the device's driver", remedy);
		return;
	case LS_WAIT_EVENT:
		waited_for(buf, len, u, "", "an event another thread, a timer or a signal delivers",
			   remedy);
		return;
	default:
		break;
	}
	/* a lock taken through a file (flock) is still a lock: its remedy, not a file's */
	snprintf(buf, len, "The loop thread blocked %.1f ms in %s%s%s (%u call%s). %s",
		 ms(u->total_ns), u->name, what[0] ? " on " : "", what, u->count, calls,
		 remedy ? remedy : ls_wait_advice(LS_WAIT_SYSCALL));
}

/* The kind of wait a stall was, from its cause and the call that dominated. */
enum ls_wait ls_stall_wait(const struct ls_stall *s)
{
	switch (s->cause) {
	case LS_CAUSE_BLOCKING_SYSCALL:
		return s->n_syscalls ? blocking_wait(&s->syscalls[0]) : LS_WAIT_UNKNOWN;
	case LS_CAUSE_CPU:
		return LS_WAIT_CPU;
	case LS_CAUSE_LOCK_WAIT:
		return LS_WAIT_LOCK;
	case LS_CAUSE_PREEMPTED:
		return LS_WAIT_PREEMPTED;
	case LS_CAUSE_PAGE_FAULT:
		return LS_WAIT_PAGE_FAULT;
	default:
		return LS_WAIT_UNKNOWN;
	}
}

void ls_advice(const struct ls_stall *s, char *buf, size_t len)
{
	double dur = ms(s->end_ns - s->start_ns);
	enum ls_wait kind = ls_stall_wait(s);
	const char *remedy = ls_wait_advice(kind);

	if (s->loop_gone) {
		snprintf(buf, len,
			 "The loop had already returned: these %.1f ms are the process's exit "
			 "(freeing memory, finalizers, atexit handlers), not a stall of the loop. "
			 "If exit must be fast, end with os._exit() or skip the final cleanup.",
			 dur);
		return;
	}
	switch (s->cause) {
	case LS_CAUSE_BLOCKING_SYSCALL:
		if (s->n_syscalls) {
			blocking_advice(s, kind, buf, len);
			return;
		}
		break;
	case LS_CAUSE_CPU:
		snprintf(
		    buf, len,
		    "The loop thread computed for %.1f ms of a %.1f ms stall without yielding. "
		    "%s",
		    ms(s->on_cpu_ns), dur, remedy);
		return;
	case LS_CAUSE_LOCK_WAIT:
		snprintf(buf, len,
			 "The loop thread waited %.1f ms for a lock (%s) another thread held. %s",
			 ms(s->n_syscalls ? s->syscalls[0].total_ns : s->off_cpu_ns),
			 s->n_syscalls ? s->syscalls[0].name : "futex", remedy);
		return;
	case LS_CAUSE_PREEMPTED:
		snprintf(
		    buf, len,
		    "The loop thread was runnable but waited %.1f ms for a CPU (%u involuntary "
		    "switches). %s",
		    ms(s->runq_ns), s->nivcsw, remedy);
		return;
	case LS_CAUSE_PAGE_FAULT:
		snprintf(buf, len,
			 "The loop thread blocked %.1f ms outside any syscall (%llu major page "
			 "faults): memory was paged in from disk. %s",
			 ms(s->fault_ns), (unsigned long long)s->major_faults, remedy);
		return;
	case LS_CAUSE_MIXED:
		snprintf(buf, len,
			 "No single cause: %.1f ms on CPU, %.1f ms blocked, %.1f ms waiting for a "
			 "CPU. Look at the largest part first.",
			 ms(s->on_cpu_ns), ms(s->off_cpu_ns), ms(s->runq_ns));
		return;
	default:
		break;
	}
	snprintf(buf, len, "The %.1f ms stall could not be attributed.", dur);
}

void ls_stall_conclude(struct ls_stall *s)
{
	s->wait = ls_stall_wait(s);
	ls_advice(s, s->advice, sizeof(s->advice));
}
