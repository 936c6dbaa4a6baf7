// SPDX-License-Identifier: BSD-2-Clause
/*
 * Agent lifecycle: open -> load -> attach -> poll -> finish, as libbpf
 * intends. Stall records arrive on the ring buffer; stalls still in progress
 * are found by scanning the per-thread map, which is what lets a stall be
 * reported while the loop is still blocked.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agent.h"
#include "busy_account.h"
#include "clock.h"
#include "finisher.h"
#include "loop_tracker.skel.h"
#include "probe_shm.h"
#include "stack_collector.h"
#include "procstat.h"
#include "stall_pipeline.h"
#include "syscalls.h"
#include "target_store.h"
#include "task_regs_user.h"
#include "thread_events.h"
#include "threads.h"
#include "tracefs.h"
#include "unwind.h"
#include "waitcalls.h"

/*
 * The scan for stalls in progress runs when something can have crossed a
 * line (see scan_in_progress), but at least this far apart: a loop that
 * iterates quickly always has a busy period about to cross one.
 */
#define SCAN_MIN_INTERVAL_NS 1000000ull

struct target {
	pid_t pid;
	int pidfd;	       /* readable once the process has exited; -1 when gone */
	uint64_t threshold_ns; /* as in its BPF map entry */
};

struct ls_agent {
	struct ls_agent_opts opts;
	struct ls_agent_ops ops;
	void *ctx;
	struct loop_tracker *skel;
	struct ring_buffer *rb;
	int cb_err; /* first error a callback returned */
	uint64_t decode_errors;
	uint64_t next_scan_ns;	  /* when a busy period may next cross a line */
	uint64_t next_threads_ns; /* when threads_check next looks at the targets' threads */
	bool no_lean; /* loop threads keep their switch event (lean.h): unsupported or off */
	unsigned samples_read; /* CPU samples the last ring read handled */
	struct target *targets;
	size_t n_targets, cap_targets;
	struct ls_threads *threads; /* the loop threads, by tid (threads.h) */
	struct ls_run_summary summary;
	struct ls_unwinder *unwinder;
	struct ls_collector *collector;
	struct ls_target_store *target_store; /* what blocked calls waited on */
	struct ls_thread_events *thread_events;
	struct ls_finisher *finisher; /* resolves stalls' stacks on its own thread */
	int epfd;		      /* the ring buffer and the finisher */
	int stats_fd;		      /* keeps bpf_enable_stats on while open */
	bool finished;
	struct ls_probe_set *probes; /* libprobe regions of the targets (probe_shm.h) */
	struct ls_waitcalls *waits;  /* the wait calls hooked (waitcalls.h) */
	/* stalls running at attach (inflight.h): the task iterator */
	struct ls_task_regs *task_regs;
	/* threads running at attach, each sampled once (attach_sample) until a deadline */
	struct attach_probe *attach_probes;
	size_t n_attach_probes;
};

/* How long a thread running at attach has to be sampled once before it is given up. */
#define ATTACH_PROBE_NS 200000000ull

struct attach_probe {
	uint32_t tid;
	uint64_t deadline_ns;
	struct bpf_link *link;
};

static bool verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	/* the caller turns failures into one line of its own; -v shows libbpf's */
	if (!verbose)
		return 0;
	(void)level;
	return vfprintf(stderr, fmt, args);
}

/* Hand a loop thread's `live` entry back to BPF (its thread entry is deleted). */
static void live_release(struct ls_agent *a, uint32_t tid, uint32_t slot)
{
	ls_threads__remove(a->threads, tid, slot);
	if (slot >= LT_MAX_THREADS)
		return;
	a->skel->bss->live[slot].tid = 0;
	a->skel->bss->live[slot].start_ns = 0;
	a->skel->bss->live[slot].resync = 0;
	a->skel->bss->live[slot].lean = 0;
	bpf_map_update_elem(bpf_map__fd(a->skel->maps.free_slots), NULL, &slot, BPF_ANY);
}

static void forget_begun(struct ls_agent *a, uint32_t tid)
{
	struct ls_thread *t = ls_threads__find(a->threads, tid);

	if (t)
		t->begun = false;
}

/* Hand a stall whose stacks are resolved to the caller. */
static int hand_over(struct ls_agent *a, struct ls_stall *s)
{
	int err = a->ops.stall ? a->ops.stall(a->ctx, s) : 0;

	ls_stall_free_stacks(s);
	return err;
}

static int deliver_stall(struct ls_agent *a, struct ls_stall *s)
{
	const struct ls_stall_sources src = {
	    .targets = a->target_store,
	    .probes = a->probes,
	    .collector = a->collector,
	    .finisher = a->finisher,
	};
	int ret;

	forget_begun(a, s->tid);
	a->summary.stalls++;
	ret = ls_stall_pipeline(&src, s);
	return ret > 0 ? hand_over(a, s) : ret;
}

/* Stalls the finisher is done with, in order; with `wait`, all of them. */
static int deliver_finished(struct ls_agent *a, bool wait)
{
	struct ls_stall s;
	int err = 0, e;

	if (!a->finisher)
		return 0;
	while (ls_finisher__next(a->finisher, &s, wait)) {
		e = hand_over(a, &s);
		ls_finisher__release(a->finisher);
		if (e && !err)
			err = e;
		if (err && !wait)
			break;
	}
	return err;
}

/*
 * ls_finisher__call's drain: a stall the worker finished before the call
 * holds it until handed over. True when one was.
 */
static bool drain_finished(void *ctx)
{
	struct ls_agent *a = ctx;
	struct ls_stall s;
	int err;

	if (!ls_finisher__next(a->finisher, &s, false))
		return false;
	err = hand_over(a, &s);
	ls_finisher__release(a->finisher);
	if (err && !a->cb_err)
		a->cb_err = err;
	return true;
}

/*
 * The wait calls' programs let only processes whose tgid_filter byte is
 * set look any further (LT_TGID_FILTER). Set before the pid goes into
 * `targets`; cleared once no target left shares the byte. A child that BPF
 * followed across fork and user space has not heard of yet may share it
 * too: its fork record sets the byte again (add_target_entry).
 */
static void filter_set(struct ls_agent *a, pid_t pid)
{
	a->skel->bss->tgid_filter[(uint32_t)pid & LT_TGID_FILTER_MASK] = 1;
}

static void filter_clear(struct ls_agent *a, pid_t pid)
{
	uint32_t byte = (uint32_t)pid & LT_TGID_FILTER_MASK;
	size_t i;

	for (i = 0; i < a->n_targets; i++)
		if (a->targets[i].pidfd >= 0 &&
		    ((uint32_t)a->targets[i].pid & LT_TGID_FILTER_MASK) == byte)
			return;
	a->skel->bss->tgid_filter[byte] = 0;
}

static int add_target_entry(struct ls_agent *a, pid_t pid)
{
	struct target *t;
	int pidfd;

	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	ls_probe_set__watch(a->probes, pid);
	if (a->n_targets == a->cap_targets) {
		size_t cap = a->cap_targets ? 2 * a->cap_targets : 4;
		void *grown = realloc(a->targets, cap * sizeof(*a->targets));

		if (!grown) {
			close(pidfd);
			return -ENOMEM;
		}
		a->targets = grown;
		a->cap_targets = cap;
	}
	t = &a->targets[a->n_targets++];
	t->pid = pid;
	t->pidfd = pidfd;
	t->threshold_ns = a->opts.threshold_ns;
	filter_set(a, pid);
	return 0;
}

