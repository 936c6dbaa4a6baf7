// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "stack_collector.h"

/* CPU samples kept per busy period; past this, every other one is merged away. */
#define MAX_SAMPLES 256
/* Distinct CPU stacks reported per stall, hottest first. */
#define MAX_CPU_STACKS 16

struct raw {
	struct lt_stack_rec *rec; /* copy, header + rec->size bytes */
	size_t size;
	unsigned weight; /* samples this one stands for after thinning */
};

struct thread_stacks {
	uint32_t tid;
	uint64_t busy_start_ns;
	struct raw blocked[LT_MAX_SLOTS];
	unsigned n_blocked;
	struct raw samples[MAX_SAMPLES];
	unsigned n_samples;
	unsigned stride, skipped; /* keep one sample in `stride` */
};

/* A stall's raw stacks, out of the collector, on their way to be resolved. */
struct ls_taken {
	struct thread_stacks stacks;
};

struct ls_collector {
	struct thread_stacks *threads;
	size_t n, cap;
};

struct ls_collector *ls_collector__new(void)
{
	return calloc(1, sizeof(struct ls_collector));
}

static void clear(struct thread_stacks *t)
{
	unsigned i;

	for (i = 0; i < t->n_blocked; i++)
		free(t->blocked[i].rec);
	for (i = 0; i < t->n_samples; i++)
		free(t->samples[i].rec);
	t->n_blocked = t->n_samples = 0;
	t->stride = 1;
	t->skipped = 0;
}

static struct thread_stacks *find(struct ls_collector *c, uint32_t tid, bool create)
{
	void *grown;
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->threads[i].tid == tid)
			return &c->threads[i];
	if (!create)
		return NULL;
	grown = ls_grow(c->threads, &c->cap, c->n + 1, sizeof(*c->threads), 4);
	if (!grown)
		return NULL;
	c->threads = grown;
	memset(&c->threads[c->n], 0, sizeof(c->threads[0]));
	c->threads[c->n].tid = tid;
	c->threads[c->n].stride = 1;
	return &c->threads[c->n++];
}

static int copy_raw(struct raw *r, const void *data, size_t size)
{
	r->rec = malloc(size);
	if (!r->rec)
		return -ENOMEM;
	memcpy(r->rec, data, size);
	r->size = size;
	r->weight = 1;
	return 0;
}

/* Halve the kept samples, each survivor standing for its dropped neighbour. */
static void thin(struct thread_stacks *t)
{
	unsigned i, kept = 0;

	for (i = 0; i < t->n_samples; i += 2) {
		struct raw keep = t->samples[i];

		if (i + 1 < t->n_samples) {
			keep.weight += t->samples[i + 1].weight;
			free(t->samples[i + 1].rec);
		}
		t->samples[kept++] = keep;
	}
	t->n_samples = kept;
	t->stride *= 2;
}

int ls_collector__add(struct ls_collector *c, const void *data, size_t size)
{
	const struct lt_stack_rec *rec = data;
	size_t hdr = offsetof(struct lt_stack_rec, data);
	struct thread_stacks *t;
	unsigned i;

	if (size < hdr || rec->size > LT_STACK_MAX || size < hdr + rec->size ||
	    (rec->type != LT_REC_STACK && rec->type != LT_REC_CPU_SAMPLE))
		return -EINVAL;
	t = find(c, rec->tid, true);
	if (!t)
		return -ENOMEM;
	/* a new busy period: the previous one ended without becoming a stall */
	if (t->busy_start_ns != rec->busy_start_ns) {
		clear(t);
		t->busy_start_ns = rec->busy_start_ns;
	}
	if (rec->type == LT_REC_CPU_SAMPLE) {
		if (++t->skipped < t->stride) {
			if (t->n_samples)
				t->samples[t->n_samples - 1].weight++;
			return 0;
		}
		t->skipped = 0;
		if (t->n_samples == MAX_SAMPLES)
			thin(t);
		if (copy_raw(&t->samples[t->n_samples], data, hdr + rec->size))
			return -ENOMEM;
		t->n_samples++;
		return 0;
	}
	/* BPF sends a call site's stack again only when it blocked longer: replace */
	for (i = 0; i < t->n_blocked; i++) {
		if (t->blocked[i].rec->nr == rec->nr && t->blocked[i].rec->fd == rec->fd) {
			free(t->blocked[i].rec);
			return copy_raw(&t->blocked[i], data, hdr + rec->size);
		}
	}
	if (t->n_blocked == LT_MAX_SLOTS)
		return 0;
	if (copy_raw(&t->blocked[t->n_blocked], data, hdr + rec->size))
		return -ENOMEM;
	t->n_blocked++;
	return 0;
}

