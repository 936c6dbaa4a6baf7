// SPDX-License-Identifier: BSD-2-Clause
#include <string.h>
#include "syscall_class.h"
#include "syscalls.h"

/*
 * By name, so the table holds on every architecture's numbering and for
 * records written elsewhere. A syscall not listed is LS_SC_OTHER.
 */
static const struct {
	const char *name;
	enum ls_sc_class cls;
} classes[] = {
    {"nanosleep", LS_SC_SLEEP},
    {"clock_nanosleep", LS_SC_SLEEP},
    {"pause", LS_SC_SLEEP},

    {"futex", LS_SC_LOCK},
    {"futex_waitv", LS_SC_LOCK},
    {"flock", LS_SC_LOCK},
    {"semop", LS_SC_LOCK},
    {"semtimedop", LS_SC_LOCK},
    {"msgrcv", LS_SC_LOCK},

    {"wait4", LS_SC_CHILD},
    {"waitid", LS_SC_CHILD},

    {"open", LS_SC_FILE},
    {"openat", LS_SC_FILE},
    {"openat2", LS_SC_FILE},
    {"creat", LS_SC_FILE},
    {"stat", LS_SC_FILE},
    {"lstat", LS_SC_FILE},
    {"newfstatat", LS_SC_FILE},
    {"statx", LS_SC_FILE},
    {"access", LS_SC_FILE},
    {"faccessat", LS_SC_FILE},
    {"faccessat2", LS_SC_FILE},
    {"fsync", LS_SC_FILE},
    {"fdatasync", LS_SC_FILE},
    {"sync", LS_SC_FILE},
    {"syncfs", LS_SC_FILE},
    {"sync_file_range", LS_SC_FILE},
    {"unlink", LS_SC_FILE},
    {"unlinkat", LS_SC_FILE},
    {"rename", LS_SC_FILE},
    {"renameat", LS_SC_FILE},
    {"renameat2", LS_SC_FILE},
    {"mkdir", LS_SC_FILE},
    {"mkdirat", LS_SC_FILE},
    {"rmdir", LS_SC_FILE},
    {"getdents64", LS_SC_FILE},
    {"truncate", LS_SC_FILE},
    {"ftruncate", LS_SC_FILE},
    {"fallocate", LS_SC_FILE},
    {"copy_file_range", LS_SC_FILE},
    {"readlink", LS_SC_FILE},
    {"readlinkat", LS_SC_FILE},
    {"chmod", LS_SC_FILE},
    {"fchmodat", LS_SC_FILE},
    {"chown", LS_SC_FILE},
    {"fchownat", LS_SC_FILE},
    {"utimensat", LS_SC_FILE},
    {"io_submit", LS_SC_FILE},
    {"io_getevents", LS_SC_FILE},

    {"connect", LS_SC_SOCKET},
    {"accept", LS_SC_SOCKET},
    {"accept4", LS_SC_SOCKET},
    {"recvfrom", LS_SC_SOCKET},
    {"recvmsg", LS_SC_SOCKET},
    {"recvmmsg", LS_SC_SOCKET},
    {"sendto", LS_SC_SOCKET},
    {"sendmsg", LS_SC_SOCKET},
    {"sendmmsg", LS_SC_SOCKET},
};

#define N_CLASSES (sizeof(classes) / sizeof(classes[0]))

enum ls_sc_class ls_sc_class_of_name(const char *name)
{
	size_t i;

	if (!name)
		return LS_SC_OTHER;
	for (i = 0; i < N_CLASSES; i++)
		if (!strcmp(name, classes[i].name))
			return classes[i].cls;
	return LS_SC_OTHER;
}

enum ls_sc_class ls_sc_class_of_nr(unsigned nr)
{
	return ls_sc_class_of_name(ls_syscall_name(nr));
}