/*
 * A loop thread exited (BPF deleted its entry and gave its `live` entry back
 * itself): everything user space held for it goes, and its final counters
 * go to the summary and the caller.
 */
static int thread_exit(struct ls_agent *a, const struct lt_thread_exit_rec *rec)
{
	const struct lt_thread *t = &rec->thread;
	struct ls_thread_stats stats;
	char comm[16];
	int err = 0;

	memcpy(comm, rec->comm, sizeof(comm));
	comm[15] = '\0';
	/* the `live` entry may be another thread's by now: only this thread's is dropped */
	ls_threads__remove(a->threads, t->tid, t->live_slot);
	ls_thread_events__close(a->thread_events, t->tid);
	if (a->collector)
		ls_collector__drop(a->collector, t->tid);
	ls_target_store__drop(a->target_store, t->tid);
	/* a thread that never finished an iteration was not a loop thread */
	if (!t->iterations)
		return 0;
	ls_thread_stats_from_bpf(&stats, t);
	{
		struct ls_thread_summary *ts =
		    ls_summary_update(&a->summary, &stats, comm, rec->exit_ns, true);

		if (ts)
			ls_probe_set__fill_thread(a->probes, ts);
		else
			err = -ENOMEM;
	}
	if (a->ops.thread_exit)
		a->ops.thread_exit(a->ctx, &stats, comm);
	return err;
}

/*
 * The record handlers return 0, -errno (which stops the poll), or UNDECODED
 * for a record too short or malformed: it is counted as lost.
 */
#define UNDECODED 1

/* -EINVAL from a module's decoder is a record that did not decode. */
static int decoded(int err)
{
	return err == -EINVAL ? UNDECODED : err;
}

static int on_stall(struct ls_agent *a, const void *data, size_t size)
{
	struct ls_stall s;

	if (ls_stall_from_record(&s, data, size, a->opts.threshold_ns))
		return UNDECODED;
	return deliver_stall(a, &s);
}

static int on_thread_exit(struct ls_agent *a, const void *data, size_t size)
{
	if (size < sizeof(struct lt_thread_exit_rec))
		return UNDECODED;
	return thread_exit(a, data);
}

static int on_fork(struct ls_agent *a, const void *data, size_t size)
{
	const struct lt_fork_rec *rec = data;

	if (size < sizeof(*rec))
		return UNDECODED;
	/* the child may be gone already; BPF follows it regardless */
	add_target_entry(a, (pid_t)rec->child_pid);
	ls_thread_events__watch(a->thread_events, rec->child_pid, rec->child_pid);
	return 0;
}

/* A thread finished its first iteration: a loop thread, now in the registry. */
static int on_thread_new(struct ls_agent *a, const void *data, size_t size)
{
	const struct lt_thread_new_rec *rec = data;
	struct ls_thread *t;

	if (size < sizeof(*rec))
		return UNDECODED;
	ls_thread_events__loop(a->thread_events, rec->pid, rec->tid);
	t = ls_threads__get(a->threads, rec->pid, rec->tid);
	if (!t)
		return -ENOMEM;
	ls_threads__set_slot(a->threads, t, rec->slot);
	if (a->finisher)
		ls_finisher__prepare(a->finisher, (pid_t)rec->pid);
	return 0;
}

/* A target created a thread (no loop thread yet): follow its switches. */
static int on_thread_clone(struct ls_agent *a, const void *data, size_t size)
{
	const struct lt_thread_new_rec *rec = data;

	if (size < sizeof(*rec))
		return UNDECODED;
	/* a thread that is gone already fails to open: nothing to follow */
	ls_thread_events__watch(a->thread_events, rec->pid, rec->tid);
	return 0;
}

/* A thread of a target that was no loop thread exited. */
static int on_thread_gone(struct ls_agent *a, const void *data, size_t size)
{
	const struct lt_thread_new_rec *rec = data;

	if (size < sizeof(*rec))
		return UNDECODED;
	ls_thread_events__close(a->thread_events, rec->tid);
	return 0;
}

static int on_target(struct ls_agent *a, const void *data, size_t size)
{
	return decoded(ls_target_store__add(a->target_store, data, size));
}

static int on_stack(struct ls_agent *a, const void *data, size_t size)
{
	int err;

	if (!a->collector)
		return 0;
	err = decoded(ls_collector__add(a->collector, data, size));
	if (!err)
		ls_unwinder__python_warm(a->unwinder, data);
	return err;
}

static int on_attach_sample(struct ls_agent *a, const void *data, size_t size);

static int on_cpu_sample(struct ls_agent *a, const void *data, size_t size)
{
	a->samples_read++;
	return on_stack(a, data, size);
}

typedef int (*record_handler)(struct ls_agent *a, const void *data, size_t size);

/* One handler per record type (enum lt_record_type). */
static const record_handler handlers[] = {
    [LT_REC_STALL] = on_stall,
    [LT_REC_THREAD_EXIT] = on_thread_exit,
    [LT_REC_PROC_FORK] = on_fork,
    [LT_REC_THREAD_NEW] = on_thread_new,
    [LT_REC_STACK] = on_stack,
    [LT_REC_CPU_SAMPLE] = on_cpu_sample,
    [LT_REC_THREAD_CLONE] = on_thread_clone,
    [LT_REC_THREAD_GONE] = on_thread_gone,
    [LT_REC_TARGET] = on_target,
    [LT_REC_ATTACH_SAMPLE] = on_attach_sample,
};

static int handle_event(void *ctx, void *data, size_t size)
{
	struct ls_agent *a = ctx;
	const __u32 *type = data;
	int err;

	if (size < sizeof(*type)) {
		a->decode_errors++;
		return 0;
	}
	if (*type < sizeof(handlers) / sizeof(handlers[0]) && handlers[*type])
		err = handlers[*type](a, data, size);
	else
		err = UNDECODED;
	if (err == UNDECODED) {
		a->decode_errors++;
		err = 0;
	}
	if (err && !a->cb_err)
		a->cb_err = err;
	return err < 0 ? err : 0;
}

