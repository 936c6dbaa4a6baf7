// SPDX-License-Identifier: BSD-2-Clause
/* A short remedy for one stall, from its cause and the call that dominated. */
#include <stdio.h>
#include <string.h>
#include "stall.h"
#include "syscalls.h"

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static bool is_socket(const char *target)
{
	return !strncmp(target, "socket:", 7);
}

static void blocking_advice(const struct ls_stall *s, char *buf, size_t len)
{
	const struct ls_syscall_use *u = &s->syscalls[0];
	const char *what = u->target[0] ? u->target : NULL;

	if (u->nr >= 0 && ls_syscall_is_sleep((unsigned)u->nr)) {
		snprintf(
		    buf, len,
		    "The loop thread slept %.1f ms in %s. Never sleep on the loop: use a timer "
		    "(asyncio.sleep, setTimeout, an ev_timer) or move the work to a thread pool "
		    "(run_in_executor).",
		    ms(u->total_ns), u->name);
	} else if (what && is_socket(what)) {
		snprintf(
		    buf, len,
		    "The loop thread blocked %.1f ms in %s on %s. Make the socket non-blocking "
		    "and wait for readiness in the loop, or use an async client.",
		    ms(u->total_ns), u->name, what);
	} else if (what && what[0] == '/') {
		snprintf(
		    buf, len,
		    "The loop thread blocked %.1f ms in %s on the file %s. Regular-file I/O "
		    "always blocks: do it in a thread pool (run_in_executor, uv_fs_*, aiofiles) "
		    "or with io_uring.",
		    ms(u->total_ns), u->name, what);
	} else {
		snprintf(
		    buf, len,
		    "The loop thread blocked %.1f ms in %s (%u call%s). Move the blocking call "
		    "off the loop thread (a thread pool, run_in_executor) or use its non-blocking "
		    "form.",
		    ms(u->total_ns), u->name, u->count, u->count == 1 ? "" : "s");
	}
}

void ls_advice(const struct ls_stall *s, char *buf, size_t len)
{
	double dur = ms(s->end_ns - s->start_ns);

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
			blocking_advice(s, buf, len);
			return;
		}
		break;
	case LS_CAUSE_CPU:
		snprintf(
		    buf, len,
		    "The loop thread computed for %.1f ms of a %.1f ms stall without yielding. "
		    "Split the work and yield between chunks (await asyncio.sleep(0), "
		    "setImmediate, an ev_idle watcher) or offload it to a process pool.",
		    ms(s->on_cpu_ns), dur);
		return;
	case LS_CAUSE_LOCK_WAIT:
		snprintf(
		    buf, len,
		    "The loop thread waited %.1f ms for a lock (%s) another thread held. Do not "
		    "take contended locks on the loop thread: hand the work to the lock holder's "
		    "side through a queue, or shorten the critical section.",
		    ms(s->n_syscalls ? s->syscalls[0].total_ns : s->off_cpu_ns),
		    s->n_syscalls ? s->syscalls[0].name : "futex");
		return;
	case LS_CAUSE_PREEMPTED:
		snprintf(
		    buf, len,
		    "The loop thread was runnable but waited %.1f ms for a CPU (%u involuntary "
		    "switches). The machine or the cgroup is CPU-starved: check the CPU quota "
		    "(cpu.max, throttling), CPU hogs on the same cores, and pinning.",
		    ms(s->runq_ns), s->nivcsw);
		return;
	case LS_CAUSE_PAGE_FAULT:
		snprintf(buf, len,
			 "The loop thread blocked %.1f ms outside any syscall (%llu major page "
			 "faults): memory was paged in from disk. Check memory pressure and swap, "
			 "or lock the working set (mlock) / prefault it at start.",
			 ms(s->fault_ns), (unsigned long long)s->major_faults);
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