static int by_samples_desc(const void *a, const void *b)
{
	const struct ls_cpu_stack *x = a, *y = b;

	return x->samples < y->samples ? 1 : x->samples > y->samples ? -1 : 0;
}

/* Samples in the same functions are one hot path, whatever instruction they hit. */
static bool same_functions(const struct ls_stack *a, const struct ls_stack *b)
{
	unsigned i;

	if (a->n != b->n)
		return false;
	/* the symbolizer interns strings: equal names are equal pointers */
	for (i = 0; i < a->n; i++)
		if (a->frames[i].symbol != b->frames[i].symbol ||
		    a->frames[i].module != b->frames[i].module ||
		    a->frames[i].kind != b->frames[i].kind ||
		    (a->frames[i].kind == LS_FRAME_PYTHON &&
		     a->frames[i].file != b->frames[i].file) ||
		    (!a->frames[i].symbol && a->frames[i].addr != b->frames[i].addr))
			return false;
	return true;
}

static bool same_pcs(const struct ls_pcs *a, const struct ls_pcs *b)
{
	return a->n == b->n && !memcmp(a->pc, b->pc, a->n * sizeof(a->pc[0]));
}

/* The interpreter runs every Python line at the same native pcs: its frames tell them apart. */
static bool same_python(const struct lt_py_stack *a, const struct lt_py_stack *b)
{
	unsigned n = a->n < LT_PY_MAX_FRAMES ? a->n : LT_PY_MAX_FRAMES, i;

	if (a->n != b->n || a->status != b->status)
		return false;
	/* not the frames' addresses: the same line run by another coroutine is the same stack */
	for (i = 0; i < n; i++)
		if (a->frames[i].code != b->frames[i].code ||
		    a->frames[i].lasti != b->frames[i].lasti ||
		    a->frames[i].flags != b->frames[i].flags)
			return false;
	return true;
}

static void free_groups(struct ls_cpu_stack *groups, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		free(groups[i].stack.frames);
	free(groups);
}

static int attach_cpu(struct ls_unwinder *u, struct thread_stacks *t, struct ls_stall *s)
{
	unsigned n_samples = t->n_samples ? t->n_samples : 1, i, j, n_pcs = 0, n = 0;
	struct ls_pcs *pcs = calloc(n_samples, sizeof(*pcs));
	unsigned *weight = calloc(n_samples, sizeof(*weight));
	struct ls_cpu_stack *groups = calloc(n_samples, sizeof(*groups));
	const struct lt_stack_rec **recs = calloc(n_samples, sizeof(*recs));
	struct ls_stack st;
	int err = 0;

	if (!pcs || !weight || !groups || !recs) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* identical address lists first: symbolizing is the expensive part */
	for (i = 0; i < t->n_samples; i++) {
		if (ls_unwinder__unwind(u, t->samples[i].rec, t->samples[i].size, &pcs[n_pcs]))
			continue;
		s->cpu_samples += t->samples[i].weight;
		for (j = 0; j < n_pcs && !(same_pcs(&pcs[j], &pcs[n_pcs]) &&
					   same_python(&recs[j]->py, &t->samples[i].rec->py));
		     j++)
			;
		weight[j] += t->samples[i].weight;
		if (j == n_pcs)
			recs[n_pcs++] = t->samples[i].rec;
	}
	/* then one row per chain of functions, whatever instruction each sample hit */
	for (i = 0; i < n_pcs; i++) {
		st.frames = NULL;
		st.n = 0;
		err = ls_unwinder__symbolize(u, (pid_t)s->pid, &pcs[i], &st);
		if (!err)
			err = ls_unwinder__python(u, (pid_t)s->pid, &recs[i]->py, &st);
		if (err) {
			free(st.frames);
			goto cleanup;
		}
		for (j = 0; j < n && !same_functions(&groups[j].stack, &st); j++)
			;
		if (j == n)
			groups[n++].stack = st;
		else
			free(st.frames);
		groups[j].samples += weight[i];
	}
	qsort(groups, n, sizeof(*groups), by_samples_desc);
	for (i = MAX_CPU_STACKS; i < n; i++)
		free(groups[i].stack.frames);
	s->n_cpu_stacks = n < MAX_CPU_STACKS ? n : MAX_CPU_STACKS;
	s->cpu_stacks = groups;
	groups = NULL;
cleanup:
	if (groups)
		free_groups(groups, n);
	free(recs);
	free(weight);
	free(pcs);
	return err;
}