static int epoll_add(int epfd, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* What follow_seed says of thread tid, read through a task iterator on it alone. */
static int follow_read(struct ls_agent *a, uint32_t tid, struct lt_follow_rec *rec)
{
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info info = {0};
	struct bpf_link *link;
	int fd, err = 0;
	ssize_t got;

	info.task.tid = tid;
	opts.link_info = &info;
	opts.link_info_len = sizeof(info);
	a->skel->bss->follow_tid = tid;
	fd = ls_iter_open(a->skel->progs.follow_seed, &opts, &link);
	if (fd < 0)
		return fd;
	do
		got = read(fd, rec, sizeof(*rec));
	while (got < 0 && errno == EINTR);
	if (got < 0)
		err = -errno;
	else if (got != sizeof(*rec))
		err = -ESRCH; /* the thread is gone */
	close(fd);
	bpf_link__destroy(link);
	return err;
}

int ls_agent__new(const struct ls_agent_opts *opts, const struct ls_agent_ops *ops, void *ctx,
		  struct ls_agent **out)
{
	struct ls_agent *a = calloc(1, sizeof(*a));
	__u32 slot;
	int err;

	if (!a)
		return -ENOMEM;
	a->opts = *opts;
	a->ops = *ops;
	a->ctx = ctx;
	a->summary.threshold_ns = opts->threshold_ns;
	a->stats_fd = -1;
	a->epfd = -1;
	verbose = opts->verbose;
	libbpf_set_print(libbpf_print);
	a->probes = ls_probe_set__new();
	a->threads = ls_threads__new();
	if (!a->probes || !a->threads) {
		err = -ENOMEM;
		goto cleanup;
	}

	err = ls_tracefs_ensure();
	if (err)
		goto cleanup;
	if (opts->bpf_stats) {
		a->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (a->stats_fd < 0) {
			err = -errno;
			goto cleanup;
		}
	}
	a->skel = loop_tracker__open();
	if (!a->skel) {
		err = -errno;
		goto cleanup;
	}
	err = libbpf_num_possible_cpus();
	if (err < 0)
		goto cleanup;
	bpf_map__set_max_entries(a->skel->maps.stack_scratch, (__u32)err);
	if (opts->ring_bytes) {
		/* the kernel wants a power-of-two multiple of the page size */
		if (opts->ring_bytes < LS_RING_BYTES_MIN || opts->ring_bytes > LS_RING_BYTES_MAX ||
		    (opts->ring_bytes & (opts->ring_bytes - 1))) {
			err = -EINVAL;
			goto cleanup;
		}
		bpf_map__set_max_entries(a->skel->maps.events, opts->ring_bytes);
	}
	if (opts->stack_bytes) {
		if (opts->stack_bytes > LT_STACK_MAX) {
			err = -EINVAL;
			goto cleanup;
		}
		a->skel->rodata->stack_bytes = opts->stack_bytes;
	}
	if (opts->stack_min_block_ns) {
		a->skel->rodata->stack_min_block_ns = opts->stack_min_block_ns;
		a->skel->rodata->target_min_block_ns = opts->stack_min_block_ns;
	}
	/* targets are taken with --no-stacks too: they cost no unwinding */
	a->target_store = ls_target_store__new();
	if (!a->target_store) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* CPU samples start well before a busy period can become a stall */
	a->skel->rodata->sample_after_ns = opts->threshold_ns / 5;
	if (opts->no_stacks) {
		/* no copy at all: blocks never reach the minimum, no sampling events */
		a->skel->rodata->stack_bytes = 0;
		a->skel->rodata->stack_min_block_ns = UINT64_MAX;
	} else {
		a->collector = ls_collector__new();
		if (!a->collector) {
			err = -ENOMEM;
			goto cleanup;
		}
	}
	/* without stacks too: it names the callbacks libprobe's region leaves unnamed */
	a->unwinder = ls_unwinder__new();
	a->finisher = a->unwinder ? ls_finisher__new(a->unwinder) : NULL;
	if (!a->finisher) {
		err = -ENOMEM;
		goto cleanup;
	}
	{
		/* the wait calls are hooked by waitcalls.c, only those some loop uses */
		bpf_program__set_autoattach(a->skel->progs.exit_wait, false);
		/* run from follow_thread(), one thread at a time */
		bpf_program__set_autoattach(a->skel->progs.follow_seed, false);
		err = loop_tracker__load(a->skel);
		if (err)
			goto cleanup;
		/* Python frames ride along with stacks; the variable is for benchmarks */
		if (a->collector && !getenv("LOOPSTALL_NO_PYTHON_FRAMES")) {
			err = ls_unwinder__set_python(a->unwinder,
						      bpf_map__fd(a->skel->maps.py_procs));
			if (err)
				goto cleanup;
		}
		a->waits = ls_waitcalls__new(a->skel->progs.exit_wait, &a->skel->bss->waits_seen,
					     opts->all_waits);
		if (!a->waits) {
			err = -ENOMEM;
			goto cleanup;
		}
	}
	/* the wait calls are hooked once there is a target (ls_agent__add_target) */
	err = loop_tracker__attach(a->skel);
	if (err)
		goto cleanup;
	for (slot = 0; slot < LT_MAX_THREADS; slot++) {
		if (bpf_map_update_elem(bpf_map__fd(a->skel->maps.free_slots), NULL, &slot,
					BPF_ANY)) {
			err = -errno;
			goto cleanup;
		}
	}
	{
		const char *lean = getenv("LOOPSTALL_LEAN");

		struct lt_follow_rec probe;

		/* for comparisons: every loop thread followed all the time */
		a->no_lean = lean && !strcmp(lean, "0");
		/* a kernel that cannot run follow_seed on one thread: none runs lean */
		if (!a->no_lean &&
		    follow_read(a, (uint32_t)syscall(SYS_gettid), &probe) != -ESRCH) {
			a->no_lean = true;
			if (opts->verbose)
				fprintf(stderr, "loopstall: no task iterator on one thread: loop "
						"threads keep their context-switch event\n");
		}
	}
	a->thread_events = ls_thread_events__new(a->skel->progs.cpu_switch,
						 opts->no_stacks ? NULL : a->skel->progs.cpu_sample,
						 opts->sample_period_ns);
	if (!a->thread_events) {
		err = -ENOMEM;
		goto cleanup;
	}
	a->rb = ring_buffer__new(bpf_map__fd(a->skel->maps.events), handle_event, a, NULL);
	if (!a->rb) {
		err = -errno;
		goto cleanup;
	}
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->epfd < 0 || epoll_add(a->epfd, ring_buffer__epoll_fd(a->rb)) ||
	    (a->finisher && epoll_add(a->epfd, ls_finisher__fd(a->finisher)))) {
		err = -errno;
		goto cleanup;
	}
	*out = a;
	return 0;
cleanup:
	ls_agent__free(a);
	return err < 0 ? err : -EINVAL;
}

/*
 * One thread of a target as it is now: followed (its context switches), if
 * `watch`, and looked at for the wait call it is blocked in (waitcalls.h).
 * True when that call could not be read (the thread was running).
 */
static bool visit_thread(struct ls_agent *a, pid_t pid, uint32_t tid, bool watch)
{
	if (watch)
		ls_thread_events__watch(a->thread_events, (uint32_t)pid, tid);
	return ls_waitcalls__scan(a->waits, pid, tid);
}

/* visit_thread for each thread the target has now (only_tid: that one). */
static bool visit_threads(struct ls_agent *a, pid_t pid, pid_t only_tid, bool watch)
{
	bool unknown = false;
	struct dirent *de;
	char path[64];
	DIR *dir;
	long tid;
	char *end;

	if (only_tid)
		return visit_thread(a, pid, (uint32_t)only_tid, watch);
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return false;
	while ((de = readdir(dir))) {
		tid = strtol(de->d_name, &end, 10);
		if (*end || tid <= 0)
			continue;
		unknown |= visit_thread(a, pid, (uint32_t)tid, watch);
	}
	closedir(dir);
	return unknown;
}

/* pid's own threshold (loopstalld sets one per target), else the agent's. */
static uint64_t target_threshold(const struct ls_agent *a, uint32_t pid)
{
	size_t i;

	for (i = 0; i < a->n_targets; i++)
		if (a->targets[i].pidfd >= 0 && (uint32_t)a->targets[i].pid == pid)
			return a->targets[i].threshold_ns;
	return a->opts.threshold_ns;
}

/* A thread's line of /proc/PID/task/TID/schedstat. */
struct schedstat {
	uint64_t exec_ns;      /* CPU time so far (se.sum_exec_runtime) */
	uint64_t run_delay_ns; /* time spent runnable, waiting for a CPU */
	uint64_t pcount;       /* times it was switched in */
};

