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

/* The target's kind; records without one (older agents, tests) by the target's text. */
static enum ls_target_kind target_kind(const struct ls_syscall_use *u)
{
	if (u->target_kind != LS_TK_NONE)
		return u->target_kind;
	if (!strncmp(u->target, "socket:", 7) || !strncmp(u->target, "dns:", 4))
		return LS_TK_SOCKET;
	if (!strcmp(u->target, "pipe"))
		return LS_TK_PIPE;
	if (!strncmp(u->target, "anon_inode:", 11))
		return ls_target_kind_of(0, 0x09041934 /* ANON_INODE_FS_MAGIC */, u->target);
	if (u->target[0] == '/')
		return LS_TK_FILE;
	return LS_TK_NONE;
}

static void blocking_advice(const struct ls_stall *s, char *buf, size_t len)
{
	const struct ls_syscall_use *u = &s->syscalls[0];
	const char *what = u->target[0] ? u->target : NULL;
	const char *calls = u->count == 1 ? "" : "s";

	if (u->nr >= 0 && ls_syscall_is_sleep((unsigned)u->nr)) {
		snprintf(
		    buf, len,
		    "The loop thread slept %.1f ms in %s. Never sleep on the loop: use a timer "
		    "(asyncio.sleep, setTimeout, an ev_timer) or move the work to a thread pool "
		    "(run_in_executor).",
		    ms(u->total_ns), u->name);
		return;
	}
	switch (what ? target_kind(u) : LS_TK_NONE) {
	case LS_TK_SOCKET:
		if (!strncmp(what, "dns:", 4)) {
			snprintf(buf, len,
				 "The loop thread waited %.1f ms in %s for a DNS answer (%s): a "
				 "name lookup (getaddrinfo) ran on the loop. Resolve names "
				 "asynchronously (loop.getaddrinfo, c-ares, uv_getaddrinfo) or "
				 "cache them.",
				 ms(u->total_ns), u->name, what);
			return;
		}
		snprintf(
		    buf, len,
		    "The loop thread blocked %.1f ms in %s on %s: network I/O. Make the socket "
		    "non-blocking and wait for readiness in the loop, or use an async client.",
		    ms(u->total_ns), u->name, what);
		return;
	case LS_TK_FIFO:
	case LS_TK_PIPE:
		snprintf(buf, len,
			 "The loop thread blocked %.1f ms in %s on %s%s (%u call%s): it waited "
			 "for the process at the other end, not for the disk. Read and write it "
			 "from the loop, non-blocking with a watcher (loop.connect_read_pipe, "
			 "ev_io, uv_pipe_t), or in a thread.",
			 ms(u->total_ns), u->name,
			 target_kind(u) == LS_TK_FIFO ? "the FIFO "
			 : strcmp(what, "pipe")	      ? "the pipe "
						      : "a ",
			 what, u->count, calls);
		return;
	case LS_TK_FILE:
	case LS_TK_DIR:
		snprintf(
		    buf, len,
		    "The loop thread blocked %.1f ms in %s on the %s %s. Regular-file I/O "
		    "always blocks: do it in a thread pool (run_in_executor, uv_fs_*, aiofiles) "
		    "or with io_uring.",
		    ms(u->total_ns), u->name, target_kind(u) == LS_TK_DIR ? "directory" : "file",
		    what);
		return;
	case LS_TK_DEVICE:
		snprintf(buf, len,
			 "The loop thread blocked %.1f ms in %s on the device %s (%u call%s): it "
			 "waited for the device's driver. Open it non-blocking and watch it from "
			 "the loop, or do the I/O in a thread.",
			 ms(u->total_ns), u->name, what, u->count, calls);
		return;
	case LS_TK_EVENTFD:
	case LS_TK_TIMERFD:
	case LS_TK_SIGNALFD:
	case LS_TK_EPOLL:
		snprintf(buf, len,
			 "The loop thread blocked %.1f ms in %s on %s (%u call%s): it waited for "
			 "an event another thread, a timer or a signal delivers. Register the fd "
			 "with the loop instead of waiting on it in a callback.",
			 ms(u->total_ns), u->name, what, u->count, calls);
		return;
	default:
		break;
	}
	snprintf(buf, len,
		 "The loop thread blocked %.1f ms in %s%s%s (%u call%s). Move the blocking call "
		 "off the loop thread (a thread pool, run_in_executor) or use its non-blocking "
		 "form.",
		 ms(u->total_ns), u->name, what ? " on " : "", what ? what : "", u->count, calls);
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
