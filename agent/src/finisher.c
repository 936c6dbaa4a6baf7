// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "demangle.h"
#include "finisher.h"
#include "worker.h"

enum job_kind { JOB_STALL, JOB_PREPARE, JOB_CALL };

/*
 * Idle work (ls_unwinder__idle: writing the modules' symbolizer stores)
 * waits until no job came for this long: right after a stall the service
 * catches up, and more stalls may follow.
 */
#define IDLE_AFTER_NS 1000000000ull

struct job {
	struct job *next;
	enum job_kind kind;
	bool done;
	pid_t pid;	   /* JOB_PREPARE */
	ls_finisher_fn fn; /* JOB_CALL */
	void *ctx;
	int ret;
	struct ls_taken *taken; /* JOB_STALL, may be NULL */
	struct ls_stall stall;
};

struct ls_finisher {
	struct ls_unwinder *unwinder; /* the worker's alone */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work; /* a job was queued, or stop */
	pthread_cond_t idle; /* a job was done */
	/* every job in submission order; the worker resolves the first not done */
	struct job *head, **tail;
	size_t pending; /* jobs not done yet */
	/*
	 * A done stall's frames point into the unwinder's caches: the worker
	 * leaves the unwinder alone until the stall was used (ls_finisher__release).
	 */
	bool held;
	bool stop;
	bool idle_work;	      /* a job was done since ls_unwinder__idle last had nothing to do */
	uint64_t last_job_ns; /* ls_now_ns() when the last job was done */
	int efd;
	bool signalled; /* efd was written since it was last read */
	struct ls_unwind_stats stats;
};

static struct job *first_pending(struct ls_finisher *f)
{
	struct job *j;

	for (j = f->head; j; j = j->next)
		if (!j->done)
			return j;
	return NULL;
}

static void name_callback(struct ls_unwinder *u, pid_t pid, struct ls_probe_cb *cb)
{
	char readable[sizeof(cb->symbol)];

	if (cb->addr && !cb->symbol[0])
		ls_unwinder__name(u, pid, cb->addr, cb->symbol, sizeof(cb->symbol), cb->module,
				  sizeof(cb->module));
	/* libprobe names callbacks from inside the process: C++ ones come mangled */
	else if (ls_demangle(cb->symbol, readable, sizeof(readable)))
		memcpy(cb->symbol, readable, sizeof(readable));
}

void ls_stall_resolve(struct ls_unwinder *u, struct ls_taken *taken, struct ls_stall *s)
{
	struct ls_stall_callback *c = &s->callback;
	unsigned i;

	/* a stall without its stacks is still worth delivering */
	if (taken)
		ls_collector__resolve(u, taken, s);
	/* libprobe's region names a callback only while its reporter thread runs: name the rest */
	if (!c->present)
		return;
	name_callback(u, (pid_t)s->pid, &c->cb);
	for (i = 0; i < c->n_recent && i < LS_PROBE_RECENT; i++)
		name_callback(u, (pid_t)s->pid, &c->recent[i]);
}

static void *worker(void *arg)
{
	struct ls_finisher *f = arg;
	uint64_t one = 1;
	struct job *j;

	pthread_mutex_lock(&f->lock);
	for (;;) {
		while (!f->stop && (f->held || !(j = first_pending(f)))) {
			/* nothing queued: what stalls left for later, one piece at a time */
			if (!f->held && f->idle_work) {
				uint64_t due = f->last_job_ns + IDLE_AFTER_NS;
				bool more;

				if (ls_now_ns() < due) {
					struct timespec at = {
					    .tv_sec = (time_t)(due / 1000000000ull),
					    .tv_nsec = (long)(due % 1000000000ull)};

					pthread_cond_timedwait(&f->work, &f->lock, &at);
					continue;
				}
				pthread_mutex_unlock(&f->lock);
				more = ls_unwinder__idle(f->unwinder);
				pthread_mutex_lock(&f->lock);
				f->idle_work = more;
				ls_unwinder__stats(f->unwinder, &f->stats);
				continue;
			}
			pthread_cond_wait(&f->work, &f->lock);
		}
		if (f->stop)
			break;
		/* the job stays queued (and owned by the list) while it is resolved unlocked */
		pthread_mutex_unlock(&f->lock);
		if (j->kind == JOB_PREPARE) {
			ls_unwinder__prepare(f->unwinder, j->pid);
		} else if (j->kind == JOB_CALL) {
			j->ret = j->fn(f->unwinder, j->ctx);
		} else {
			ls_stall_resolve(f->unwinder, j->taken, &j->stall);
			j->taken = NULL;
			ls_stall_conclude(&j->stall);
		}
		pthread_mutex_lock(&f->lock);
		j->done = true;
		f->pending--;
		f->idle_work = true;
		f->last_job_ns = ls_now_ns();
		if (j->kind == JOB_STALL)
			f->held = true;
		ls_unwinder__stats(f->unwinder, &f->stats);
		pthread_cond_broadcast(&f->idle);
		if (j->kind == JOB_STALL) {
			f->signalled = true;
			if (write(f->efd, &one, sizeof(one)) < 0) {
				/* the counter cannot overflow here; nothing to do */
			}
		}
	}
	pthread_mutex_unlock(&f->lock);
	ls_unwinder__thread_done();
	return NULL;
}