static int thread_schedstat(uint32_t pid, uint32_t tid, struct schedstat *st)
{
	unsigned long long exec, delay, pcount;
	char path[64];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%u/task/%u/schedstat", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fscanf(f, "%llu %llu %llu", &exec, &delay, &pcount);
	fclose(f);
	if (n != 3)
		return -EINVAL;
	st->exec_ns = exec;
	st->run_delay_ns = delay;
	st->pcount = pcount;
	return 0;
}

/* Major faults of a thread so far, 0 when unreadable. */
static uint64_t thread_majflt(uint32_t pid, uint32_t tid)
{
	struct ls_procstat st;
	char task[32];

	snprintf(task, sizeof(task), "/proc/%u/task", pid);
	return ls_procstat_read(task, (pid_t)tid, &st) ? 0 : st.majflt;
}

/*
 * What the call of stack record rec, a thread blocked in it that BPF did not
 * see switch out, waits on: read from /proc and its memory now, for the
 * busy period rec belongs to.
 */
static void blocked_target(struct ls_agent *a, const struct lt_stack_rec *rec)
{
	struct lt_target_rec target = {
	    .type = LT_REC_TARGET,
	    .pid = rec->pid,
	    .tid = rec->tid,
	    .nr = rec->nr,
	    .fd = rec->fd,
	    .busy_start_ns = rec->busy_start_ns,
	};

	if (rec->nr != LT_NR_NONE && !ls_capture_blocked(rec, &target.cap))
		ls_target_store__add(a->target_store, &target, sizeof(target));
}

/*
 * A thread found blocked inside a callback at attach (inflight.h): make it
 * a loop thread now, as BPF would at its first wait, with a busy period
 * running since now and the block it is in pending, so that stall_begin
 * announces it and its end is a stall flagged as begun before attach.
 * BPF may have met the thread meanwhile: then it keeps its own entry.
 */
static int seed_inflight(struct ls_agent *a, struct lt_stack_rec *rec, size_t size)
{
	int threads_fd = bpf_map__fd(a->skel->maps.threads);
	struct lt_thread_new_rec announce = {.type = LT_REC_THREAD_NEW};
	struct schedstat st = {0};
	struct ls_thread *lt;
	struct lt_thread *t;
	__u32 slot = LT_SLOT_NONE;
	/* a sample of a thread that was running: its period began at the attach */
	bool running = rec->type == LT_REC_ATTACH_SAMPLE;
	uint64_t now = running ? rec->busy_start_ns : ls_now_ns();
	int err = 0;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	if (bpf_map_lookup_and_delete_elem(bpf_map__fd(a->skel->maps.free_slots), NULL, &slot) ||
	    slot >= LT_MAX_THREADS)
		slot = LT_SLOT_NONE;
	thread_schedstat(rec->pid, rec->tid, &st);
	t->pid = rec->pid;
	t->tid = rec->tid;
	t->live_slot = slot;
	/* its context-switch event is open (visit_threads): its blocks from now on are seen */
	t->flags = LT_THR_SWITCHES | LT_THR_BEFORE_ATTACH;
	t->cur.start_ns = now;
	t->cur.exec_start = st.exec_ns;
	t->cur.run_delay_start = st.run_delay_ns;
	t->cur.maj_flt_start = thread_majflt(rec->pid, rec->tid);
	t->site.fd = -1;
	if (!running) {
		/* the block it is in, as if BPF had seen it switch out now */
		t->out_ns = now;
		t->out_kind = LT_OUT_BLOCKED;
		t->out_nr = rec->nr;
		t->out_fd = rec->fd;
		t->out_newcall = 1;
		t->out_exec = st.exec_ns;
		t->out_pcount = st.pcount;
		/* a wait returning from this call is the callback's, not the loop's */
		t->site.nested_sp = rec->regs[7];
		t->site.nested_ip = rec->regs[16];
	}
	if (bpf_map_update_elem(threads_fd, &rec->tid, t, BPF_NOEXIST)) {
		if (slot != LT_SLOT_NONE)
			bpf_map_update_elem(bpf_map__fd(a->skel->maps.free_slots), NULL, &slot,
					    BPF_ANY);
		goto cleanup;
	}
	if (slot != LT_SLOT_NONE) {
		volatile struct lt_live *live = &a->skel->bss->live[slot];

		live->iterations = 0;
		live->pid = rec->pid;
		live->tid = rec->tid;
		live->loop_gone = 0;
		live->resync = 0;
		live->lean = 0;
		live->start_ns = now;
	}
	/* the block's stack and target, taken at attach, are this period's */
	rec->busy_start_ns = now;
	if (running)
		rec->type = LT_REC_CPU_SAMPLE;
	else
		rec->time_ns = now;
	if (a->collector)
		ls_collector__add(a->collector, rec, size);
	if (!running)
		blocked_target(a, rec);
	announce.pid = rec->pid;
	announce.tid = rec->tid;
	announce.slot = slot;
	err = on_thread_new(a, &announce, sizeof(announce));
	lt = ls_threads__find(a->threads, rec->tid);
	if (lt)
		lt->inflight_start_ns = now;
	/* the next scan announces it once it crosses the threshold */
	if (a->next_scan_ns > now + target_threshold(a, (pid_t)rec->pid))
		a->next_scan_ns = now + target_threshold(a, (pid_t)rec->pid);
	if (a->opts.verbose)
		fprintf(stderr, "loopstall: pid %u tid %u: blocked in a callback at attach (%s)\n",
			rec->pid, rec->tid,
			ls_syscall_name(rec->nr) ? ls_syscall_name(rec->nr) : "?");
cleanup:
	free(t);
	return err;
}

static void attach_probe_close(struct ls_agent *a, size_t i)
{
	__u32 tid = a->attach_probes[i].tid;

	bpf_link__destroy(a->attach_probes[i].link);
	bpf_map_delete_elem(bpf_map__fd(a->skel->maps.attach_probes), &tid);
	a->attach_probes[i] = a->attach_probes[--a->n_attach_probes];
}

/*
 * A thread on a CPU at attach may be computing inside a callback (a CPU
 * stall): its saved registers are stale, so BPF samples it once, in its own
 * context, and on_attach_sample() judges that stack.
 */