const char *ls_sc_entry(size_t i, enum ls_sc_class *cls)
{
	if (i >= N_CLASSES)
		return NULL;
	*cls = classes[i].cls;
	return classes[i].name;
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

enum ls_target_kind ls_target_kind_from_text(const char *t)
{
	if (!t)
		return LS_TK_NONE;
	if (starts(t, "socket:") || starts(t, "dns:"))
		return LS_TK_SOCKET;
	if (!strcmp(t, "pipe") || starts(t, "pipe:"))
		return LS_TK_PIPE;
	if (starts(t, "anon_inode:"))
		return ls_target_kind_of(0, 0x09041934 /* ANON_INODE_FS_MAGIC */, t);
	if (t[0] == '/')
		return LS_TK_FILE;
	return LS_TK_NONE;
}

bool ls_target_is_dns(const char *t)
{
	const char *peer;
	size_t n;

	if (!t)
		return false;
	if (starts(t, "dns:"))
		return true;
	/* "socket:UDP a:p->b:53", as older agents wrote a resolver's socket */
	if (!starts(t, "socket:") || !(peer = strstr(t, "->")))
		return false;
	n = strlen(peer);
	return n >= 3 && !strcmp(peer + n - 3, ":53");
}

enum ls_wait ls_wait_of_call(const char *name, enum ls_target_kind kind, const char *target)
{
	switch (ls_sc_class_of_name(name)) {
	case LS_SC_SLEEP:
		return LS_WAIT_SLEEP;
	case LS_SC_LOCK:
		return LS_WAIT_LOCK;
	case LS_SC_CHILD:
		return LS_WAIT_CHILD;
	default:
		break;
	}
	/* what the call waited on, as seen while it blocked: a FIFO at a path is no file */
	if (kind == LS_TK_NONE)
		kind = ls_target_kind_from_text(target);
	switch (kind) {
	case LS_TK_SOCKET:
		return ls_target_is_dns(target) ? LS_WAIT_DNS : LS_WAIT_SOCKET;
	case LS_TK_FIFO:
	case LS_TK_PIPE:
		return LS_WAIT_PIPE;
	case LS_TK_FILE:
	case LS_TK_DIR:
		return LS_WAIT_FILE;
	case LS_TK_DEVICE:
		return LS_WAIT_DEVICE;
	case LS_TK_EVENTFD:
	case LS_TK_TIMERFD:
	case LS_TK_SIGNALFD:
	case LS_TK_EPOLL:
		return LS_WAIT_EVENT;
	case LS_TK_NONE:
		break;
	default:
		return LS_WAIT_SYSCALL;
	}
	/* a target the text does not classify still is no file nor socket by the call's name */
	if (target && target[0])
		return LS_WAIT_SYSCALL;
	switch (ls_sc_class_of_name(name)) {
	case LS_SC_FILE:
		return LS_WAIT_FILE;
	case LS_SC_SOCKET:
		return LS_WAIT_SOCKET;
	default:
		return LS_WAIT_SYSCALL;
	}
}

/*
 * What to do about each kind: `advice` for the stall record (one sentence
 * for every runtime), `remedy` for the doctor, in the runtime's idiom. A
 * kind without remedies of its own takes LS_WAIT_SYSCALL's; a remedy the
 * same for every runtime is `any`.
 */
struct remedies {
	const char *advice;
	const char *any;
	const char *remedy[LS_RUNTIME_COUNT];
};

static const struct remedies remedies[LS_WAIT_COUNT] = {
    [LS_WAIT_SLEEP] =
	{
	    .advice = "Never sleep on the loop: use a timer (asyncio.sleep, setTimeout, an "
		      "ev_timer) or move the work to a thread pool (run_in_executor).",
	    .remedy[LS_RUNTIME_PYTHON] =
		"Never call time.sleep() in a coroutine: `await asyncio.sleep(seconds)` "
		"suspends only that coroutine. If a library sleeps for you (retry or "
		"backoff helpers, synchronous clients), run it off the loop with `await "
		"asyncio.to_thread(fn)` or `loop.run_in_executor(None, fn)`.",
	    .remedy[LS_RUNTIME_NODE] =
		"Do not block the main thread to wait: use a timer (`await setTimeout(ms)` "
		"from node:timers/promises, or setTimeout with a callback). A synchronous "
		"wait (Atomics.wait, execSync('sleep ...')) freezes every connection.",
	    .remedy[LS_RUNTIME_NATIVE] =
		"Do not sleep in a callback: arm a timer watcher (ev_timer_start / "
		"uv_timer_start) and continue the work in its callback; if the sleep is "
		"inside a blocking library call, run that call on a worker thread and get "
		"the result back with ev_async / uv_async_send.",
	},
    [LS_WAIT_SOCKET] =
	{
	    .advice = "Make the socket non-blocking and wait for readiness in the loop, or use "
		      "an async client.",
	    .remedy[LS_RUNTIME_PYTHON] =
		"A synchronous client (requests, urllib, a blocking socket, a sync database "
		"driver) runs on the loop. Use an async client (aiohttp or "
		"httpx.AsyncClient, asyncpg, redis.asyncio) or asyncio streams "
		"(asyncio.open_connection); until then wrap the call in `await "
		"asyncio.to_thread(...)`.",
	    .remedy[LS_RUNTIME_NODE] =
		"Use the asynchronous network APIs (net, http, fetch); a native addon or a "
		"*Sync helper that blocks on a socket belongs in worker_threads.",
	    .remedy[LS_RUNTIME_NATIVE] =
		"Make the socket non-blocking (O_NONBLOCK) and wait for readiness with an "
		"io watcher (ev_io / uv_poll) instead of blocking in the call, or use the "
		"client library's async interface (hiredis async, libcurl multi, libpq "
		"PQsendQuery).",
	},
    [LS_WAIT_DNS] =
	{
	    .advice = "Resolve names asynchronously (loop.getaddrinfo, c-ares, uv_getaddrinfo) "
		      "or cache them.",
	    .remedy[LS_RUNTIME_PYTHON] =
		"socket.getaddrinfo() and gethostbyname() block: use `await "
		"loop.getaddrinfo(...)` (it runs in the executor), aiodns, or let "
		"asyncio.open_connection resolve the name.",
	    .remedy[LS_RUNTIME_NODE] =
		"dns.lookup() runs in libuv's thread pool; a lookup that blocks the main "
		"thread comes from a native addon: use dns.promises or move the addon call "
		"to a worker.",
	    .remedy[LS_RUNTIME_NATIVE] =
		"getaddrinfo() blocks: resolve asynchronously (c-ares, getaddrinfo_a, "
		"uv_getaddrinfo) or on a worker thread, and cache the answers.",
	},
    [LS_WAIT_FILE] =
	{
	    .advice = "Regular-file I/O always blocks: do it in a thread pool (run_in_executor, "
		      "uv_fs_*, aiofiles) or with io_uring.",
	    .remedy[LS_RUNTIME_PYTHON] =
		"Regular files always block (O_NONBLOCK has no effect on them): use "
		"aiofiles, or `await asyncio.to_thread(...)` / `loop.run_in_executor(None, "
		"...)` for the reads, writes and fsyncs.",
	    .remedy[LS_RUNTIME_NODE] =
		"Replace fs.*Sync calls with fs.promises (or the callback fs API): libuv "
		"then runs them on its thread pool.",
	    .remedy[LS_RUNTIME_NATIVE] =
		"Regular-file I/O always blocks, whatever O_NONBLOCK says: do it on a "
		"thread pool (uv_fs_* with a callback, or workers that report back with "
		"ev_async) or submit it with io_uring; keep fsync off the loop thread.",
	},
    [LS_WAIT_PIPE] =
	{
	    .advice = "Read and write it from the loop, non-blocking with a watcher "
		      "(loop.connect_read_pipe, ev_io, uv_pipe_t), or in a thread.",
	    .remedy[LS_RUNTIME_PYTHON] =
		"Read subprocess pipes through asyncio: `asyncio.create_subprocess_exec` "
		"(its pipes are non-blocking and read by the loop) or "
		"`loop.connect_read_pipe`, not with blocking reads.",
	    .remedy[LS_RUNTIME_NODE] = "Use child_process.spawn or exec (asynchronous, with "
				       "streams or a callback) instead of execSync / spawnSync.",
	    .remedy[LS_RUNTIME_NATIVE] = "Set the pipe O_NONBLOCK and read it from an io "
					 "watcher (ev_io / uv_pipe_t) instead of blocking in "
					 "read or write.",
	},
    [LS_WAIT_CHILD] =
	{
	    .remedy[LS_RUNTIME_PYTHON] =
		"subprocess.run() and Popen.wait() block the loop: use `proc = await "
		"asyncio.create_subprocess_exec(...)` and `await proc.wait()`.",
	    .remedy[LS_RUNTIME_NODE] = "Use child_process.spawn or exec (asynchronous, with "
				       "streams or a callback) instead of execSync / spawnSync.",
	    .remedy[LS_RUNTIME_NATIVE] =
		"Do not waitpid() in a callback: use a child watcher (ev_child, or "
		"uv_spawn's exit callback) or SIGCHLD through a signal watcher.",
	},
    [LS_WAIT_DEVICE] =
	{
	    .advice = "Open it non-blocking and watch it from the loop, or do the I/O in a "
		      "thread.",
	},
    [LS_WAIT_EVENT] =
	{
	    .advice = "Register the fd with the loop instead of waiting on it in a callback.",
	},
    [LS_WAIT_SYSCALL] =
	{
	    .advice = "Move the blocking call off the loop thread (a thread pool, "
		      "run_in_executor) or use its non-blocking form.",
	    .remedy[LS_RUNTIME_PYTHON] =
		"Move the call off the loop thread: `await asyncio.to_thread(fn)` or "
		"`loop.run_in_executor(None, fn)`, or use its asyncio counterpart.",
	    .remedy[LS_RUNTIME_NODE] =
		"Move the call to worker_threads or use its asynchronous API; the main "
		"thread must only wait in the event loop.",
	    .remedy[LS_RUNTIME_NATIVE] =
		"Move the call to a worker thread that reports back with ev_async / "
		"uv_async_send, or use its non-blocking form.",
	},
    [LS_WAIT_CPU] =
	{
	    .advice = "Split the work and yield between chunks (await asyncio.sleep(0), "
		      "setImmediate, an ev_idle watcher) or offload it to a process pool.",
	    .remedy[LS_RUNTIME_PYTHON] =
		"A coroutine computes without awaiting. Split the work into chunks of a few "
		"milliseconds and `await asyncio.sleep(0)` between them, or offload it: "
		"`await loop.run_in_executor(ProcessPoolExecutor(), fn, data)` (a process "
		"pool: a thread would still hold the GIL).",
	    .remedy[LS_RUNTIME_NODE] =
		"A callback computes synchronously. Split the work and yield between "
		"chunks with setImmediate(), or move it to worker_threads (a Worker, or a "
		"pool such as piscina).",
	    .remedy[LS_RUNTIME_NATIVE] =
		"A callback computes without returning to the loop. Split the work and "
		"continue it from an idle watcher (ev_idle / uv_idle) between chunks, or "
		"hand it to a worker thread (a thread pool with ev_async, or "
		"uv_queue_work).",
	},
    [LS_WAIT_LOCK] =
	{
	    .advice = "Do not take contended locks on the loop thread: hand the work to the "
		      "lock holder's side through a queue, or shorten the critical section.",
	    .remedy[LS_RUNTIME_PYTHON] =
		"A threading.Lock (or queue.Queue.get(), Future.result(), a sync "
		"connection pool) is taken on the loop thread while another thread holds "
		"it. Between coroutines use asyncio.Lock; to wait for a thread, `await "
		"asyncio.wrap_future(fut)` or `await asyncio.to_thread(lock.acquire)`; keep "
		"what the threads do under the lock short.",
	    .remedy[LS_RUNTIME_NODE] =
		"The main thread blocks on a lock (Atomics.wait, or a mutex in a native "
		"addon) that a worker holds: use Atomics.waitAsync or message passing "
		"(postMessage) instead.",
	    .remedy[LS_RUNTIME_NATIVE] =
		"A pthread mutex or condition variable is taken on the loop thread while "
		"another thread holds it. Try it (pthread_mutex_trylock) and retry from the "
		"loop, hand the work over through a queue signalled with ev_async / "
		"uv_async_send, or shorten the other side's critical section.",
	},
    [LS_WAIT_PREEMPTED] =
	{
	    .advice = "The machine or the cgroup is CPU-starved: check the CPU quota (cpu.max, "
		      "throttling), CPU hogs on the same cores, and pinning.",
	    .any = "The machine or the service's CPU quota is saturated. Look at the cgroup: "
		   "/sys/fs/cgroup/<service>/cpu.stat (nr_throttled and throttled_usec grow "
		   "when the cpu.max quota is hit) and cpu.max, at /proc/pressure/cpu, and for "
		   "CPU hogs on the same cores (top, pidstat -u 1). Raise the quota, move the "
		   "hogs away, or give the loop thread a CPU of its own.",
	},
    [LS_WAIT_PAGE_FAULT] =
	{
	    .advice = "Check memory pressure and swap, or lock the working set (mlock) / "
		      "prefault it at start.",
	    .any = "Pages the loop needs were evicted and read back from disk. Check "
		   "/proc/pressure/memory, swap activity (vmstat: si/so) and the cgroup's "
		   "memory.max, memory.high and memory.stat; give the service more memory, "
		   "shrink its working set, or lock what the loop touches (mlock, prefault at "
		   "start).",
	},
    [LS_WAIT_UNKNOWN] =
	{
	    .any = "The recording does not tell what the loop thread did. Record again (a "
		   "lower --threshold catches more of these stalls) and link libprobe into "
		   "the service to see the callback that ran.",
	},
};

const char *ls_wait_advice(enum ls_wait kind)
{
	if ((unsigned)kind >= LS_WAIT_COUNT)
		return NULL;
	return remedies[kind].advice;
}

const char *ls_wait_remedy(enum ls_wait kind, enum ls_runtime rt)
{
	const struct remedies *r;

	if ((unsigned)kind >= LS_WAIT_COUNT)
		kind = LS_WAIT_UNKNOWN;
	if ((unsigned)rt >= LS_RUNTIME_COUNT)
		rt = LS_RUNTIME_NATIVE;
	r = &remedies[kind];
	if (r->any)
		return r->any;
	if (!r->remedy[rt])
		r = &remedies[LS_WAIT_SYSCALL];
	return r->remedy[rt];
}
