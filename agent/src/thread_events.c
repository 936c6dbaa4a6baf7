// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "clock.h"
#include "grow.h"
#include "thread_events.h"

struct thread_ev {
	uint32_t pid;
	uint32_t tid;
	struct bpf_link *switches; /* NULL once retired */
	struct bpf_link *sample;   /* open only while sampling (owns its perf event fd) */
	uint64_t since_ns;	   /* when its switches were first followed */
	bool loop;		   /* a loop thread: sampled when a busy period runs long */
	bool lean;	       /* a loop thread whose event is closed (ls_thread_events__lean) */
	uint64_t sampling_for; /* busy period the sampling event is open for, 0: closed */
};

struct ls_thread_events {
	struct bpf_program *on_switch, *on_sample;
	uint64_t sample_period_ns;
	struct thread_ev *ev;
	size_t n, cap;
};

struct ls_thread_events *ls_thread_events__new(struct bpf_program *on_switch,
					       struct bpf_program *on_sample,
					       uint64_t sample_period_ns)
{
	struct ls_thread_events *te = calloc(1, sizeof(*te));

	if (!te)
		return NULL;
	te->on_switch = on_switch;
	te->on_sample = on_sample;
	te->sample_period_ns = sample_period_ns ? sample_period_ns : 1000000;
	return te;
}