struct ls_taken *ls_collector__take(struct ls_collector *c, const struct ls_stall *s)
{
	struct thread_stacks *t = find(c, s->tid, false);
	struct ls_taken *taken;

	if (!t || t->busy_start_ns != s->start_ns)
		return NULL;
	taken = malloc(sizeof(*taken));
	if (taken) {
		/* the raw records move: the collector keeps an empty entry */
		taken->stacks = *t;
		t->n_blocked = t->n_samples = 0;
	}
	clear(t);
	t->busy_start_ns = 0;
	return taken;
}

void ls_taken__free(struct ls_taken *taken)
{
	if (!taken)
		return;
	clear(&taken->stacks);
	free(taken);
}

/* The asyncio task, from the stack that explains the stall (else the other). */
static void name_task(struct ls_unwinder *u, struct ls_stall *s)
{
	const struct ls_stack *cpu = s->n_cpu_stacks ? &s->cpu_stacks[0].stack : NULL;
	const struct ls_stack *sys = s->n_syscalls ? &s->syscalls[0].stack : NULL;
	const struct ls_stack *order[2] = {sys, cpu};
	const struct ls_frame *f = NULL;
	unsigned i;

	if (s->cause == LS_CAUSE_CPU) {
		order[0] = cpu;
		order[1] = sys;
	}
	for (i = 0; i < 2 && !f; i++)
		if (order[i])
			f = ls_unwinder__python_task(u, (pid_t)s->pid, order[i]);
	if (!f)
		return;
	s->task.coroutine = f->symbol;
	s->task.file = f->file;
	s->task.line = f->line;
	ls_unwinder__python_task_name(u, (pid_t)s->pid, (pid_t)s->tid, s->start_ns, f->pyframe,
				      s->task.name, sizeof(s->task.name));
}

int ls_collector__resolve(struct ls_unwinder *u, struct ls_taken *taken, struct ls_stall *s)
{
	struct thread_stacks *t = &taken->stacks;
	struct ls_pcs *pcs;
	unsigned i, j;
	int err = 0;

	pcs = malloc(sizeof(*pcs));
	if (!pcs) {
		ls_taken__free(taken);
		return -ENOMEM;
	}
	/* one look at the mappings per stall: libraries loaded, or an exec, since the last */
	ls_unwinder__refresh(u, (pid_t)s->pid);
	for (i = 0; i < s->n_syscalls; i++) {
		struct ls_syscall_use *use = &s->syscalls[i];

		for (j = 0; j < t->n_blocked; j++) {
			const struct lt_stack_rec *rec = t->blocked[j].rec;

			if ((int)rec->nr != use->nr || rec->fd != use->fd)
				continue;
			if (!ls_unwinder__unwind(u, rec, t->blocked[j].size, pcs))
				err = ls_unwinder__symbolize(u, (pid_t)s->pid, pcs, &use->stack);
			if (!err)
				err = ls_unwinder__python(u, (pid_t)s->pid, &rec->py, &use->stack);
			break;
		}
		if (err)
			goto cleanup;
	}
	err = attach_cpu(u, t, s);
	if (!err)
		name_task(u, s);
cleanup:
	free(pcs);
	ls_taken__free(taken);
	return err;
}

void ls_collector__drop(struct ls_collector *c, uint32_t tid)
{
	struct thread_stacks *t = find(c, tid, false);

	if (!t)
		return;
	clear(t);
	*t = c->threads[--c->n];
}

void ls_collector__free(struct ls_collector *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		clear(&c->threads[i]);
	free(c->threads);
	free(c);
}