static int probe_running(struct ls_agent *a, uint32_t tid)
{
	uint64_t now = ls_now_ns();
	struct attach_probe *grown;
	struct bpf_link *link;
	__u32 key = tid;

	/* without stacks nothing is copied to judge */
	if (!a->collector)
		return 0;
	grown = realloc(a->attach_probes, (a->n_attach_probes + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	a->attach_probes = grown;
	if (bpf_map_update_elem(bpf_map__fd(a->skel->maps.attach_probes), &key, &now, BPF_ANY))
		return 0;
	link = ls_sample_thread(a->skel->progs.attach_sample, tid, 1000000);
	if (!link) {
		bpf_map_delete_elem(bpf_map__fd(a->skel->maps.attach_probes), &key);
		return 0;
	}
	grown[a->n_attach_probes].tid = tid;
	grown[a->n_attach_probes].deadline_ns = now + ATTACH_PROBE_NS;
	grown[a->n_attach_probes++].link = link;
	return 0;
}

/* Threads not sampled in time (they blocked, or wait for a CPU) are given up. */
static void attach_probes_expire(struct ls_agent *a, uint64_t now)
{
	size_t i = 0;

	while (i < a->n_attach_probes) {
		if (now >= a->attach_probes[i].deadline_ns)
			attach_probe_close(a, i);
		else
			i++;
	}
}

struct sample_judge {
	const struct lt_stack_rec *rec;
	size_t size;
};

static int judge_on_worker(struct ls_unwinder *u, void *ctx)
{
	struct sample_judge *j = ctx;

	ls_unwinder__refresh(u, (pid_t)j->rec->pid);
	return ls_inflight_judge_sample(u, j->rec, j->size);
}

/* The sample of a thread that was running at attach: a CPU stall already running? */
static int on_attach_sample(struct ls_agent *a, const void *data, size_t size)
{
	const struct lt_stack_rec *rec = data;
	size_t hdr = offsetof(struct lt_stack_rec, data), i;
	struct sample_judge j = {.rec = rec, .size = size};
	struct lt_stack_rec *copy;
	int in_callback, err;

	if (size < hdr || rec->size > LT_STACK_MAX || size < hdr + rec->size)
		return UNDECODED;
	for (i = 0; i < a->n_attach_probes; i++)
		if (a->attach_probes[i].tid == rec->tid) {
			attach_probe_close(a, i);
			break;
		}
	if (!a->finisher)
		return 0;
	in_callback = ls_finisher__call(a->finisher, judge_on_worker, &j, drain_finished, a);
	if (in_callback <= 0)
		return 0;
	/* the collector takes it as the period's first CPU sample */
	copy = malloc(size);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, size);
	err = seed_inflight(a, copy, size);
	free(copy);
	return err;
}

/* The scan's findings, copied on the finisher's thread, seeded on the agent's. */
struct inflight_scan {
	struct ls_task_regs *task_regs;
	pid_t pid, only_tid;
	uint32_t stack_bytes;
	struct lt_stack_rec *found[LT_MAX_THREADS];
	size_t sizes[LT_MAX_THREADS];
	size_t n;
	uint32_t running[LT_MAX_THREADS];
	size_t n_running;
};

static int keep_running(void *ctx, uint32_t tid)
{
	struct inflight_scan *sc = ctx;

	if (sc->n_running < LT_MAX_THREADS)
		sc->running[sc->n_running++] = tid;
	return 0;
}

static int keep_found(void *ctx, struct lt_stack_rec *rec, size_t size)
{
	struct inflight_scan *sc = ctx;
	struct lt_stack_rec *copy;

	if (sc->n == LT_MAX_THREADS)
		return 0;
	copy = malloc(size);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, rec, size);
	sc->found[sc->n] = copy;
	sc->sizes[sc->n++] = size;
	return 0;
}

static int scan_on_worker(struct ls_unwinder *u, void *ctx)
{
	struct inflight_scan *sc = ctx;

	ls_unwinder__refresh(u, sc->pid);
	return ls_inflight_scan(sc->task_regs, u, sc->pid, sc->only_tid, sc->stack_bytes,
				keep_found, keep_running, sc);
}

/* Threads of pid blocked inside a callback now: each is a stall already running. */
static void find_inflight(struct ls_agent *a, pid_t pid, pid_t only_tid)
{
	struct inflight_scan *sc;
	size_t i;
	int err;

	if (!a->task_regs) {
		err = ls_task_regs__new(&a->task_regs);
		if (err) {
			if (a->opts.verbose)
				fprintf(stderr,
					"loopstall: no task iterator (%s): stalls running at "
					"attach are seen from their end only\n",
					strerror(-err));
			return;
		}
	}
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return;
	sc->task_regs = a->task_regs;
	sc->pid = pid;
	sc->only_tid = only_tid;
	/* with --no-stacks too: the stack is judged, not reported */
	sc->stack_bytes = a->skel->rodata->stack_bytes ? a->skel->rodata->stack_bytes : 16384;
	err = ls_finisher__call(a->finisher, scan_on_worker, sc, drain_finished, a);
	for (i = 0; i < sc->n; i++) {
		if (!err)
			err = seed_inflight(a, sc->found[i], sc->sizes[i]);
		free(sc->found[i]);
	}
	for (i = 0; !err && i < sc->n_running; i++)
		err = probe_running(a, sc->running[i]);
	free(sc);
	if (err && a->opts.verbose)
		fprintf(stderr, "loopstall: pid %d: looking for stalls running at attach: %s\n",
			pid, strerror(-err));
}

int ls_agent__add_target(struct ls_agent *a, pid_t pid, pid_t only_tid, bool follow_forks,
			 const char *name)
{
	struct lt_target t = {
	    .threshold_ns = a->opts.threshold_ns,
	    .flags = follow_forks ? LT_TARGET_FOLLOW_FORKS : 0,
	    .only_tid = (uint32_t)only_tid,
	};
	__u32 key = (__u32)pid;
	bool unknown;
	uint64_t now;
	int err;

	err = add_target_entry(a, pid);
	if (err)
		return err;
	if (!a->summary.pid) {
		a->summary.pid = (uint32_t)pid;
		a->summary.start_ns = ls_now_ns();
		if (name)
			snprintf(a->summary.comm, sizeof(a->summary.comm), "%s", name);
		else
			ls_proc_comm("/proc", pid, pid, a->summary.comm);
	}
	if (bpf_map_update_elem(bpf_map__fd(a->skel->maps.targets), &key, &t, BPF_ANY))
		return -errno;
	/* before its first stall; a program that loads CPython later is found at its first loop */
	ls_unwinder__attach_python(a->unwinder, pid);
	/*
	 * After the map update: threads created from now on are announced.
	 * Threads blocked in a wait now are read from /proc; from now on, BPF
	 * notes the calls target threads block in or return from (waits_seen).
	 * Only a thread running now can wait in a call neither will show soon.
	 */
	unknown = visit_threads(a, pid, only_tid, true);
	/* after visit_threads: the threads' context-switch events are open */
	find_inflight(a, pid, only_tid);
	now = ls_now_ns();
	if (unknown)
		ls_waitcalls__learn(a->waits, now);
	return ls_waitcalls__apply(a->waits, now, false);
}

/* A target went: hook the calls of those that remain (the next poll applies it). */
static void relearn_waits(struct ls_agent *a)
{
	size_t i;

	ls_waitcalls__forget(a->waits, ls_now_ns());
	for (i = 0; i < a->n_targets; i++)
		if (a->targets[i].pidfd >= 0)
			visit_threads(a, a->targets[i].pid, 0, false);
}

/*
 * When the off-CPU interval BPF noted at the thread's last switch-out ended:
 * `now` while the thread is still off CPU. If it has run since (pcount moved)
 * BPF has not settled the interval yet, which it does at the thread's next
 * event; it has been on CPU ever since, for about the CPU time it used.
 */
static uint64_t open_interval_end(const struct lt_thread *t, const struct schedstat *st,
				  bool have_st, uint64_t now)
{
	uint64_t ran;

	if (!have_st || st->pcount == t->out_pcount || st->exec_ns < t->out_exec)
		return now;
	ran = st->exec_ns - t->out_exec;
	return now - t->out_ns > ran ? now - ran : t->out_ns;
}

/*
 * A thread still blocked when recording ends: BPF sends a block's stack when
 * the block ends, so fetch the one it holds for the open block.
 */
static void take_pending_stack(struct ls_agent *a, const struct lt_thread *t, uint64_t blocked_ns)
{
	struct lt_stack_rec *rec;
	__u32 key = t->tid;

	if (!a->collector)
		return;
	rec = malloc(sizeof(*rec));
	if (!rec)
		return;
	if (!bpf_map_lookup_elem(bpf_map__fd(a->skel->maps.pending_stacks), &key, rec) &&
	    rec->busy_start_ns == t->cur.start_ns && rec->type == LT_REC_STACK &&
	    rec->size <= LT_STACK_MAX) {
		rec->blocked_ns = blocked_ns;
		ls_collector__add(a->collector, rec,
				  offsetof(struct lt_stack_rec, data) + rec->size);
	}
	free(rec);
}

