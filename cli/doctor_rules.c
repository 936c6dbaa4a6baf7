// SPDX-License-Identifier: BSD-2-Clause
/*
 * From a culprit's evidence to a verdict: the cause the agent named, refined
 * by the syscall and what it waited on (a sleep, a socket, a file, a pipe, a
 * child), then a remedy in the idiom of the runtime (Python asyncio, Node.js,
 * or a C loop library such as libev/libuv).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "doctor_rules.h"
#include "report_describe.h"
#include "report_out.h"

/* A loop busier than this outside its stalls is close to saturation. */
#define SATURATED_BUSY 0.7
/* Run-queue wait worth a word inside CPU stalls. */
#define NOTABLE_RUNQ 0.2

static bool name_in(const char *name, const char *const *names)
{
	for (; *names; names++)
		if (!strcmp(name, *names))
			return true;
	return false;
}

static bool starts(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

static const char *const sleeps[] = { "nanosleep", "clock_nanosleep", "pause", NULL };
static const char *const locks[] = { "futex", "futex_waitv", "flock", "semop", "semtimedop",
				     "msgrcv", NULL };
static const char *const children[] = { "wait4", "waitid", NULL };
/* File-system calls that take a path, or an fd that is always a file. */
static const char *const file_calls[] = {
	"open",	     "openat",	      "openat2",    "creat",	  "stat",	 "lstat",
	"newfstatat", "statx",	      "access",	    "faccessat",  "faccessat2",	 "fsync",
	"fdatasync",  "sync",	      "syncfs",	    "sync_file_range", "unlink", "unlinkat",
	"rename",     "renameat",     "renameat2",  "mkdir",	  "mkdirat",	 "rmdir",
	"getdents64", "truncate",     "ftruncate",  "fallocate",  "copy_file_range", "readlink",
	"readlinkat", "chmod",	      "fchmodat",   "chown",	  "fchownat",	 "utimensat",
	"io_submit",  "io_getevents", NULL,
};
static const char *const socket_calls[] = { "connect",	"accept",  "accept4", "recvfrom",
					    "recvmsg",	"recvmmsg", "sendto", "sendmsg",
					    "sendmmsg", NULL };

/* A socket to or from port 53: a resolver at work. */
static bool dns_target(const char *t)
{
	const char *p = strstr(t, ":53");

	for (; p; p = strstr(p + 1, ":53"))
		if (p[3] == '\0' || p[3] == '-' || p[3] == ' ')
			return true;
	return false;
}

static enum dr_kind syscall_kind(const struct rf_syscall *u)
{
	if (!u)
		return DR_SYSCALL;
	if (name_in(u->name, sleeps))
		return DR_SLEEP;
	if (name_in(u->name, locks))
		return DR_LOCK;
	if (name_in(u->name, children))
		return DR_CHILD;
	/* what the agent saw while the call blocked: a FIFO at a path is no file */
	if (u->target_kind) {
		if (!strcmp(u->target_kind, "fifo") || !strcmp(u->target_kind, "pipe"))
			return DR_PIPE;
		if (!strcmp(u->target_kind, "socket"))
			return starts(u->target, "dns:") || (u->target && dns_target(u->target))
				   ? DR_DNS
				   : DR_SOCKET;
		if (!strcmp(u->target_kind, "file") || !strcmp(u->target_kind, "dir"))
			return DR_FILE;
		return DR_SYSCALL;
	}
	if (u->target) {
		if (starts(u->target, "dns:"))
			return DR_DNS;
		if (starts(u->target, "socket:"))
			return dns_target(u->target) ? DR_DNS : DR_SOCKET;
		if (!strcmp(u->target, "pipe") || starts(u->target, "pipe:"))
			return DR_PIPE;
		if (u->target[0] == '/')
			return DR_FILE;
		return DR_SYSCALL;
	}
	if (name_in(u->name, file_calls))
		return DR_FILE;
	if (name_in(u->name, socket_calls))
		return DR_SOCKET;
	return DR_SYSCALL;
}

/* "the FIFO " before a target whose kind its text does not show; "" otherwise */
static const char *target_noun(const struct rf_syscall *u)
{
	static const struct {
		const char *kind, *noun;
	} nouns[] = {
	    {"fifo", "the FIFO "},
	    {"file", "the file "},
	    {"dir", "the directory "},
	    {"device", "the device "},
	};
	size_t i;

	if (!u->target_kind || !u->target || u->target[0] != '/')
		return "";
	for (i = 0; i < sizeof(nouns) / sizeof(nouns[0]); i++)
		if (!strcmp(u->target_kind, nouns[i].kind))
			return nouns[i].noun;
	return "";
}

/* The biggest share of the stalls' time, for causes that do not name one. */
static enum dr_kind largest_part(const struct agg_culprit *c)
{
	double blocked = c->off_cpu_ms - c->fault_ms, best = c->on_cpu_ms;
	enum dr_kind kind = DR_CPU;

	if (blocked > best) {
		best = blocked;
		kind = c->syscall ? syscall_kind(c->syscall) : DR_UNKNOWN;
	}
	if (c->runqueue_ms > best) {
		best = c->runqueue_ms;
		kind = DR_PREEMPTED;
	}
	if (c->fault_ms > best) {
		best = c->fault_ms;
		kind = DR_PAGE_FAULT;
	}
	return best > 0 ? kind : DR_UNKNOWN;
}

/* A libc wrapper's name without its decorations: "__libc_write" -> "write". */
static const char *wrapped_call(const char *symbol)
{
	if (!symbol)
		return "";
	while (*symbol == '_')
		symbol++;
	return starts(symbol, "libc_") ? symbol + 5 : symbol;
}

/*
 * On-CPU time can be file I/O too: write() into the page cache copies in
 * the kernel without blocking. Such a CPU stall is file I/O when its busiest
 * stack ends in a read/write wrapper and the stall touched the file system.
 */
static bool cpu_in_file_io(const struct agg_culprit *c)
{
	static const char *const io[] = { "write",   "read",   "pwrite64", "pread64", "pwrite",
					   "pread",   "writev", "readv",	  "fsync",   "fdatasync",
					   "sendfile", "copy_file_range", NULL };
	const struct rf_stall *s = c->worst;
	size_t i;

	if (!c->stack || !c->stack->n || !name_in(wrapped_call(c->stack->frames[0].symbol), io))
		return false;
	for (i = 0; i < s->n_syscalls; i++)
		if (syscall_kind(&s->syscalls[i]) == DR_FILE)
			return true;
	return false;
}

enum dr_kind doctor_kind(const struct agg_culprit *c, bool *mixed)
{
	*mixed = false;
	if (!strcmp(c->cause, "cpu"))
		return cpu_in_file_io(c) ? DR_FILE : DR_CPU;
	if (!strcmp(c->cause, "lock_wait"))
		return DR_LOCK;
	if (!strcmp(c->cause, "preempted"))
		return DR_PREEMPTED;
	if (!strcmp(c->cause, "page_fault"))
		return DR_PAGE_FAULT;
	if (!strcmp(c->cause, "blocking_syscall"))
		return syscall_kind(c->syscall);
	if (!strcmp(c->cause, "mixed")) {
		*mixed = true;
		return largest_part(c);
	}
	return DR_UNKNOWN;
}

/* Appends to a fixed buffer; the text is cut, never overflowed. */
struct text {
	char *buf;
	size_t len;
	size_t used;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->used + 1 >= t->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->used, t->len - t->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->used = t->used + (size_t)n < t->len ? t->used + (size_t)n : t->len - 1;
}

static const char *title(enum dr_kind kind, const struct agg_culprit *c, char *buf, size_t len)
{
	switch (kind) {
	case DR_SLEEP:
		return "A blocking sleep on the loop thread";
	case DR_SOCKET:
		return "Blocking socket I/O on the loop thread";
	case DR_DNS:
		return "A blocking DNS lookup on the loop thread";
	case DR_FILE:
		return "Regular-file I/O on the loop thread";
	case DR_PIPE:
		return "Blocking pipe or FIFO I/O on the loop thread: it waits for another process";
	case DR_CHILD:
		return "Waiting for a child process on the loop thread";
	case DR_SYSCALL:
		snprintf(buf, len, "A blocking %s call on the loop thread",
			 c->syscall ? c->syscall->name : "system");
		return buf;
	case DR_CPU:
		return "A CPU-bound callback: the loop thread computes without yielding";
	case DR_LOCK:
		return "Lock wait: the loop thread waits for a lock another thread holds";
	case DR_PREEMPTED:
		return "CPU starvation: the loop thread is runnable but gets no CPU";
	case DR_PAGE_FAULT:
		return "Memory pressure: the loop thread waits for page faults";
	default:
		return "Stalls without a clear cause";
	}
}

static const char *remedy_python(enum dr_kind kind)
{
	switch (kind) {
	case DR_SLEEP:
		return "Never call time.sleep() in a coroutine: `await asyncio.sleep(seconds)` "
		       "suspends only that coroutine. If a library sleeps for you (retry or "
		       "backoff helpers, synchronous clients), run it off the loop with `await "
		       "asyncio.to_thread(fn)` or `loop.run_in_executor(None, fn)`.";
	case DR_SOCKET:
		return "A synchronous client (requests, urllib, a blocking socket, a sync database "
		       "driver) runs on the loop. Use an async client (aiohttp or "
		       "httpx.AsyncClient, asyncpg, redis.asyncio) or asyncio streams "
		       "(asyncio.open_connection); until then wrap the call in `await "
		       "asyncio.to_thread(...)`.";
	case DR_DNS:
		return "socket.getaddrinfo() and gethostbyname() block: use `await "
		       "loop.getaddrinfo(...)` (it runs in the executor), aiodns, or let "
		       "asyncio.open_connection resolve the name.";
	case DR_FILE:
		return "Regular files always block (O_NONBLOCK has no effect on them): use "
		       "aiofiles, or `await asyncio.to_thread(...)` / `loop.run_in_executor(None, "
		       "...)` for the reads, writes and fsyncs.";
	case DR_PIPE:
		return "Read subprocess pipes through asyncio: `asyncio.create_subprocess_exec` "
		       "(its pipes are non-blocking and read by the loop) or "
		       "`loop.connect_read_pipe`, not with blocking reads.";
	case DR_CHILD:
		return "subprocess.run() and Popen.wait() block the loop: use `proc = await "
		       "asyncio.create_subprocess_exec(...)` and `await proc.wait()`.";
	case DR_CPU:
		return "A coroutine computes without awaiting. Split the work into chunks of a few "
		       "milliseconds and `await asyncio.sleep(0)` between them, or offload it: "
		       "`await loop.run_in_executor(ProcessPoolExecutor(), fn, data)` (a process "
		       "pool: a thread would still hold the GIL).";
	case DR_LOCK:
		return "A threading.Lock (or queue.Queue.get(), Future.result(), a sync "
		       "connection pool) is taken on the loop thread while another thread holds "
		       "it. Between coroutines use asyncio.Lock; to wait for a thread, `await "
		       "asyncio.wrap_future(fut)` or `await asyncio.to_thread(lock.acquire)`; keep "
		       "what the threads do under the lock short.";
	default:
		return "Move the call off the loop thread: `await asyncio.to_thread(fn)` or "
		       "`loop.run_in_executor(None, fn)`, or use its asyncio counterpart.";
	}
}

static const char *remedy_node(enum dr_kind kind)
{
	switch (kind) {
	case DR_SLEEP:
		return "Do not block the main thread to wait: use a timer (`await setTimeout(ms)` "
		       "from node:timers/promises, or setTimeout with a callback). A synchronous "
		       "wait (Atomics.wait, execSync('sleep ...')) freezes every connection.";
	case DR_SOCKET:
		return "Use the asynchronous network APIs (net, http, fetch); a native addon or a "
		       "*Sync helper that blocks on a socket belongs in worker_threads.";
	case DR_DNS:
		return "dns.lookup() runs in libuv's thread pool; a lookup that blocks the main "
		       "thread comes from a native addon: use dns.promises or move the addon call "
		       "to a worker.";
	case DR_FILE:
		return "Replace fs.*Sync calls with fs.promises (or the callback fs API): libuv "
		       "then runs them on its thread pool.";
	case DR_PIPE:
	case DR_CHILD:
		return "Use child_process.spawn or exec (asynchronous, with streams or a "
		       "callback) instead of execSync / spawnSync.";
	case DR_CPU:
		return "A callback computes synchronously. Split the work and yield between "
		       "chunks with setImmediate(), or move it to worker_threads (a Worker, or a "
		       "pool such as piscina).";
	case DR_LOCK:
		return "The main thread blocks on a lock (Atomics.wait, or a mutex in a native "
		       "addon) that a worker holds: use Atomics.waitAsync or message passing "
		       "(postMessage) instead.";
	default:
		return "Move the call to worker_threads or use its asynchronous API; the main "
		       "thread must only wait in the event loop.";
	}
}

static const char *remedy_c(enum dr_kind kind)
{
	switch (kind) {
	case DR_SLEEP:
		return "Do not sleep in a callback: arm a timer watcher (ev_timer_start / "
		       "uv_timer_start) and continue the work in its callback; if the sleep is "
		       "inside a blocking library call, run that call on a worker thread and get "
		       "the result back with ev_async / uv_async_send.";
	case DR_SOCKET:
		return "Make the socket non-blocking (O_NONBLOCK) and wait for readiness with an "
		       "io watcher (ev_io / uv_poll) instead of blocking in the call, or use the "
		       "client library's async interface (hiredis async, libcurl multi, libpq "
		       "PQsendQuery).";
	case DR_DNS:
		return "getaddrinfo() blocks: resolve asynchronously (c-ares, getaddrinfo_a, "
		       "uv_getaddrinfo) or on a worker thread, and cache the answers.";
	case DR_FILE:
		return "Regular-file I/O always blocks, whatever O_NONBLOCK says: do it on a "
		       "thread pool (uv_fs_* with a callback, or workers that report back with "
		       "ev_async) or submit it with io_uring; keep fsync off the loop thread.";
	case DR_PIPE:
		return "Set the pipe O_NONBLOCK and read it from an io watcher (ev_io / "
		       "uv_pipe_t) instead of blocking in read or write.";
	case DR_CHILD:
		return "Do not waitpid() in a callback: use a child watcher (ev_child, or "
		       "uv_spawn's exit callback) or SIGCHLD through a signal watcher.";
	case DR_CPU:
		return "A callback computes without returning to the loop. Split the work and "
		       "continue it from an idle watcher (ev_idle / uv_idle) between chunks, or "
		       "hand it to a worker thread (a thread pool with ev_async, or "
		       "uv_queue_work).";
	case DR_LOCK:
		return "A pthread mutex or condition variable is taken on the loop thread while "
		       "another thread holds it. Try it (pthread_mutex_trylock) and retry from the "
		       "loop, hand the work over through a queue signalled with ev_async / "
		       "uv_async_send, or shorten the other side's critical section.";
	default:
		return "Move the call to a worker thread that reports back with ev_async / "
		       "uv_async_send, or use its non-blocking form.";
	}
}

static const char *remedy(enum dr_kind kind, enum agg_lang lang)
{
	switch (kind) {
	case DR_PREEMPTED:
		return "The machine or the service's CPU quota is saturated. Look at the cgroup: "
		       "/sys/fs/cgroup/<service>/cpu.stat (nr_throttled and throttled_usec grow "
		       "when the cpu.max quota is hit) and cpu.max, at /proc/pressure/cpu, and for "
		       "CPU hogs on the same cores (top, pidstat -u 1). Raise the quota, move the "
		       "hogs away, or give the loop thread a CPU of its own.";
	case DR_PAGE_FAULT:
		return "Pages the loop needs were evicted and read back from disk. Check "
		       "/proc/pressure/memory, swap activity (vmstat: si/so) and the cgroup's "
		       "memory.max, memory.high and memory.stat; give the service more memory, "
		       "shrink its working set, or lock what the loop touches (mlock, prefault at "
		       "start).";
	case DR_UNKNOWN:
		return "The recording does not tell what the loop thread did. Record again (a "
		       "lower --threshold catches more of these stalls) and link libprobe into "
		       "the service to see the callback that ran.";
	default:
		break;
	}
	if (lang == AGG_LANG_PYTHON)
		return remedy_python(kind);
	if (lang == AGG_LANG_NODE)
		return remedy_node(kind);
	return remedy_c(kind);
}

static bool has_frames(const struct rf_stall *s)
{
	size_t i;

	for (i = 0; i < s->n_syscalls; i++)
		if (s->syscalls[i].stack.n)
			return true;
	for (i = 0; i < s->n_cpu_stacks; i++)
		if (s->cpu_stacks[i].stack.n)
			return true;
	return false;
}

/* What the time went to, in the culprit's own numbers. */
static void detail(struct text *t, enum dr_kind kind, bool mixed, const struct agg_culprit *c)
{
	const struct rf_syscall *u = c->syscall;
	char a[32], b[32], d[32], e[32];

	if (mixed)
		add(t, "No single cause: %s on CPU, %s blocked, %s waiting for a CPU%s%s; the "
		       "largest part decides. ",
		    out_ms(c->on_cpu_ms, a, sizeof(a)), out_ms(c->off_cpu_ms, b, sizeof(b)),
		    out_ms(c->runqueue_ms, d, sizeof(d)), c->fault_ms > 0 ? ", in page faults " : "",
		    c->fault_ms > 0 ? out_ms(c->fault_ms, e, sizeof(e)) : "");
	switch (kind) {
	case DR_CPU:
		add(t, "On CPU for %s of the %s", out_ms(c->on_cpu_ms, a, sizeof(a)),
		    out_ms(c->total_ms, b, sizeof(b)));
		if (c->runqueue_ms > NOTABLE_RUNQ * c->total_ms)
			add(t, ", and %s more runnable but waiting for a CPU (the machine is busy "
			       "too)",
			    out_ms(c->runqueue_ms, d, sizeof(d)));
		add(t, ".");
		break;
	case DR_PREEMPTED:
		add(t, "Runnable but waiting for a CPU for %s of the %s, %llu involuntary context "
		       "switches.",
		    out_ms(c->runqueue_ms, a, sizeof(a)), out_ms(c->total_ms, b, sizeof(b)),
		    (unsigned long long)c->involuntary_switches);
		break;
	case DR_PAGE_FAULT:
		add(t, "Blocked for %s outside any syscall, with %llu major page faults.",
		    out_ms(c->fault_ms, a, sizeof(a)), (unsigned long long)c->major_faults);
		break;
	case DR_UNKNOWN:
		if (c->worst->source && !strcmp(c->worst->source, "libprobe"))
			add(t, "Recorded by libprobe alone, which times callbacks but does not see "
			       "the kernel: no CPU or blocking times.");
		else
			add(t, "%s on CPU, %s blocked, %s waiting for a CPU.",
			    out_ms(c->on_cpu_ms, a, sizeof(a)), out_ms(c->off_cpu_ms, b, sizeof(b)),
			    out_ms(c->runqueue_ms, d, sizeof(d)));
		break;
	default:
		if (kind == DR_FILE && !strcmp(c->cause, "cpu")) {
			add(t, "On CPU for %s of the %s in %s(): the kernel copying file data. ",
			    out_ms(c->on_cpu_ms, a, sizeof(a)), out_ms(c->total_ms, b, sizeof(b)),
			    wrapped_call(c->stack->frames[0].symbol));
			if (u)
				add(t, "Also blocked in %s for %s.", u->name,
				    out_ms(c->syscall_ms, d, sizeof(d)));
			break;
		}
		if (!u)
			break;
		add(t, "Blocked in %s for %s of the %s", u->name, out_ms(c->syscall_ms, a, sizeof(a)),
		    out_ms(c->total_ms, b, sizeof(b)));
		if (u->target)
			add(t, ", on %s%s", target_noun(u), u->target);
		if (kind == DR_LOCK)
			add(t, ": a lock (mutex, condition variable, semaphore) that another thread "
			       "held. The recording does not name that thread; `%s %u` during a stall "
			       "shows what every thread is doing",
			    c->lang == AGG_LANG_PYTHON ? "py-spy dump --pid" : "eu-stack -p",
			    c->worst->pid);
		add(t, ".");
		break;
	}
}

/* Programs whose own tools name the slow operation. */
static const char *program_hint(const char *comm)
{
	if (!strcmp(comm, "redis-server"))
		return " Redis runs every command on this thread: SLOWLOG GET and LATENCY DOCTOR "
		       "name the slow ones (DEBUG SLEEP, long Lua scripts, KEYS, a large DEL: use "
		       "SCAN and UNLINK).";
	return "";
}

void doctor_verdict(const struct aggregate *agg, const struct agg_culprit *c,
		    struct dr_verdict *v)
{
	struct text t = { .buf = v->evidence, .len = sizeof(v->evidence) };
	const struct rf_callback *cb = c->worst->callback;
	char a[32], b[32], at[32], frame[512], name[160];

	memset(v, 0, sizeof(*v));
	v->kind = doctor_kind(c, &v->mixed);
	snprintf(v->title, sizeof(v->title), "%s", title(v->kind, c, name, sizeof(name)));
	if (c->stalls == 1)
		add(&t, "1 stall of %s at %s", out_ms(c->total_ms, a, sizeof(a)),
		    report_offset(agg, c->worst, at, sizeof(at)));
	else
		add(&t, "%u stalls, %s in all, the worst %s at %s", c->stalls,
		    out_ms(c->total_ms, a, sizeof(a)), out_ms(c->max_ms, b, sizeof(b)),
		    report_offset(agg, c->worst, at, sizeof(at)));
	if (c->cut_short)
		add(&t, " (%u cut short)", c->cut_short);
	add(&t, ". ");
	detail(&t, v->kind, v->mixed, c);
	if (c->site)
		add(&t, " Where: %s.", report_where(c, frame, sizeof(frame)));
	else
		add(&t, " No stack was recorded.");
	if (cb)
		add(&t, " In callback %s.", report_callback(cb, frame, sizeof(frame)));
	if (c->worst->task_coroutine) {
		if (c->worst->task_file && c->worst->task_line > 0)
			add(&t, " In asyncio task %s() at %s:%ld.", c->worst->task_coroutine,
			    agg_basename(c->worst->task_file), c->worst->task_line);
		else
			add(&t, " In asyncio task %s().", c->worst->task_coroutine);
	}
	if (has_frames(c->worst))
		add(&t, " Runtime: %s, from the stack.", agg_lang_name(c->lang));
	else
		add(&t, " Runtime: %s, from the process name (%s).", agg_lang_name(c->lang), c->comm);
	snprintf(v->remedy, sizeof(v->remedy), "%s%s", remedy(v->kind, c->lang),
		 program_hint(c->comm));
	/* a named callback is the lead to follow when the kernel side is missing */
	if (v->kind == DR_UNKNOWN && cb && cb->symbol) {
		snprintf(v->title, sizeof(v->title), "A slow callback: %s", cb->symbol);
		snprintf(v->remedy, sizeof(v->remedy),
			 "Record it with `loopstall record -p %u` (as root) to learn whether %s "
			 "computed, slept or waited in a syscall, and where. Until then, look in %s "
			 "for blocking calls and long loops.",
			 c->worst->pid, cb->symbol, cb->symbol);
	}
}

void doctor_overview(const struct aggregate *agg, char *buf, size_t len)
{
	struct text t = { .buf = buf, .len = len };
	const struct rf_summary *sum = &agg->rec->summary;
	char a[32], b[32], c[32];
	double gap_max = 0;
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < sum->n_threads; i++)
		if (sum->threads[i].gap_max_ms > gap_max)
			gap_max = sum->threads[i].gap_max_ms;
	if (!agg->stalls)
		add(&t, "Nothing wrong: no stall over %g ms in %s", agg->threshold_ms,
		    out_secs(agg->recorded_ms, a, sizeof(a)));
	else
		add(&t, "%u stall%s over %g ms in %s: %s in all (%.1f %% of the time)", agg->stalls,
		    agg->stalls == 1 ? "" : "s", agg->threshold_ms,
		    out_secs(agg->recorded_ms, a, sizeof(a)), out_ms(agg->stalled_ms, b, sizeof(b)),
		    agg->recorded_ms > 0 ? 100.0 * agg->stalled_ms / agg->recorded_ms : 0.0);
	if (sum->n_threads)
		add(&t, "; heartbeat p99 %s (max %s)", out_ms(report_max_p99(agg), b, sizeof(b)),
		    out_ms(gap_max, c, sizeof(c)));
	if (!agg->stalls && sum->n_threads)
		add(&t, ", %llu loop iterations", (unsigned long long)sum->threads[0].iterations);
	add(&t, ".");
}