struct ls_finisher *ls_finisher__new(struct ls_unwinder *u)
{
	struct ls_finisher *f = calloc(1, sizeof(*f));
	pthread_condattr_t attr;

	if (!f)
		return NULL;
	f->unwinder = u;
	f->tail = &f->head;
	f->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->efd < 0)
		goto fail;
	pthread_mutex_init(&f->lock, NULL);
	/* the idle wait's deadline is on the monotonic clock */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&f->work, &attr);
	pthread_condattr_destroy(&attr);
	pthread_cond_init(&f->idle, NULL);
	if (pthread_create(&f->thread, NULL, worker, f)) {
		close(f->efd);
		goto fail;
	}
	return f;
fail:
	free(f);
	return NULL;
}

static int submit(struct ls_finisher *f, struct job *j)
{
	pthread_mutex_lock(&f->lock);
	*f->tail = j;
	f->tail = &j->next;
	f->pending++;
	pthread_cond_signal(&f->work);
	pthread_mutex_unlock(&f->lock);
	return 0;
}

int ls_finisher__submit(struct ls_finisher *f, const struct ls_stall *s, struct ls_taken *taken)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j) {
		ls_taken__free(taken);
		return -ENOMEM;
	}
	j->kind = JOB_STALL;
	j->stall = *s;
	j->taken = taken;
	return submit(f, j);
}

int ls_finisher__prepare(struct ls_finisher *f, pid_t pid)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->kind = JOB_PREPARE;
	j->pid = pid;
	return submit(f, j);
}

int ls_finisher__call(struct ls_finisher *f, ls_finisher_fn fn, void *ctx,
		      ls_finisher_drain_fn drain, void *drain_ctx)
{
	struct job *j = calloc(1, sizeof(*j));
	bool took = true;
	int ret;

	if (!j)
		return -ENOMEM;
	j->kind = JOB_CALL;
	j->fn = fn;
	j->ctx = ctx;
	submit(f, j);
	pthread_mutex_lock(&f->lock);
	while (!j->done) {
		/* a stall done before the call waits for its reader: the caller */
		if (f->held && took) {
			pthread_mutex_unlock(&f->lock);
			took = drain(drain_ctx);
			pthread_mutex_lock(&f->lock);
			continue;
		}
		pthread_cond_wait(&f->idle, &f->lock);
		took = true;
	}
	ret = j->ret;
	/* the caller owns a done call: take it out of the list wherever it is */
	{
		struct job **pp = &f->head;

		while (*pp != j)
			pp = &(*pp)->next;
		*pp = j->next;
		if (f->tail == &j->next)
			f->tail = pp;
	}
	pthread_mutex_unlock(&f->lock);
	free(j);
	return ret;
}

int ls_finisher__fd(const struct ls_finisher *f)
{
	return f->efd;
}

bool ls_finisher__next(struct ls_finisher *f, struct ls_stall *out, bool wait)
{
	uint64_t n;
	struct job *j;
	bool got = false;

	pthread_mutex_lock(&f->lock);
	for (;;) {
		/* done preparations at the head are done with */
		while ((j = f->head) && j->done) {
			f->head = j->next;
			if (!f->head)
				f->tail = &f->head;
			if (j->kind == JOB_STALL) {
				*out = j->stall;
				got = true;
			}
			free(j);
			if (got)
				break;
		}
		if (got || !wait || !f->pending)
			break;
		pthread_cond_wait(&f->idle, &f->lock);
	}
	/* the poll loop calls this at every wake-up: read only what was written */
	if (!got && f->signalled) {
		f->signalled = false;
		if (read(f->efd, &n, sizeof(n)) < 0) {
			/* nothing was signalled: EAGAIN */
		}
	}
	pthread_mutex_unlock(&f->lock);
	return got;
}

void ls_finisher__release(struct ls_finisher *f)
{
	pthread_mutex_lock(&f->lock);
	f->held = false;
	pthread_cond_signal(&f->work);
	pthread_mutex_unlock(&f->lock);
}

void ls_finisher__stats(struct ls_finisher *f, struct ls_unwind_stats *stats)
{
	pthread_mutex_lock(&f->lock);
	*stats = f->stats;
	pthread_mutex_unlock(&f->lock);
}

void ls_finisher__free(struct ls_finisher *f)
{
	struct job *j;

	if (!f)
		return;
	ls_worker_stop(&f->lock, &f->work, &f->stop);
	pthread_join(f->thread, NULL);
	/* a run that ends after its first stall still leaves the next one its debug info */
	while (ls_unwinder__idle(f->unwinder))
		;
	while ((j = f->head)) {
		f->head = j->next;
		ls_taken__free(j->taken);
		if (j->kind == JOB_STALL && j->done)
			ls_stall_free_stacks(&j->stall);
		free(j);
	}
	close(f->efd);
	pthread_cond_destroy(&f->work);
	pthread_cond_destroy(&f->idle);
	pthread_mutex_destroy(&f->lock);
	free(f);
}