/* As take_pending_stack: what the open block waits on. */
static void take_pending_target(struct ls_agent *a, const struct lt_thread *t)
{
	struct lt_target_rec rec;
	__u32 key = t->tid;

	if (!bpf_map_lookup_elem(bpf_map__fd(a->skel->maps.pending_targets), &key, &rec) &&
	    rec.busy_start_ns == t->cur.start_ns && rec.nr == t->out_nr && rec.fd == t->out_fd)
		ls_target_store__add(a->target_store, &rec, sizeof(rec));
}

/* The in-progress busy period of a thread as a stall ending now. */
static void stall_in_progress(struct ls_agent *a, struct ls_stall *s, const struct lt_thread *t,
			      uint64_t now, uint64_t threshold_ns)
{
	struct lt_busy busy = t->cur;
	struct schedstat st = {0};
	bool have_st;
	uint64_t off = 0;
	char comm[16];

	have_st = !thread_schedstat(t->pid, t->tid, &st);
	/* the off-CPU interval BPF has not settled counts up to its end */
	if (t->out_ns && t->out_ns >= busy.start_ns && now > t->out_ns) {
		off = open_interval_end(t, &st, have_st, now) - t->out_ns;
		/* as BPF's settle() will account it: into the call's own slot */
		lt_busy_settle(&busy, t->out_kind, t->out_nr, t->out_fd, off, t->out_newcall);
	}
	ls_proc_comm("/proc", (pid_t)t->pid, (pid_t)t->tid, comm);
	ls_stall_from_busy(s, &busy, t->pid, t->tid, comm, now, threshold_ns, 0);
	s->began_before_attach = t->flags & LT_THR_BEFORE_ATTACH;
	s->part_unseen = t->flags & LT_THR_UNSEEN;
	if (t->out_ns && t->out_kind == LT_OUT_BLOCKED) {
		take_pending_stack(a, t, off);
		take_pending_target(a, t);
	}
	if (have_st && st.exec_ns >= busy.exec_start && st.run_delay_ns >= busy.run_delay_start)
		ls_stall_apply_kernel_times(s, st.exec_ns - busy.exec_start,
					    st.run_delay_ns - busy.run_delay_start);
	s->cut_short = true;
}

/*
 * A lean loop thread's busy period reached the follow line: open its
 * context-switch event again and have BPF read the block it is in
 * (follow_seed). A block inside the period gets its stack, Python frames
 * and target here, from the registers BPF wrote out and the thread's
 * memory, as at attach: it will not switch out again before it ends.
 */
static void follow_thread(struct ls_agent *a, struct ls_thread *lt, uint64_t now)
{
	struct lt_follow_rec f;
	struct lt_stack_rec *rec;
	size_t size;
	int err;

	err = ls_thread_events__follow(a->thread_events, lt->tid);
	/* its event could not be opened (the thread is going): still lean, tried again */
	if (err < 0)
		return;
	lt->lean.long_ns = now;
	if (lt->slot < LT_MAX_THREADS)
		a->skel->bss->live[lt->slot].lean = 0;
	if (!err)
		return;
	err = follow_read(a, lt->tid, &f);
	if (err) {
		/* no way to read a thread in its period: no thread runs lean from now on */
		if (err != -ESRCH && !a->no_lean) {
			a->no_lean = true;
			if (a->opts.verbose)
				fprintf(stderr,
					"loopstall: following a lean loop thread failed (%s): "
					"loop threads keep their context-switch event\n",
					strerror(-err));
		}
		return;
	}
	if (f.state != LT_FOLLOW_BLOCKED)
		return;
	rec = malloc(sizeof(*rec));
	if (!rec)
		return;
	size = ls_blocked_record(a->unwinder, (pid_t)lt->pid, lt->tid, f.nr, f.regs, f.fsbase,
				 a->collector ? a->skel->rodata->stack_bytes : 0, rec);
	rec->busy_start_ns = f.busy_start_ns;
	rec->time_ns = now;
	if (a->collector && rec->size)
		ls_collector__add(a->collector, rec, size);
	blocked_target(a, rec);
	free(rec);
}

/*
 * Announce busy periods that crossed the threshold and are still running;
 * sample the stacks of those that run long. Sets next_scan_ns to the
 * earliest time a busy period can cross the sampling line or the threshold:
 * one running now at its crossing, one starting right after this scan
 * sample_after_ns from now.
 */
static int scan_in_progress(struct ls_agent *a, uint64_t now)
{
	const volatile struct lt_live *live = a->skel->bss->live;
	uint64_t sample_after = a->skel->rodata->sample_after_ns;
	uint64_t busy, start, iterations, thr, follow, next = now + sample_after;
	struct ls_thread *lt;
	uint32_t pid, tid;
	int64_t slot = -1;
	char comm[16];
	int err;

	while ((slot = ls_threads__next_slot(a->threads, slot)) >= 0) {
		/* BPF writes these as the thread runs: each read once */
		tid = live[slot].tid;
		pid = live[slot].pid;
		start = live[slot].start_ns;
		iterations = live[slot].iterations;
		if (!tid)
			continue;
		busy = start && now > start ? now - start : 0;
		thr = target_threshold(a, pid);
		lt = ls_threads__find(a->threads, tid);
		if (lt && live[slot].lean) {
			follow = ls_lean_follow_ns(thr);
			if (busy >= follow)
				follow_thread(a, lt, now);
			else if (start && start + follow < next)
				next = start + follow;
		} else if (lt) {
			ls_lean_busy(&lt->lean, now, busy, thr);
		}
		ls_thread_events__sample(a->thread_events, tid, start, busy >= sample_after);
		if (start && busy < sample_after && start + sample_after < next)
			next = start + sample_after;
		if (start && busy < thr && start + thr < next)
			next = start + thr;
		if (busy < thr || live[slot].loop_gone)
			continue;
		lt = ls_threads__get(a->threads, pid, tid);
		if (!lt)
			return -ENOMEM;
		/* only threads that finished an iteration, or were seen in a callback, are loops */
		if (!iterations && lt->inflight_start_ns != start)
			continue;
		if (lt->begun && lt->begun_start_ns == start)
			continue;
		lt->begun = true;
		lt->begun_start_ns = start;
		/* while the thread is still in the stall: its asyncio Task is running */
		ls_unwinder__python_snapshot(a->unwinder, (pid_t)pid, (pid_t)tid, start);
		ls_proc_comm("/proc", (pid_t)pid, (pid_t)tid, comm);
		if (a->ops.stall_begin) {
			struct ls_stall_begin b = {
			    .pid = pid,
			    .tid = tid,
			    .comm = comm,
			    .start_ns = start,
			    .elapsed_ns = busy,
			    .threshold_ns = thr,
			    .began_before_attach = lt->inflight_start_ns == start,
			};

			err = a->ops.stall_begin(a->ctx, &b);
			if (err)
				return err;
		}
	}
	a->next_scan_ns = next > now + SCAN_MIN_INTERVAL_NS ? next : now + SCAN_MIN_INTERVAL_NS;
	return 0;
}