/* A loop thread's busy share outside its stalls: how close to saturation it runs. */
static double busy_outside_stalls(const struct aggregate *agg, const struct rf_thread *th)
{
	double life, stalled = 0;
	size_t i;

	if (th->busy_ratio <= 0)
		return 0;
	life = th->busy_ms / th->busy_ratio;
	for (i = 0; i < agg->rec->n_stalls; i++)
		if (agg->rec->stalls[i].tid == th->tid && agg->rec->stalls[i].pid == th->pid)
			stalled += agg->rec->stalls[i].duration_ms;
	return life > 0 && th->busy_ms > stalled ? (th->busy_ms - stalled) / life : 0;
}

bool doctor_note(const struct aggregate *agg, unsigned idx, char *buf, size_t len)
{
	const struct recording *rec = agg->rec;
	unsigned n = 0;
	size_t i;

	if (rec->summary.lost_events && n++ == idx) {
		snprintf(buf, len,
			 "%llu events were lost (the ring buffer was full): some stalls may be "
			 "missing from this diagnosis.",
			 (unsigned long long)rec->summary.lost_events);
		return true;
	}
	if (!rec->n_summaries && n++ == idx) {
		snprintf(buf, len,
			 "The recording has no summary (the recorder was killed?): loop iterations "
			 "and heartbeat gaps are unknown.");
		return true;
	}
	if (rec->unresolved_stack_refs && n++ == idx) {
		snprintf(buf, len,
			 "%u stack reference%s found no stack record before %s (a bounded file cut "
			 "at its head?): those stacks are missing from this diagnosis.",
			 rec->unresolved_stack_refs, rec->unresolved_stack_refs == 1 ? "" : "s",
			 rec->unresolved_stack_refs == 1 ? "it" : "them");
		return true;
	}
	if (agg->cut_short && n++ == idx) {
		snprintf(buf, len,
			 "%u stall%s cut short: the thread exited or the recording ended while it "
			 "lasted, so it may have been longer.",
			 agg->cut_short, agg->cut_short == 1 ? " was" : "s were");
		return true;
	}
	for (i = 0; i < rec->summary.n_threads; i++) {
		const struct rf_thread *th = &rec->summary.threads[i];
		double busy = busy_outside_stalls(agg, th);

		if (busy > SATURATED_BUSY && n++ == idx) {
			snprintf(buf, len,
				 "Loop thread %u (%s) was busy %.0f %% of the time outside its stalls: "
				 "it is close to saturation, and latency grows quickly with more load. "
				 "Spread the work over more loops (processes or threads).",
				 th->tid, th->comm, 100.0 * busy);
			return true;
		}
	}
	return false;
}
