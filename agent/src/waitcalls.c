// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unhooking a tracepoint waits for RCU grace periods: ~40 ms each on a VM,
 * during which the agent would report nothing. A reaper thread destroys the
 * links the plan drops; a call being unhooked is not hooked again before
 * that is done, so its program never runs twice for one return.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "syscalls.h"
#include "waitcalls.h"
#include "worker.h"

struct ls_waitcalls {
	struct bpf_program *prog;
	struct bpf_link *links[LT_WAIT_COUNT]; /* hooked */
	volatile uint32_t *bpf_seen;
	struct ls_wait_plan plan;
	/* the reaper's: links to destroy, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	pthread_t reaper;
	bool reaper_running;
	bool stop;
	struct bpf_link *dying[LT_WAIT_COUNT];
	uint32_t dying_mask; /* calls whose links are not destroyed yet */
};

static void *reap(void *arg)
{
	struct ls_waitcalls *w = arg;
	struct bpf_link *link;
	int i;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		for (i = 0; i < LT_WAIT_COUNT && !w->dying[i]; i++)
			;
		if (i == LT_WAIT_COUNT) {
			if (w->stop)
				break;
			pthread_cond_wait(&w->cond, &w->mu);
			continue;
		}
		link = w->dying[i];
		w->dying[i] = NULL;
		pthread_mutex_unlock(&w->mu);
		bpf_link__destroy(link);
		pthread_mutex_lock(&w->mu);
		w->dying_mask &= ~(1u << i);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct bpf_link *ls_waitcalls_attach(struct bpf_program *prog, int i)
{
	static const uint32_t nrs[LT_WAIT_COUNT] = LT_WAIT_NRS;
	const char *name;
	char tp[64];

	if (i < 0 || i >= LT_WAIT_COUNT || !(name = ls_syscall_name(nrs[i]))) {
		errno = EINVAL;
		return NULL;
	}
	snprintf(tp, sizeof(tp), "sys_exit_%s", name);
	return bpf_program__attach_tracepoint(prog, "syscalls", tp);
}

struct ls_waitcalls *ls_waitcalls__new(struct bpf_program *prog, volatile uint32_t *seen, bool all)
{
	struct ls_waitcalls *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->prog = prog;
	w->bpf_seen = seen;
	w->plan.all = all;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cond, NULL);
	return w;
}

/* Where thread tid of pid is now (waitplan.h); one that is gone reads as blocked. */
static enum ls_thread_state thread_state(pid_t pid, uint32_t tid, int *wait)
{
	char path[64], line[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%u/syscall", pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return LS_THREAD_BLOCKED;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0)
		return LS_THREAD_RUNNING;
	line[n] = '\0';
	return ls_wait_parse_proc(line, wait);
}

bool ls_waitcalls__scan(struct ls_waitcalls *w, pid_t pid, uint32_t tid)
{
	int wait;

	switch (thread_state(pid, tid, &wait)) {
	case LS_THREAD_WAITING:
		w->plan.seen |= 1u << wait;
		return false;
	case LS_THREAD_BLOCKED:
		/* or gone: nothing to learn from it */
		return false;
	case LS_THREAD_RUNNING:
		break;
	}
	return true;
}

bool ls_waitcalls_waiting(pid_t pid, uint32_t tid)
{
	int wait;

	return thread_state(pid, tid, &wait) == LS_THREAD_WAITING;
}

void ls_waitcalls__forget(struct ls_waitcalls *w, uint64_t now_ns)
{
	/* what is hooked stays so for a while: the remaining loops show theirs meanwhile */
	ls_wait_plan_learn(&w->plan, ls_waitcalls__hooked(w), now_ns);
	w->plan.seen = 0;
	__atomic_store_n(w->bpf_seen, 0, __ATOMIC_RELAXED);
}

void ls_waitcalls__learn(struct ls_waitcalls *w, uint64_t now_ns)
{
	ls_wait_plan_learn(&w->plan, LT_WAIT_ALL, now_ns);
}

/* Hand a link to the reaper (started the first time). */
static int unhook(struct ls_waitcalls *w, int i)
{
	int err = 0;

	pthread_mutex_lock(&w->mu);
	if (!w->reaper_running) {
		err = -pthread_create(&w->reaper, NULL, reap, w);
		w->reaper_running = !err;
	}
	if (!err) {
		w->dying[i] = w->links[i];
		w->dying_mask |= 1u << i;
		w->links[i] = NULL;
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&w->mu);
	return err;
}

int ls_waitcalls__apply(struct ls_waitcalls *w, uint64_t now_ns, bool idle)
{
	uint32_t want, dying;
	int i, err = 0;

	w->plan.seen |= __atomic_load_n(w->bpf_seen, __ATOMIC_RELAXED);
	want = idle ? 0 : ls_wait_plan_want(&w->plan, now_ns);
	pthread_mutex_lock(&w->mu);
	dying = w->dying_mask;
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < LT_WAIT_COUNT; i++) {
		uint32_t bit = 1u << i;

		if ((want & bit) && !w->links[i] && !(dying & bit)) {
			w->links[i] = ls_waitcalls_attach(w->prog, i);
			if (!w->links[i] && !err)
				err = -errno;
		} else if (!(want & bit) && w->links[i]) {
			/* no thread: stays hooked, which costs others only */
			unhook(w, i);
		}
	}
	return err;
}

void ls_waitcalls__set_all(struct ls_waitcalls *w, bool all)
{
	w->plan.all = all;
}

uint32_t ls_waitcalls__hooked(const struct ls_waitcalls *w)
{
	uint32_t mask = 0;
	int i;

	for (i = 0; i < LT_WAIT_COUNT; i++)
		if (w->links[i])
			mask |= 1u << i;
	return mask;
}

void ls_waitcalls__free(struct ls_waitcalls *w)
{
	int i;

	if (!w)
		return;
	ls_worker_stop(&w->mu, &w->cond, &w->stop);
	/* it destroys what it was given before it stops */
	if (w->reaper_running)
		pthread_join(w->reaper, NULL);
	for (i = 0; i < LT_WAIT_COUNT; i++) {
		bpf_link__destroy(w->dying[i]);
		bpf_link__destroy(w->links[i]);
	}
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