static void check_targets(struct ls_agent *a)
{
	struct pollfd pfd;
	bool gone = false;
	size_t i;

	for (i = 0; i < a->n_targets; i++) {
		struct target *t = &a->targets[i];

		if (t->pidfd < 0)
			continue;
		pfd.fd = t->pidfd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) > 0) {
			__u32 key = (__u32)t->pid;

			close(t->pidfd);
			t->pidfd = -1;
			/* a process that reuses the pid is not ours to trace */
			bpf_map_delete_elem(bpf_map__fd(a->skel->maps.targets), &key);
			filter_clear(a, t->pid);
			ls_thread_events__close_pid(a->thread_events, (uint32_t)t->pid);
			if (a->ops.target_exit)
				a->ops.target_exit(a->ctx, t->pid);
			gone = true;
		}
	}
	if (gone)
		relearn_waits(a);
}

/*
 * thread_events.h retired the context-switch event of tid, a thread that is
 * no loop thread as far as the records read say. If BPF knows it as one
 * already (its record is still in the ring), the event is reopened, and BPF
 * is told its blocks while it was closed went unseen (`resync`).
 */
static bool retired_loop_thread(void *ctx, uint32_t pid, uint32_t tid)
{
	struct ls_agent *a = ctx;
	struct lt_thread t;

	(void)pid;
	if (bpf_map_lookup_elem(bpf_map__fd(a->skel->maps.threads), &tid, &t))
		return false;
	if (t.live_slot < LT_MAX_THREADS)
		a->skel->bss->live[t.live_slot].resync = 1;
	return true;
}

static bool idle_loop_thread(void *ctx, uint32_t pid, uint32_t tid)
{
	(void)ctx;
	return ls_waitcalls_waiting((pid_t)pid, tid);
}

static void rescan_thread(void *ctx, uint32_t pid, uint32_t tid)
{
	struct ls_agent *a = ctx;

	ls_waitcalls__scan(a->waits, (pid_t)pid, tid);
}

/*
 * Loop threads that iterate fast and briefly lose their context-switch
 * event (lean.h): BPF is told first (lt_live.lean) so that the periods
 * from now on are timed from the task's counters, and `resync` after, for
 * the period running while the event closed.
 */
static void lean_check(struct ls_agent *a, uint64_t now)
{
	volatile struct lt_live *live = a->skel->bss->live;
	uint64_t start, busy;
	struct ls_thread *lt;
	int64_t slot = -1;
	uint32_t tid;

	while ((slot = ls_threads__next_slot(a->threads, slot)) >= 0) {
		tid = live[slot].tid;
		start = live[slot].start_ns;
		lt = tid ? ls_threads__find(a->threads, tid) : NULL;
		if (!lt || live[slot].lean)
			continue;
		busy = start && now > start ? now - start : 0;
		if (!ls_lean_due(&lt->lean, now, live[slot].iterations, busy,
				 target_threshold(a, live[slot].pid)))
			continue;
		live[slot].lean = 1;
		if (ls_thread_events__lean(a->thread_events, tid)) {
			live[slot].lean = 0;
			continue;
		}
		live[slot].resync = 1;
	}
}

/* How often threads_check runs. */
#define THREADS_CHECK_NS 1000000000ull

/*
 * Once a second: threads followed long enough without running a loop (nor
 * sitting in a loop's wait call) lose their context-switch event
 * (thread_events.h), and those that did are read
 * from /proc for a wait call no loop uses yet, which their event would have
 * noted (a thread that starts a loop in another call later: the next pass
 * finds it blocked there, and the call gets hooked).
 */
static void threads_check(struct ls_agent *a, uint64_t now)
{
	static const struct ls_thread_retire_ops retire = {
	    .idle = idle_loop_thread,
	    .known = retired_loop_thread,
	};

	if (now < a->next_threads_ns)
		return;
	a->next_threads_ns = now + THREADS_CHECK_NS;
	ls_thread_events__retire(a->thread_events, now, &retire, a);
	if (!a->no_lean)
		lean_check(a, now);
	if (ls_waitcalls__hooked(a->waits) != LT_WAIT_ALL)
		ls_thread_events__each_retired(a->thread_events, rescan_thread, a);
}

/* How long CPU samples may gather in the ring before the agent reads them. */
#define SAMPLE_GATHER_NS 4000000ull

int ls_agent__poll(struct ls_agent *a, int timeout_ms)
{
	uint64_t now;
	int err;

	now = ls_now_ns();
	/* wake up for the next scan, rounded up to a whole millisecond */
	if (timeout_ms > 0 && a->next_scan_ns > now &&
	    (a->next_scan_ns - now + 999999) / 1000000 < (uint64_t)timeout_ms)
		timeout_ms = (int)((a->next_scan_ns - now + 999999) / 1000000);
	else if (timeout_ms > 0 && a->next_scan_ns <= now)
		timeout_ms = 0;
	/*
	 * In a CPU stall a sample comes every millisecond, and the ring wakes a
	 * reader that has caught up at each one: a context switch per sample
	 * was most of what such a stall cost the agent. After reading samples,
	 * let the next ones gather for a few milliseconds (they wake nobody
	 * until read); never past the next scan, nor more than a sixteenth of
	 * the ring (16 KiB samples).
	 */
	if (a->samples_read && timeout_ms > 0) {
		uint64_t ring = a->opts.ring_bytes ? a->opts.ring_bytes : 1u << 20;
		uint64_t gather = ring / (16 * 16384) * 1000000;
		struct timespec ts;

		if (gather > SAMPLE_GATHER_NS)
			gather = SAMPLE_GATHER_NS;
		if (now + gather > a->next_scan_ns)
			gather = a->next_scan_ns > now ? a->next_scan_ns - now : 0;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)gather;
		if (gather)
			nanosleep(&ts, NULL);
	}
	a->samples_read = 0;
	{
		struct epoll_event evs[2];

		if (epoll_wait(a->epfd, evs, 2, timeout_ms) < 0 && errno != EINTR)
			return -errno;
	}
	err = ring_buffer__consume(a->rb);
	if (a->cb_err)
		return a->cb_err;
	if (err < 0 && err != -EINTR)
		return err;
	err = deliver_finished(a, false);
	if (err) {
		a->cb_err = err;
		return err;
	}
	now = ls_now_ns();
	if (now >= a->next_scan_ns) {
		err = scan_in_progress(a, now);
		if (err)
			return err;
	}
	check_targets(a);
	threads_check(a, now);
	attach_probes_expire(a, now);
	ls_waitcalls__apply(a->waits, now, !ls_agent__alive(a));
	ls_probe_set__poll(a->probes, now);
	return 0;
}

void ls_agent__set_all_waits(struct ls_agent *a, bool all)
{
	ls_waitcalls__set_all(a->waits, all);
}

uint32_t ls_agent__hooked_waits(struct ls_agent *a)
{
	return ls_waitcalls__hooked(a->waits);
}

void ls_agent__set_threshold(struct ls_agent *a, uint64_t threshold_ns)
{
	a->opts.threshold_ns = threshold_ns;
}

int ls_agent__set_target_threshold(struct ls_agent *a, pid_t pid, uint64_t threshold_ns)
{
	int fd = bpf_map__fd(a->skel->maps.targets);
	struct lt_target t;
	__u32 key = (__u32)pid;
	size_t i;

	/* in place: BPF reads the entry at every busy period's end, nothing is re-attached */
	if (bpf_map_lookup_elem(fd, &key, &t))
		return -errno;
	t.threshold_ns = threshold_ns;
	if (bpf_map_update_elem(fd, &key, &t, BPF_EXIST))
		return -errno;
	for (i = 0; i < a->n_targets; i++)
		if (a->targets[i].pidfd >= 0 && a->targets[i].pid == pid)
			a->targets[i].threshold_ns = threshold_ns;
	return 0;
}

