// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "grow.h"
#include "thread_events.h"

struct thread_ev {
	uint32_t pid;
	uint32_t tid;
	struct bpf_link *switches;
	struct bpf_link *sample; /* owns sample_fd */
	int sample_fd;
	uint64_t sampling_for; /* busy period the sampling event is enabled for, 0: disabled */
};

struct ls_thread_events {
	struct bpf_program *on_switch, *on_sample;
	uint64_t sample_period_ns;
	struct thread_ev *ev;
	size_t n, cap;
	uint64_t errors;
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

int ls_thread_events__watch(struct ls_thread_events *te, uint32_t pid, uint32_t tid)
{
	/* every switch-out: the BPF program decides what to keep */
	struct perf_event_attr sw = {
	    .type = PERF_TYPE_SOFTWARE,
	    .size = sizeof(sw),
	    .config = PERF_COUNT_SW_CONTEXT_SWITCHES,
	    .sample_period = 1,
	};
	struct thread_ev e = {.pid = pid, .tid = tid, .sample_fd = -1};
	void *grown;

	if (find(te, tid))
		return 0;
	grown = ls_grow(te->ev, &te->cap, te->n + 1, sizeof(*te->ev), 8);
	if (!grown) {
		te->errors++;
		return -ENOMEM;
	}
	te->ev = grown;
	e.switches = ls_thread_event_open(te->on_switch, &sw, tid, NULL);
	if (!e.switches) {
		/* the thread may be gone already */
		te->errors++;
		return -errno;
	}
	te->ev[te->n++] = e;
	return 0;
}

int ls_thread_events__loop(struct ls_thread_events *te, uint32_t pid, uint32_t tid)
{
	/* counts only the thread's own CPU time: an idle loop is never sampled */
	struct perf_event_attr clock = {
	    .type = PERF_TYPE_SOFTWARE,
	    .size = sizeof(clock),
	    .config = PERF_COUNT_SW_TASK_CLOCK,
	    .sample_period = te->sample_period_ns,
	};
	struct thread_ev *e;
	int err;

	err = ls_thread_events__watch(te, pid, tid);
	if (err)
		return err;
	e = find(te, tid);
	if (!te->on_sample || e->sample)
		return 0;
	e->sample = ls_thread_event_open(te->on_sample, &clock, tid, &e->sample_fd);
	if (!e->sample) {
		/* without it the thread's stalls only lack cpu_stacks */
		te->errors++;
		return -errno;
	}
	/* libbpf enables the event it attaches to: off until a busy period runs long */
	if (ioctl(e->sample_fd, PERF_EVENT_IOC_DISABLE, 0))
		te->errors++;
	return 0;
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
	struct thread_ev *e = find(te, tid);
	unsigned long req;

	if (!e || e->sample_fd < 0)
		return;
	if (want ? e->sampling_for == busy_start_ns : !e->sampling_for)
		return;
	req = want ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE;
	if (ioctl(e->sample_fd, req, 0)) {
		te->errors++;
		return;
	}
	e->sampling_for = want ? busy_start_ns : 0;
}

size_t ls_thread_events__count(const struct ls_thread_events *te)
{
	return te->n;
}

uint64_t ls_thread_events__errors(const struct ls_thread_events *te)
{
	return te->errors;
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
