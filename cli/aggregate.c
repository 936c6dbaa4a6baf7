// SPDX-License-Identifier: BSD-2-Clause
/*
 * Aggregating a recording. Stalls are grouped into culprits by a key built
 * from where they happened; folded stacks are weighted in milliseconds of
 * stall time so that CPU and blocked time share one flame graph.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aggregate.h"

/* Innermost frames that make two stacks the same call site. */
#define KEY_FRAMES 8
/* Below this a TCP/UDP port is a service's, above it most likely ephemeral (Linux default). */
#define EPHEMERAL_PORT_MIN 32768

const char *agg_lang_name(enum agg_lang lang)
{
	switch (lang) {
	case AGG_LANG_PYTHON:
		return "Python";
	case AGG_LANG_NODE:
		return "Node.js";
	default:
		return "C";
	}
}

const char *agg_basename(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path ? path : "";
}

static bool starts(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

static enum agg_lang frame_lang(const struct rf_frame *f)
{
	const char *mod = agg_basename(f->module);

	if (starts(mod, "libpython") || starts(mod, "python"))
		return AGG_LANG_PYTHON;
	if (starts(f->symbol, "_Py") ||
	    (starts(f->symbol, "Py") && f->symbol[2] >= 'A' && f->symbol[2] <= 'Z'))
		return AGG_LANG_PYTHON;
	if (!strcmp(mod, "node") || starts(mod, "libnode") || starts(f->symbol, "Builtins_") ||
	    (f->symbol && (strstr(f->symbol, "v8::") || strstr(f->symbol, "node::"))))
		return AGG_LANG_NODE;
	return AGG_LANG_C;
}

static enum agg_lang stack_lang(const struct rf_stack *st)
{
	enum agg_lang lang;
	size_t i;

	for (i = 0; i < st->n; i++) {
		lang = frame_lang(&st->frames[i]);
		if (lang != AGG_LANG_C)
			return lang;
	}
	return AGG_LANG_C;
}

enum agg_lang agg_stall_lang(const struct rf_stall *s)
{
	enum agg_lang lang;
	size_t i;

	for (i = 0; i < s->n_syscalls; i++) {
		lang = stack_lang(&s->syscalls[i].stack);
		if (lang != AGG_LANG_C)
			return lang;
	}
	for (i = 0; i < s->n_cpu_stacks; i++) {
		lang = stack_lang(&s->cpu_stacks[i].stack);
		if (lang != AGG_LANG_C)
			return lang;
	}
	/* no telling frames (or no stacks yet): the thread's name */
	if (starts(s->comm, "python"))
		return AGG_LANG_PYTHON;
	if (!strcmp(s->comm, "node") || !strcmp(s->comm, "nodejs"))
		return AGG_LANG_NODE;
	return AGG_LANG_C;
}

static const struct rf_stack *top_cpu_stack(const struct rf_stall *s)
{
	const struct rf_cpu_stack *best = NULL;
	size_t i;

	for (i = 0; i < s->n_cpu_stacks; i++)
		if (s->cpu_stacks[i].stack.n && (!best || s->cpu_stacks[i].samples > best->samples))
			best = &s->cpu_stacks[i];
	return best ? &best->stack : NULL;
}

/*
 * A CPU stall is explained by where it computed, a blocked one by where it
 * called the syscall; for the other causes, by the larger of the two.
 */
const struct rf_stack *agg_stall_stack(const struct rf_stall *s)
{
	const struct rf_stack *cpu = top_cpu_stack(s), *sys = NULL;
	double sys_ms = 0;

	if (s->n_syscalls && s->syscalls[0].stack.n) {
		sys = &s->syscalls[0].stack;
		sys_ms = s->syscalls[0].total_ms;
	}
	if (!strcmp(s->cause, "cpu"))
		return cpu;
	if (!strcmp(s->cause, "blocking_syscall") || !strcmp(s->cause, "lock_wait"))
		return sys;
	if (cpu && (s->on_cpu_ms >= sys_ms || !sys))
		return cpu;
	return sys;
}

/* The C runtime: a call site is where the program called into it. */
static bool runtime_module(const char *module)
{
	static const char *const libs[] = {
	    "libc.so", "libc-",	    "ld-linux", "ld-",	 "libpthread", "libm.so",   "librt",
	    "libdl",   "libstdc++", "libgcc_s", "[vdso", "linux-vdso", "libresolv", NULL};
	const char *base = agg_basename(module);
	size_t i;

	for (i = 0; libs[i]; i++)
		if (starts(base, libs[i]))
			return true;
	return false;
}

/*
 * The interpreter's own machinery: every Python call passes through these,
 * so they name no call site (native stacks do not show Python functions).
 */
bool agg_interpreter_frame(const struct rf_frame *f)
{
	static const char *const generic[] = {
	    "_PyEval_",	     "PyEval_",	      "PyObject_",	   "_PyObject_",   "PyIter_",
	    "_PyFunction_",  "_PyVectorcall", "method_vectorcall", "cfunction_",   "vectorcall_",
	    "slot_tp_",	     "_Py_",	      "Py_RunMain",	   "Py_BytesMain", "pymain_",
	    "run_eval_code", "run_mod",	      "_PyRun_",	   "PyRun_",	   NULL};
	size_t i;

	if (frame_lang(f) != AGG_LANG_PYTHON)
		return false;
	if (f->symbol && (!strcmp(f->symbol, "main") || !strcmp(f->symbol, "_start")))
		return true;
	for (i = 0; generic[i]; i++)
		if (starts(f->symbol, generic[i]))
			return true;
	return false;
}

enum agg_lang agg_stack_runtime(const struct rf_stack *st)
{
	size_t i;

	for (i = 0; st && i < st->n; i++) {
		const struct rf_frame *f = &st->frames[i];

		if (agg_interpreter_frame(f))
			return AGG_LANG_PYTHON;
		if (starts(f->symbol, "Builtins_JSEntry") ||
		    starts(f->symbol, "Builtins_InterpreterEntryTrampoline"))
			return AGG_LANG_NODE;
	}
	return AGG_LANG_C;
}

/* The interpreter or runtime that runs the user's code: its frames are not the user's. */
static bool runtime_binary(const char *module)
{
	const char *base = agg_basename(module);

	/* the standard library's C modules (pyenv builds them as .so files) run no user code */
	return starts(base, "libpython") || starts(base, "python") || !strcmp(base, "node") ||
	       starts(base, "libnode") || (module && strstr(module, "/lib-dynload/"));
}

bool agg_user_frame(const struct rf_frame *f)
{
	if (!f->symbol)
		return false;
	if (f->kind != RF_KIND_NATIVE)
		return true;
	return f->module && !runtime_module(f->module) && !runtime_binary(f->module) &&
	       !agg_interpreter_frame(f) && frame_lang(f) == AGG_LANG_C;
}

const struct rf_frame *agg_call_site(const struct rf_stack *st)
{
	size_t i;

	if (!st || !st->n)
		return NULL;
	for (i = 0; i < st->n; i++)
		if (agg_user_frame(&st->frames[i]))
			return &st->frames[i];
	/* only the runtime's own frames: the innermost past the C library */
	for (i = 0; i < st->n; i++)
		if (st->frames[i].symbol && !runtime_module(st->frames[i].module) &&
		    !agg_interpreter_frame(&st->frames[i]))
			return &st->frames[i];
	for (i = 0; i < st->n; i++)
		if (st->frames[i].symbol)
			return &st->frames[i];
	return &st->frames[0];
}

const char *agg_frame_name(const struct rf_frame *f, char *buf, size_t len)
{
	char *p;

	if (f->symbol && f->kind == RF_KIND_PYTHON && f->file && f->line >= 0)
		snprintf(buf, len, "%s (%s:%ld)", f->symbol, agg_basename(f->file), f->line);
	else if (f->symbol)
		snprintf(buf, len, "%s", f->symbol);
	else if (f->module && f->module[0])
		snprintf(buf, len, "[%s]", agg_basename(f->module));
	else
		snprintf(buf, len, "[unknown]");
	/* ';' separates frames in folded stacks, whitespace ends them */
	for (p = buf; *p; p++)
		if (*p == ';')
			*p = ':';
		else if ((unsigned char)*p < 0x20)
			*p = ' ';
	return buf;
}

/* A growing string. */
struct sbuf {
	char *s;
	size_t len;
	size_t cap;
	int err;
};

static void sb_add(struct sbuf *b, const char *text)
{
	size_t n = strlen(text), cap;
	char *grown;

	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 64;
		while (b->len + n + 1 > cap)
			cap *= 2;
		grown = realloc(b->s, cap);
		if (!grown) {
			b->err = -ENOMEM;
			return;
		}
		b->s = grown;
		b->cap = cap;
	}
	memcpy(b->s + b->len, text, n + 1);
	b->len += n;
}