unsigned ls_agent__alive(struct ls_agent *a)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < a->n_targets; i++)
		n += a->targets[i].pidfd >= 0;
	return n;
}

int ls_agent__remove_target(struct ls_agent *a, pid_t pid)
{
	int fd = bpf_map__fd(a->skel->maps.threads);
	__u32 key = (__u32)pid, next, *prev = NULL, victim;
	struct lt_thread t;
	bool found = false;
	size_t i;

	if (!bpf_map_delete_elem(bpf_map__fd(a->skel->maps.targets), &key))
		found = true;
	ls_thread_events__close_pid(a->thread_events, (uint32_t)pid);
	for (i = 0; i < a->n_targets; i++) {
		if (a->targets[i].pid != pid)
			continue;
		if (a->targets[i].pidfd >= 0)
			close(a->targets[i].pidfd);
		a->targets[i] = a->targets[--a->n_targets];
		found = true;
		break;
	}
	if (found) {
		filter_clear(a, pid);
		relearn_waits(a);
	}
	/* deleting while iterating restarts the walk: collect one at a time */
	for (;;) {
		bool hit = false;

		prev = NULL;
		while (!bpf_map_get_next_key(fd, prev, &next)) {
			victim = next;
			prev = &victim;
			if (!bpf_map_lookup_elem(fd, &victim, &t) && t.pid == (uint32_t)pid) {
				bpf_map_delete_elem(fd, &victim);
				live_release(a, victim, t.live_slot);
				hit = true;
				break;
			}
		}
		if (!hit)
			break;
	}
	return found ? 0 : -ENOENT;
}

int ls_agent__for_each_thread(struct ls_agent *a,
			      int (*fn)(void *ctx, const struct ls_thread_stats *t), void *ctx)
{
	int fd = bpf_map__fd(a->skel->maps.threads), err;
	__u32 key, next, *prev = NULL;
	struct ls_thread_stats stats;
	struct lt_thread t;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &t) || !t.iterations)
			continue;
		ls_thread_stats_from_bpf(&stats, &t);
		err = fn(ctx, &stats);
		if (err)
			return err;
	}
	return 0;
}

int ls_agent__bpf_stats(struct ls_agent *a, struct ls_bpf_stats *stats)
{
	struct bpf_program *prog;

	memset(stats, 0, sizeof(*stats));
	bpf_object__for_each_program(prog, a->skel->obj)
	{
		struct bpf_prog_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			return -errno;
		stats->run_time_ns += info.run_time_ns;
		stats->run_count += info.run_cnt;
	}
	return 0;
}

static uint64_t counter_sum(struct ls_agent *a, __u32 key)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	uint64_t total = 0;
	__u64 *vals;

	if (ncpu <= 0)
		return 0;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return 0;
	if (!bpf_map_lookup_elem(bpf_map__fd(a->skel->maps.counters), &key, vals))
		for (i = 0; i < ncpu; i++)
			total += vals[i];
	free(vals);
	return total;
}

int ls_agent__stack_stats(struct ls_agent *a, struct ls_stack_stats *stats)
{
	struct ls_unwind_stats us = {0};

	memset(stats, 0, sizeof(*stats));
	stats->copies = counter_sum(a, LT_CNT_STACK_COPIES);
	stats->copy_ns = counter_sum(a, LT_CNT_STACK_COPY_NS);
	if (a->finisher)
		ls_finisher__stats(a->finisher, &us);
	stats->unwound = us.unwound;
	stats->unwind_ns = us.unwind_ns;
	stats->symbolized = us.symbolized;
	stats->symbolize_ns = us.symbolize_ns;
	stats->debuginfo_cached = us.debuginfo_cached;
	stats->debuginfo_stored = us.debuginfo_stored;
	stats->debuginfo_inflated = us.debuginfo_inflated;
	stats->lines_read = us.lines_read;
	stats->lines_libdw = us.lines_libdw;
	return 0;
}

uint64_t ls_agent__lost_events(struct ls_agent *a)
{
	return a->decode_errors + counter_sum(a, LT_CNT_LOST);
}

int ls_agent__finish(struct ls_agent *a, const struct ls_run_summary **sum)
{
	int fd = bpf_map__fd(a->skel->maps.threads);
	__u32 key, next, *prev = NULL;
	struct ls_thread_summary *ts;
	struct ls_thread_stats stats;
	uint64_t now, open_ns;
	struct lt_thread t;
	struct ls_stall s;
	char comm[16];
	int err;

	if (a->finished)
		goto done;
	err = ring_buffer__consume(a->rb);
	if (a->cb_err)
		return a->cb_err;
	if (err < 0)
		return err;
	now = ls_now_ns();
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &t) || !t.iterations)
			continue;
		open_ns = t.cur.start_ns && now > t.cur.start_ns ? now - t.cur.start_ns : 0;
		if (open_ns < target_threshold(a, t.pid))
			open_ns = 0;
		if (open_ns) {
			stall_in_progress(a, &s, &t, now, target_threshold(a, t.pid));
			err = deliver_stall(a, &s);
			if (err)
				return err;
			t.stalls++;
			t.iterations++;
			t.busy_ns += open_ns;
			if (open_ns > t.max_busy_ns)
				t.max_busy_ns = open_ns;
		}
		ls_proc_comm("/proc", (pid_t)t.pid, (pid_t)t.tid, comm);
		ls_thread_stats_from_bpf(&stats, &t);
		ts = ls_summary_update(&a->summary, &stats, comm, now, false);
		if (!ts)
			return -ENOMEM;
		ls_probe_set__fill_thread(a->probes, ts);
		/* the stall cut short is a heartbeat gap as long as it lasted so far */
		if (open_ns)
			ls_hist_record(&ts->hist, open_ns);
	}
	/* every stall handed over before the summary */
	err = deliver_finished(a, true);
	if (err)
		return err;
	a->summary.end_ns = now;
	a->summary.lost_events = ls_agent__lost_events(a);
	a->finished = true;
done:
	*sum = &a->summary;
	return 0;
}

void ls_agent__free(struct ls_agent *a)
{
	size_t i;

	if (!a)
		return;
	/* first: its thread uses the unwinder and the stalls' stacks */
	ls_finisher__free(a->finisher);
	if (a->epfd >= 0)
		close(a->epfd);
	ring_buffer__free(a->rb);
	ls_thread_events__free(a->thread_events);
	ls_waitcalls__free(a->waits);
	while (a->n_attach_probes)
		attach_probe_close(a, 0);
	/* destroying the skeleton detaches every program: nothing stays attached */
	loop_tracker__destroy(a->skel);
	ls_collector__free(a->collector);
	ls_target_store__free(a->target_store);
	ls_unwinder__free(a->unwinder);
	ls_task_regs__free(a->task_regs);
	free(a->attach_probes);
	for (i = 0; i < a->n_targets; i++)
		if (a->targets[i].pidfd >= 0)
			close(a->targets[i].pidfd);
	free(a->targets);
	ls_threads__free(a->threads);
	ls_summary_free(&a->summary);
	ls_probe_set__free(a->probes);
	if (a->stats_fd >= 0)
		close(a->stats_fd);
	free(a);
}