struct bpf_link *ls_thread_event_open(struct bpf_program *prog, struct perf_event_attr *attr,
				      uint32_t tid, int *fd_out)
{
	struct bpf_link *link;
	int fd, err;

	fd = syscall(SYS_perf_event_open, attr, (pid_t)tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return NULL;
	link = bpf_program__attach_perf_event(prog, fd);
	if (!link) {
		err = errno;
		close(fd);
		errno = err;
		return NULL;
	}
	if (fd_out)
		*fd_out = fd;
	return link;
}

static struct thread_ev *find(struct ls_thread_events *te, uint32_t tid)
{
	size_t i;

	for (i = 0; i < te->n; i++)
		if (te->ev[i].tid == tid)
			return &te->ev[i];
	return NULL;
}

/* Its context switches, from now on (the BPF program decides what to keep). */
static struct bpf_link *open_switches(struct ls_thread_events *te, uint32_t tid)
{
	struct perf_event_attr sw = {
	    .type = PERF_TYPE_SOFTWARE,
	    .size = sizeof(sw),
	    .config = PERF_COUNT_SW_CONTEXT_SWITCHES,
	    .sample_period = 1,
	};
	/* NULL when the thread is gone already */
	return ls_thread_event_open(te->on_switch, &sw, tid, NULL);
}

int ls_thread_events__watch(struct ls_thread_events *te, uint32_t pid, uint32_t tid)
{
	struct thread_ev e = {.pid = pid, .tid = tid};
	void *grown;

	if (find(te, tid))
		return 0;
	grown = ls_grow(te->ev, &te->cap, te->n + 1, sizeof(*te->ev), 8);
	if (!grown)
		return -ENOMEM;
	te->ev = grown;
	e.switches = open_switches(te, tid);
	if (!e.switches)
		return -errno;
	e.since_ns = ls_now_ns();
	te->ev[te->n++] = e;
	return 0;
}

int ls_thread_events__loop(struct ls_thread_events *te, uint32_t pid, uint32_t tid)
{
	struct thread_ev *e;
	int err;

	err = ls_thread_events__watch(te, pid, tid);
	if (err)
		return err;
	e = find(te, tid);
	if (!e->switches) {
		/* retired before it ran a loop: its switches matter again */
		e->switches = open_switches(te, tid);
		if (!e->switches)
			return -errno;
	}
	/* its sampling event is opened when a busy period runs long (see sample()) */
	e->loop = true;
	return 0;
}

size_t ls_thread_events__retire(struct ls_thread_events *te, uint64_t now_ns,
				const struct ls_thread_retire_ops *ops, void *ctx)
{
	size_t i, n = 0;

	for (i = 0; i < te->n; i++) {
		struct thread_ev *e = &te->ev[i];

		if (!e->switches || e->loop || e->tid == e->pid ||
		    now_ns - e->since_ns < LS_THREAD_PROBATION_NS)
			continue;
		if (ops->idle && ops->idle(ctx, e->pid, e->tid))
			continue;
		bpf_link__destroy(e->switches);
		e->switches = NULL;
		/*
		 * Asked after closing: a thread that becomes a loop thread from
		 * now on gets its event back when its record is read; one that
		 * became one before is found here.
		 */
		if (ops->known && ops->known(ctx, e->pid, e->tid)) {
			e->switches = open_switches(te, e->tid);
			e->loop = true;
			continue;
		}
		n++;
	}
	return n;
}

int ls_thread_events__lean(struct ls_thread_events *te, uint32_t tid)
{
	struct thread_ev *e = find(te, tid);

	if (!e || !e->loop || !e->switches)
		return -ENOENT;
	bpf_link__destroy(e->switches);
	e->switches = NULL;
	e->lean = true;
	return 0;
}

int ls_thread_events__follow(struct ls_thread_events *te, uint32_t tid)
{
	struct thread_ev *e = find(te, tid);

	if (!e || !e->lean)
		return 0;
	e->switches = open_switches(te, tid);
	if (!e->switches)
		return -errno;
	e->lean = false;
	return 1;
}

void ls_thread_events__each_retired(const struct ls_thread_events *te,
				    void (*fn)(void *ctx, uint32_t pid, uint32_t tid), void *ctx)
{
	size_t i;

	/* a lean loop thread hooked its wait already */
	for (i = 0; i < te->n; i++)
		if (!te->ev[i].switches && !te->ev[i].lean)
			fn(ctx, te->ev[i].pid, te->ev[i].tid);
}

static void close_at(struct ls_thread_events *te, size_t i)
{
	/* destroying a link closes the perf event fd it owns */
	bpf_link__destroy(te->ev[i].switches);
	bpf_link__destroy(te->ev[i].sample);
	te->ev[i] = te->ev[--te->n];
}

void ls_thread_events__close(struct ls_thread_events *te, uint32_t tid)
{
	size_t i;

	for (i = 0; i < te->n; i++) {
		if (te->ev[i].tid == tid) {
			close_at(te, i);
			return;
		}
	}
}

void ls_thread_events__close_pid(struct ls_thread_events *te, uint32_t pid)
{
	size_t i = 0;

	while (i < te->n) {
		if (te->ev[i].pid == pid)
			close_at(te, i);
		else
			i++;
	}
}

void ls_thread_events__sample(struct ls_thread_events *te, uint32_t tid, uint64_t busy_start_ns,
			      bool want)
{
	/* counts only the thread's own CPU time: an idle loop is never sampled */
	struct perf_event_attr clock = {
	    .type = PERF_TYPE_SOFTWARE,
	    .size = sizeof(clock),
	    .config = PERF_COUNT_SW_TASK_CLOCK,
	    .sample_period = te->sample_period_ns,
	};
	struct thread_ev *e = find(te, tid);

	if (!e || !e->loop || !te->on_sample)
		return;
	if (!want) {
		if (e->sample) {
			bpf_link__destroy(e->sample);
			e->sample = NULL;
		}
		e->sampling_for = 0;
		return;
	}
	/*
	 * Opened here rather than kept open disabled: a perf event on a
	 * thread, even a disabled one, makes each of its context switches
	 * dearer (~90 ns per switch-in/out pair on the 2-vCPU VM, on top of
	 * the switch event's own), which a loop that wakes on every request
	 * pays per iteration; opening one costs tens of microseconds once
	 * per long busy period. libbpf enables the event it attaches to.
	 */
	if (e->sampling_for == busy_start_ns)
		return;
	/* one try per busy period: a thread that is gone fails each time */
	e->sampling_for = busy_start_ns;
	if (!e->sample) {
		/* NULL: the thread's stalls only lack cpu_stacks */
		e->sample = ls_thread_event_open(te->on_sample, &clock, tid, NULL);
	}
}

void ls_thread_events__free(struct ls_thread_events *te)
{
	size_t i;

	if (!te)
		return;
	for (i = 0; i < te->n; i++) {
		bpf_link__destroy(te->ev[i].switches);
		bpf_link__destroy(te->ev[i].sample);
	}
	free(te->ev);
	free(te);
}