/* Ephemeral ports differ per connection, not per call site: "…:41234" keys as "…:*". */
static void sb_add_target(struct sbuf *b, const char *target)
{
	char part[32];
	const char *p = target;

	while (*p) {
		size_t n = strcspn(p, ":");
		unsigned long port;
		char *end;

		if (n > sizeof(part) - 1)
			n = sizeof(part) - 1;
		memcpy(part, p, n);
		part[n] = '\0';
		sb_add(b, part);
		p += n;
		if (*p != ':')
			continue;
		sb_add(b, ":");
		p++;
		port = strtoul(p, &end, 10);
		if (end != p && port >= EPHEMERAL_PORT_MIN && port <= 65535 &&
		    (*end == '\0' || *end == '-' || *end == ' ')) {
			sb_add(b, "*");
			p = end;
		}
	}
}

static char *culprit_key(const struct rf_stall *s, const struct rf_stack *st)
{
	const struct rf_frame *site;
	struct sbuf b = {0};
	char name[256];
	size_t i;

	sb_add(&b, s->comm);
	sb_add(&b, "\x1f");
	sb_add(&b, s->cause);
	sb_add(&b, "\x1f");
	site = agg_call_site(st);
	if (site && site->kind == RF_KIND_PYTHON && site->file && site->line >= 0) {
		/* Python code is where its line is, whatever called it */
		snprintf(name, sizeof(name), "%s:%ld", site->file, site->line);
		sb_add(&b, name);
	} else if (st && st->n) {
		for (i = 0; i < st->n && i < KEY_FRAMES; i++) {
			const struct rf_frame *f = &st->frames[i];

			sb_add(&b, f->symbol ? agg_frame_name(f, name, sizeof(name)) : f->addr);
			sb_add(&b, ";");
		}
	} else if (s->n_syscalls) {
		sb_add(&b, s->syscalls[0].name);
		sb_add(&b, "\x1f");
		if (s->syscalls[0].target)
			sb_add_target(&b, s->syscalls[0].target);
	}
	if (b.err) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

static double syscall_ms(const struct rf_stall *s, const char *name)
{
	double ms = 0;
	size_t i;

	for (i = 0; i < s->n_syscalls; i++)
		if (!strcmp(s->syscalls[i].name, name))
			ms += s->syscalls[i].total_ms;
	return ms;
}

static int culprits_build(struct aggregate *agg)
{
	const struct recording *rec = agg->rec;
	size_t i, j;

	agg->culprits = calloc(rec->n_stalls ? rec->n_stalls : 1, sizeof(*agg->culprits));
	if (!agg->culprits)
		return -ENOMEM;
	/* longest first, so each culprit's first stall is its worst */
	for (i = 0; i < rec->n_stalls; i++) {
		const struct rf_stall *s = agg->by_duration[i];
		const struct rf_stack *st = agg_stall_stack(s);
		struct agg_culprit *c = NULL;
		char *key = culprit_key(s, st);

		if (!key)
			return -ENOMEM;
		for (j = 0; j < agg->n_culprits; j++)
			if (!strcmp(agg->culprits[j].key, key)) {
				c = &agg->culprits[j];
				break;
			}
		if (c) {
			free(key);
		} else {
			c = &agg->culprits[agg->n_culprits++];
			c->key = key;
			c->worst = s;
			c->cause = s->cause;
			c->comm = s->comm;
			c->syscall = s->n_syscalls ? &s->syscalls[0] : NULL;
			c->stack = st;
			c->site = agg_call_site(st);
			c->lang = agg_stall_lang(s);
			c->max_ms = s->duration_ms;
		}
		c->stalls++;
		c->cut_short += s->cut_short;
		c->total_ms += s->duration_ms;
		c->on_cpu_ms += s->on_cpu_ms;
		c->off_cpu_ms += s->off_cpu_ms;
		c->runqueue_ms += s->runqueue_ms;
		c->fault_ms += s->fault_blocked_ms;
		c->major_faults += s->major_faults;
		c->involuntary_switches += s->involuntary_switches;
		if (c->syscall)
			c->syscall_ms += syscall_ms(s, c->syscall->name);
	}
	return 0;
}

static int by_duration_cmp(const void *a, const void *b)
{
	const struct rf_stall *x = *(const struct rf_stall *const *)a;
	const struct rf_stall *y = *(const struct rf_stall *const *)b;

	if (x->duration_ms != y->duration_ms)
		return x->duration_ms > y->duration_ms ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int culprit_cmp(const void *a, const void *b)
{
	const struct agg_culprit *x = a, *y = b;

	if (x->total_ms != y->total_ms)
		return x->total_ms > y->total_ms ? -1 : 1;
	if (x->stalls != y->stalls)
		return x->stalls > y->stalls ? -1 : 1;
	return strcmp(x->key, y->key);
}

static int cause_cmp(const void *a, const void *b)
{
	const struct agg_cause *x = a, *y = b;

	if (x->total_ms != y->total_ms)
		return x->total_ms > y->total_ms ? -1 : 1;
	return strcmp(x->cause, y->cause);
}

static int causes_build(struct aggregate *agg)
{
	const struct recording *rec = agg->rec;
	size_t i, j;

	agg->causes = calloc(rec->n_stalls ? rec->n_stalls : 1, sizeof(*agg->causes));
	if (!agg->causes)
		return -ENOMEM;
	for (i = 0; i < rec->n_stalls; i++) {
		const struct rf_stall *s = &rec->stalls[i];
		struct agg_cause *c = NULL;

		for (j = 0; j < agg->n_causes && !c; j++)
			if (!strcmp(agg->causes[j].cause, s->cause))
				c = &agg->causes[j];
		if (!c) {
			c = &agg->causes[agg->n_causes++];
			c->cause = s->cause;
		}
		c->stalls++;
		c->total_ms += s->duration_ms;
		if (s->duration_ms > c->max_ms)
			c->max_ms = s->duration_ms;
	}
	if (agg->n_causes) /* qsort's base must not be NULL, even for 0 elements */
		qsort(agg->causes, agg->n_causes, sizeof(*agg->causes), cause_cmp);
	return 0;
}

/* 1 us .. 5000 s on a 1-2-5 scale, then everything above. */
#define SCALE_DECADES 10
#define SCALE_EDGES (SCALE_DECADES * 3 + 1)

static double scale_edge(size_t i)
{
	static const double steps[] = {1, 2, 5};

	return steps[i % 3] * pow(10.0, (double)(i / 3) - 3.0);
}

static int buckets_build(struct aggregate *agg)
{
	unsigned counts[SCALE_EDGES] = {0};
	size_t i, b, first = SCALE_EDGES, last = 0;

	for (i = 0; i < agg->rec->n_stalls; i++) {
		double d = agg->rec->stalls[i].duration_ms;

		for (b = 0; b + 1 < SCALE_EDGES && d >= scale_edge(b + 1); b++)
			;
		counts[b]++;
		if (b < first)
			first = b;
		if (b > last)
			last = b;
	}
	if (first == SCALE_EDGES)
		return 0;
	agg->buckets = calloc(last - first + 1, sizeof(*agg->buckets));
	if (!agg->buckets)
		return -ENOMEM;
	for (b = first; b <= last; b++) {
		struct agg_bucket *k = &agg->buckets[agg->n_buckets++];

		k->lo_ms = b ? scale_edge(b) : 0;
		k->hi_ms = b + 1 < SCALE_EDGES ? scale_edge(b + 1) : INFINITY;
		k->stalls = counts[b];
	}
	return 0;
}

struct folder {
	struct aggregate *agg;
	size_t cap;
};

static int fold_add(struct folder *fo, char *frames, double ms)
{
	struct aggregate *agg = fo->agg;
	struct agg_folded *grown;
	size_t i;

	if (!frames)
		return -ENOMEM;
	if (ms <= 0) {
		free(frames);
		return 0;
	}
	for (i = 0; i < agg->n_folded; i++)
		if (!strcmp(agg->folded[i].frames, frames)) {
			agg->folded[i].weight_ms += ms;
			free(frames);
			return 0;
		}
	if (agg->n_folded == fo->cap) {
		fo->cap = fo->cap ? 2 * fo->cap : 32;
		grown = realloc(agg->folded, fo->cap * sizeof(*grown));
		if (!grown) {
			free(frames);
			return -ENOMEM;
		}
		agg->folded = grown;
	}
	agg->folded[agg->n_folded].frames = frames;
	agg->folded[agg->n_folded].weight_ms = ms;
	agg->n_folded++;
	return 0;
}

/* "comm;outermost;...;innermost", or "comm;[pseudo]" for time without a stack. */
static char *fold_frames(const char *comm, const struct rf_stack *st, const char *pseudo)
{
	struct sbuf b = {0};
	char name[256];
	size_t i, n;

	sb_add(&b, comm);
	if (st) {
		for (i = st->n; i-- > 0;) {
			sb_add(&b, ";");
			sb_add(&b, agg_frame_name(&st->frames[i], name, sizeof(name)));
		}
	} else {
		snprintf(name, sizeof(name), ";[%s]", pseudo);
		sb_add(&b, name);
	}
	if (b.err) {
		free(b.s);
		return NULL;
	}
	/* the comm is the root frame: it follows the frame rules too */
	for (i = 0, n = strlen(comm); i < n && i < b.len; i++)
		if (b.s[i] == ';')
			b.s[i] = ':';
		else if ((unsigned char)b.s[i] < 0x20)
			b.s[i] = ' ';
	return b.s;
}

/*
 * A stall's time as flame-graph weights, in ms: its on-CPU time shared out
 * over its CPU stacks by samples, each syscall's blocked time on its stack;
 * time without a stack under a bracketed pseudo frame.
 */
static int fold_stall(struct folder *fo, const struct rf_stall *s)
{
	uint64_t samples = 0;
	size_t i;
	int err = 0;

	for (i = 0; i < s->n_cpu_stacks; i++)
		if (s->cpu_stacks[i].stack.n)
			samples += s->cpu_stacks[i].samples;
	for (i = 0; i < s->n_cpu_stacks && samples && !err; i++)
		if (s->cpu_stacks[i].stack.n)
			err = fold_add(fo, fold_frames(s->comm, &s->cpu_stacks[i].stack, NULL),
				       s->on_cpu_ms * (double)s->cpu_stacks[i].samples /
					   (double)samples);
	if (!samples && !err)
		err = fold_add(fo, fold_frames(s->comm, NULL, "on-CPU"), s->on_cpu_ms);
	for (i = 0; i < s->n_syscalls && !err; i++) {
		const struct rf_syscall *u = &s->syscalls[i];

		err = fold_add(fo, fold_frames(s->comm, u->stack.n ? &u->stack : NULL, u->name),
			       u->total_ms);
	}
	if (!err)
		err = fold_add(fo, fold_frames(s->comm, NULL, "run queue"), s->runqueue_ms);
	if (!err)
		err = fold_add(fo, fold_frames(s->comm, NULL, "page fault"), s->fault_blocked_ms);
	return err;
}

static int folded_cmp(const void *a, const void *b)
{
	return strcmp(((const struct agg_folded *)a)->frames,
		      ((const struct agg_folded *)b)->frames);
}

static int folded_build(struct aggregate *agg)
{
	struct folder fo = {.agg = agg};
	size_t i;
	int err;

	for (i = 0; i < agg->rec->n_stalls; i++) {
		err = fold_stall(&fo, &agg->rec->stalls[i]);
		if (err)
			return err;
	}
	if (agg->n_folded)
		qsort(agg->folded, agg->n_folded, sizeof(*agg->folded), folded_cmp);
	return 0;
}

int aggregate__new(const struct recording *rec, struct aggregate **out)
{
	struct aggregate *agg = calloc(1, sizeof(*agg));
	size_t i;
	int err = -ENOMEM;

	*out = NULL;
	if (!agg)
		return -ENOMEM;
	agg->rec = rec;
	agg->recorded_ms = recording__recorded_ms(rec);
	agg->threshold_ms = recording__threshold_ms(rec);
	agg->start_unix_ns = rec->n_summaries ? rec->summary.start_unix_ns : 0;
	agg->stalls = (unsigned)rec->n_stalls;
	agg->by_duration = calloc(rec->n_stalls ? rec->n_stalls : 1, sizeof(*agg->by_duration));
	if (!agg->by_duration)
		goto cleanup;
	for (i = 0; i < rec->n_stalls; i++) {
		const struct rf_stall *s = &rec->stalls[i];

		agg->by_duration[i] = s;
		agg->stalled_ms += s->duration_ms;
		agg->cut_short += s->cut_short;
		if (s->duration_ms > agg->longest_ms)
			agg->longest_ms = s->duration_ms;
		if (!agg->start_unix_ns ||
		    (s->start_unix_ns && s->start_unix_ns < agg->start_unix_ns))
			agg->start_unix_ns = s->start_unix_ns;
	}
	qsort(agg->by_duration, rec->n_stalls, sizeof(*agg->by_duration), by_duration_cmp);
	err = causes_build(agg);
	if (!err)
		err = buckets_build(agg);
	if (!err)
		err = culprits_build(agg);
	if (!err && agg->n_culprits)
		qsort(agg->culprits, agg->n_culprits, sizeof(*agg->culprits), culprit_cmp);
	if (!err)
		err = folded_build(agg);
	if (err)
		goto cleanup;
	*out = agg;
	agg = NULL;
cleanup:
	aggregate__free(agg);
	return err;
}

void aggregate__free(struct aggregate *agg)
{
	size_t i;

	if (!agg)
		return;
	for (i = 0; i < agg->n_culprits; i++)
		free(agg->culprits[i].key);
	free(agg->culprits);
	for (i = 0; i < agg->n_folded; i++)
		free(agg->folded[i].frames);
	free(agg->folded);
	free(agg->causes);
	free(agg->buckets);
	free(agg->by_duration);
	free(agg);
}
