// SPDX-License-Identifier: BSD-2-Clause
/*
 * Reading recordings back. Lenient where the contract allows it (unknown
 * record types and fields, optional fields missing), strict where a reader
 * would otherwise guess: a line that is not JSON, a record without a type or
 * of another schema_version, a stall without its duration or cause.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "recfile.h"

#define SCHEMA_VERSION 1

static void fail(struct rf_error *err, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct rf_error *err, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

static const cJSON *field(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = field(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0.0;
}

/* Counts and ids: negative or absurd values read as 0 rather than wrapping. */
static uint64_t count(const cJSON *o, const char *key)
{
	double v = num(o, key);

	return v > 0 && v < 1.8e19 ? (uint64_t)v : 0;
}

/*
 * cJSON holds numbers as doubles, which keep a ns timestamp to about 256 ns:
 * round to the microsecond, so what is printed again is exact to what it says.
 */
static int64_t unix_ns(const cJSON *o, const char *key)
{
	double v = num(o, key);

	return v > 0 && v < 9.2e18 ? (int64_t)llround(v / 1e3) * 1000 : 0;
}

/* A copy of a string field; NULL when it is absent or null, or fallback when given. */
static int str(const cJSON *o, const char *key, const char *fallback, char **out)
{
	const cJSON *v = field(o, key);
	const char *s = cJSON_IsString(v) ? v->valuestring : fallback;

	*out = NULL;
	if (!s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static void stack_free(struct rf_stack *st)
{
	size_t i;

	for (i = 0; i < st->n; i++) {
		free(st->frames[i].addr);
		free(st->frames[i].symbol);
		free(st->frames[i].module);
		free(st->frames[i].file);
	}
	free(st->frames);
	st->frames = NULL;
	st->n = 0;
}

static int stack_parse(const cJSON *arr, struct rf_stack *st)
{
	const cJSON *f;
	int n = cJSON_GetArraySize(arr), err;

	st->n = 0;
	st->frames = NULL;
	if (!cJSON_IsArray(arr) || n <= 0)
		return 0;
	st->frames = calloc((size_t)n, sizeof(*st->frames));
	if (!st->frames)
		return -ENOMEM;
	cJSON_ArrayForEach(f, arr) {
		struct rf_frame *fr = &st->frames[st->n];
		const cJSON *line, *kind;

		if (!cJSON_IsObject(f))
			continue;
		st->n++;
		line = field(f, "line");
		/* a line number that no long holds (1e300) is as unknown as none */
		fr->line = cJSON_IsNumber(line) && line->valuedouble >= 0 &&
				   line->valuedouble < 2147483648.0 ?
				   (long)line->valuedouble :
				   -1;
		kind = field(f, "kind");
		fr->kind = !cJSON_IsString(kind)		   ? RF_KIND_NATIVE :
			   !strcmp(kind->valuestring, "python") ? RF_KIND_PYTHON :
			   !strcmp(kind->valuestring, "js")	   ? RF_KIND_JS :
								     RF_KIND_NATIVE;
		err = str(f, "addr", "0x0", &fr->addr);
		if (!err)
			err = str(f, "symbol", NULL, &fr->symbol);
		if (!err)
			err = str(f, "module", NULL, &fr->module);
		if (!err)
			err = str(f, "file", NULL, &fr->file);
		if (err)
			return err;
	}
	return 0;
}

#define STACK_BUCKETS 1024

struct rf_stack_entry {
	struct rf_stack_entry *next;
	char *id;
	struct rf_stack st;
};

struct rf_stacks {
	struct rf_stack_entry *bucket[STACK_BUCKETS];
};

static size_t id_bucket(const char *id)
{
	size_t h = 5381;

	for (; *id; id++)
		h = h * 33 + (unsigned char)*id;
	return h % STACK_BUCKETS;
}

static const struct rf_stack *stacks_find(const struct rf_stacks *t, const char *id)
{
	const struct rf_stack_entry *e;

	if (!t)
		return NULL;
	for (e = t->bucket[id_bucket(id)]; e; e = e->next)
		if (!strcmp(e->id, id))
			return &e->st;
	return NULL;
}

static void stacks_free(struct rf_stacks *t)
{
	struct rf_stack_entry *e, *next;
	size_t i;

	if (!t)
		return;
	for (i = 0; i < STACK_BUCKETS; i++) {
		for (e = t->bucket[i]; e; e = next) {
			next = e->next;
			stack_free(&e->st);
			free(e->id);
			free(e);
		}
	}
	free(t);
}

static char *dup_or_null(const char *s, int *err)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*err = -ENOMEM;
	return d;
}

static int stack_copy(const struct rf_stack *from, struct rf_stack *to)
{
	size_t i;
	int err = 0;

	to->frames = calloc(from->n ? from->n : 1, sizeof(*to->frames));
	if (!to->frames)
		return -ENOMEM;
	to->n = from->n;
	to->frames_cut = from->frames_cut;
	for (i = 0; i < from->n; i++) {
		const struct rf_frame *f = &from->frames[i];
		struct rf_frame *g = &to->frames[i];

		g->line = f->line;
		g->kind = f->kind;
		g->addr = dup_or_null(f->addr, &err);
		g->symbol = dup_or_null(f->symbol, &err);
		g->module = dup_or_null(f->module, &err);
		g->file = dup_or_null(f->file, &err);
	}
	return err;
}

/* A "stack" record: kept by its id (the first of the same id: they are the same stack). */
static int stack_record_add(struct recording *rec, const cJSON *o, unsigned lineno,
			    struct rf_error *err)
{
	const cJSON *id = field(o, "id");
	struct rf_stack_entry *e;
	size_t b;
	int ret;

	if (!cJSON_IsString(id) || !*id->valuestring || !cJSON_IsArray(field(o, "frames"))) {
		fail(err, lineno, "stack record without an id string and a frames array");
		return -EINVAL;
	}
	if (stacks_find(rec->stacks, id->valuestring))
		return 0;
	if (!rec->stacks) {
		rec->stacks = calloc(1, sizeof(*rec->stacks));
		if (!rec->stacks)
			return -ENOMEM;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->id = strdup(id->valuestring);
	ret = e->id ? stack_parse(field(o, "frames"), &e->st) : -ENOMEM;
	if (ret) {
		stack_free(&e->st);
		free(e->id);
		free(e);
		return ret;
	}
	e->st.frames_cut = count(o, "frames_cut");
	b = id_bucket(e->id);
	e->next = rec->stacks->bucket[b];
	rec->stacks->bucket[b] = e;
	return 0;
}

/*
 * An element's stack: its "stack" array, or, when that is empty and a
 * "stack_ref" names a stack record read before, a copy of that one.
 */
static int stack_read(struct recording *rec, const cJSON *el, struct rf_stack *st)
{
	const cJSON *ref = field(el, "stack_ref");
	const struct rf_stack *found;
	int err = stack_parse(field(el, "stack"), st);

	if (err || st->n || !cJSON_IsString(ref))
		return err;
	found = stacks_find(rec->stacks, ref->valuestring);
	if (!found) {
		rec->unresolved_stack_refs++;
		return 0;
	}
	free(st->frames);
	st->frames = NULL;
	return stack_copy(found, st);
}

static void stall_free(struct rf_stall *s)
{
	size_t i;

	free(s->comm);
	free(s->cause);
	free(s->advice);
	free(s->task_coroutine);
	free(s->task_name);
	free(s->task_file);
	for (i = 0; i < s->n_syscalls; i++) {
		free(s->syscalls[i].name);
		free(s->syscalls[i].target);
		free(s->syscalls[i].target_kind);
		stack_free(&s->syscalls[i].stack);
	}
	free(s->syscalls);
	for (i = 0; i < s->n_cpu_stacks; i++)
		stack_free(&s->cpu_stacks[i].stack);
	free(s->cpu_stacks);
	if (s->callback) {
		free(s->callback->symbol);
		free(s->callback->watcher);
		free(s->callback->span);
		free(s->callback->task);
		free(s->callback->resumed_at);
		free(s->callback->suspended_at);
		free(s->callback);
	}
	free(s->source);
	memset(s, 0, sizeof(*s));
}

static int syscalls_parse(struct recording *rec, const cJSON *arr, struct rf_stall *s)
{
	const cJSON *c;
	int n = cJSON_GetArraySize(arr), err;

	if (!cJSON_IsArray(arr) || n <= 0)
		return 0;
	s->syscalls = calloc((size_t)n, sizeof(*s->syscalls));
	if (!s->syscalls)
		return -ENOMEM;
	cJSON_ArrayForEach(c, arr) {
		struct rf_syscall *u = &s->syscalls[s->n_syscalls];

		if (!cJSON_IsObject(c))
			continue;
		s->n_syscalls++;
		u->count = count(c, "count");
		u->total_ms = num(c, "total_ms");
		u->max_ms = num(c, "max_ms");
		err = str(c, "name", "?", &u->name);
		if (!err)
			err = str(c, "target", NULL, &u->target);
		if (!err)
			err = str(c, "target_kind", NULL, &u->target_kind);
		if (!err)
			err = stack_read(rec, c, &u->stack);
		if (err)
			return err;
	}
	return 0;
}

static int task_parse(const cJSON *o, struct rf_stall *s)
{
	const cJSON *line = field(o, "line");
	int err;

	s->task_line = -1;
	if (!cJSON_IsObject(o))
		return 0;
	err = str(o, "coroutine", NULL, &s->task_coroutine);
	if (!err)
		err = str(o, "name", NULL, &s->task_name);
	if (!err)
		err = str(o, "file", NULL, &s->task_file);
	if (cJSON_IsNumber(line) && line->valuedouble >= 1 && line->valuedouble < 2147483648.0)
		s->task_line = (long)line->valuedouble;
	return err;
}

static int cpu_stacks_parse(struct recording *rec, const cJSON *arr, struct rf_stall *s)
{
	const cJSON *c;
	int n = cJSON_GetArraySize(arr), err;

	if (!cJSON_IsArray(arr) || n <= 0)
		return 0;
	s->cpu_stacks = calloc((size_t)n, sizeof(*s->cpu_stacks));
	if (!s->cpu_stacks)
		return -ENOMEM;
	cJSON_ArrayForEach(c, arr) {
		struct rf_cpu_stack *cs = &s->cpu_stacks[s->n_cpu_stacks];

		if (!cJSON_IsObject(c))
			continue;
		s->n_cpu_stacks++;
		cs->samples = count(c, "samples");
		err = stack_read(rec, c, &cs->stack);
		if (err)
			return err;
	}
	return 0;
}

static int callback_parse(const cJSON *o, struct rf_stall *s)
{
	int err;

	if (!cJSON_IsObject(o))
		return 0;
	s->callback = calloc(1, sizeof(*s->callback));
	if (!s->callback)
		return -ENOMEM;
	s->callback->started_ms_ago = num(o, "started_ms_ago");
	s->callback->duration_ms =
		cJSON_IsNumber(field(o, "duration_ms")) ? num(o, "duration_ms") : -1.0;
	err = str(o, "symbol", NULL, &s->callback->symbol);
	if (!err)
		err = str(o, "watcher", "?", &s->callback->watcher);
	if (!err)
		err = str(field(o, "span"), "name", NULL, &s->callback->span);
	if (!err)
		err = str(o, "task", NULL, &s->callback->task);
	if (!err)
		err = str(o, "resumed_at", NULL, &s->callback->resumed_at);
	if (!err)
		err = str(o, "suspended_at", NULL, &s->callback->suspended_at);
	return err;
}

static int stall_parse(struct recording *rec, const cJSON *o, unsigned lineno, struct rf_stall *s,
		       struct rf_error *err)
{
	int ret;

	memset(s, 0, sizeof(*s));
	if (!cJSON_IsNumber(field(o, "duration_ms"))) {
		fail(err, lineno, "stall record without a duration_ms number");
		return -EINVAL;
	}
	if (!cJSON_IsString(field(o, "cause"))) {
		fail(err, lineno, "stall record without a cause");
		return -EINVAL;
	}
	s->line = lineno;
	s->pid = (uint32_t)count(o, "pid");
	s->tid = (uint32_t)count(o, "tid");
	s->start_unix_ns = unix_ns(o, "start_unix_ns");
	s->end_unix_ns = unix_ns(o, "end_unix_ns");
	s->duration_ms = num(o, "duration_ms");
	s->threshold_ms = num(o, "threshold_ms");
	s->on_cpu_ms = num(o, "on_cpu_ms");
	s->off_cpu_ms = num(o, "off_cpu_ms");
	s->runqueue_ms = num(o, "runqueue_ms");
	s->fault_blocked_ms = num(o, "fault_blocked_ms");
	s->major_faults = count(o, "major_faults");
	s->voluntary_switches = count(o, "voluntary_switches");
	s->involuntary_switches = count(o, "involuntary_switches");
	s->cut_short = cJSON_IsTrue(field(o, "cut_short"));
	ret = str(o, "comm", "?", &s->comm);
	if (!ret)
		ret = str(o, "cause", NULL, &s->cause);
	if (!ret)
		ret = str(o, "advice", "", &s->advice);
	if (!ret)
		ret = str(o, "source", NULL, &s->source);
	if (!ret)
		ret = syscalls_parse(rec, field(o, "syscalls"), s);
	if (!ret)
		ret = cpu_stacks_parse(rec, field(o, "cpu_stacks"), s);
	if (!ret)
		ret = callback_parse(field(o, "callback"), s);
	if (!ret)
		ret = task_parse(field(o, "task"), s);
	if (ret)
		stall_free(s);
	return ret;
}

static int thread_parse(const cJSON *o, struct rf_thread *t)
{
	const cJSON *gap = field(o, "heartbeat_gap_ms");

	t->pid = (uint32_t)count(o, "pid");
	t->tid = (uint32_t)count(o, "tid");
	t->iterations = count(o, "iterations");
	t->busy_ms = num(o, "busy_ms");
	t->busy_ratio = num(o, "busy_ratio");
	t->stalls = count(o, "stalls");
	t->max_busy_ms = num(o, "max_busy_ms");
	t->gap_p50_ms = num(gap, "p50");
	t->gap_p90_ms = num(gap, "p90");
	t->gap_p99_ms = num(gap, "p99");
	t->gap_max_ms = num(gap, "max");
	return str(o, "comm", "?", &t->comm);
}

bool rf_filter__active(const struct rf_filter *f)
{
	return f->since_unix_ns || f->until_unix_ns || f->pid || f->target;
}

/* The part of [start, end) inside the filter's window, in ms; -1 when none of it is. */
static double in_window_ms(const struct rf_filter *f, int64_t start, int64_t end)
{
	int64_t lo = start, hi = end;

	if (f->since_unix_ns && lo < f->since_unix_ns)
		lo = f->since_unix_ns;
	if (f->until_unix_ns && hi > f->until_unix_ns)
		hi = f->until_unix_ns;
	return hi >= lo ? (double)(hi - lo) / 1e6 : -1.0;
}

/* Folds one summary record into rec->summary. */
static int summary_add(struct recording *rec, const cJSON *o)
{
	struct rf_summary *sum = &rec->summary;
	const cJSON *threads = field(o, "threads"), *t;
	int n = cJSON_GetArraySize(threads), err;
	struct rf_thread *grown;
	int64_t start = unix_ns(o, "start_unix_ns"), end = unix_ns(o, "end_unix_ns");
	double recorded_ms = num(o, "recorded_ms");

	/* a time window: the recording's part of it (the gap percentiles stay whole) */
	if ((rec->filter.since_unix_ns || rec->filter.until_unix_ns) && start && end) {
		double in = in_window_ms(&rec->filter, start, end);

		if (in < recorded_ms)
			recorded_ms = in;
		if (rec->filter.since_unix_ns && start < rec->filter.since_unix_ns)
			start = rec->filter.since_unix_ns;
		if (rec->filter.until_unix_ns && end > rec->filter.until_unix_ns)
			end = rec->filter.until_unix_ns;
	}
	if (rec->n_summaries++ == 0) {
		sum->pid = (uint32_t)count(o, "pid");
		sum->threshold_ms = num(o, "threshold_ms");
		sum->start_unix_ns = start;
		sum->end_unix_ns = end;
		err = str(o, "comm", "?", &sum->comm);
		if (err)
			return err;
	} else {
		if (start && (!sum->start_unix_ns || start < sum->start_unix_ns))
			sum->start_unix_ns = start;
		if (end > sum->end_unix_ns)
			sum->end_unix_ns = end;
	}
	sum->recorded_ms += recorded_ms;
	sum->stalls += count(o, "stalls");
	sum->lost_events += count(o, "lost_events");
	if (!cJSON_IsArray(threads) || n <= 0)
		return 0;
	grown = realloc(sum->threads, (sum->n_threads + (size_t)n) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	sum->threads = grown;
	cJSON_ArrayForEach(t, threads) {
		struct rf_thread *th = &sum->threads[sum->n_threads];

		if (!cJSON_IsObject(t))
			continue;
		memset(th, 0, sizeof(*th));
		sum->n_threads++;
		err = thread_parse(t, th);
		if (err)
			return err;
	}
	return 0;
}

static int stall_add(struct recording *rec, const cJSON *o, unsigned lineno,
		     struct rf_error *err)
{
	const cJSON *phase = cJSON_GetObjectItemCaseSensitive(o, "phase");
	const cJSON *dur = cJSON_GetObjectItemCaseSensitive(o, "duration_ms");
	struct rf_stall *grown;
	size_t cap;
	int ret;

	/* the process's exit after its loop returned: no callback's doing, so no stall of the report's */
	if (cJSON_IsString(phase) && !strcmp(phase->valuestring, "exit")) {
		rec->n_exit_periods++;
		if (cJSON_IsNumber(dur) && dur->valuedouble > 0)
			rec->exit_periods_ms += dur->valuedouble;
		return 0;
	}
	if (rec->n_stalls == rec->cap_stalls) {
		cap = rec->cap_stalls ? 2 * rec->cap_stalls : 16;
		grown = realloc(rec->stalls, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		rec->stalls = grown;
		rec->cap_stalls = cap;
	}
	ret = stall_parse(rec, o, lineno, &rec->stalls[rec->n_stalls], err);
	if (!ret)
		rec->n_stalls++;
	return ret;
}

static bool blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!isspace((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * Whether a record passes rec's filter. A stall is in the window when it
 * began in it; a summary when its recording overlaps it (the pid and the
 * target as for stalls). Records of other types pass.
 */
static bool keep(const struct recording *rec, const char *type, const cJSON *o)
{
	const struct rf_filter *f = &rec->filter;
	bool stall = !strcmp(type, "stall"), summary = !strcmp(type, "summary");

	if (!rf_filter__active(f) || (!stall && !summary))
		return true;
	if (f->pid && count(o, "pid") != f->pid)
		return false;
	if (f->target) {
		const cJSON *t = field(o, "target"), *c = field(o, "comm");
		const char *name = cJSON_IsString(t)   ? t->valuestring
				   : cJSON_IsString(c) ? c->valuestring
						       : "";

		if (strcmp(name, f->target))
			return false;
	}
	if (stall) {
		/* times are read to the microsecond (unix_ns): bounds compare alike */
		int64_t start = unix_ns(o, "start_unix_ns");

		return (!f->since_unix_ns || start >= f->since_unix_ns / 1000 * 1000) &&
		       (!f->until_unix_ns || start < f->until_unix_ns / 1000 * 1000);
	}
	/* a summary without its times cannot be placed: kept */
	if (!unix_ns(o, "start_unix_ns") || !unix_ns(o, "end_unix_ns"))
		return true;
	return in_window_ms(f, unix_ns(o, "start_unix_ns"), unix_ns(o, "end_unix_ns")) >= 0;
}

static int record_add(struct recording *rec, const cJSON *o, unsigned lineno,
		      struct rf_error *err)
{
	const cJSON *type = field(o, "type"), *version = field(o, "schema_version");

	if (!cJSON_IsObject(o)) {
		fail(err, lineno, "not a record (a JSON object)");
		return -EINVAL;
	}
	if (!cJSON_IsString(type)) {
		fail(err, lineno, "record without a type");
		return -EINVAL;
	}
	if (!cJSON_IsNumber(version)) {
		fail(err, lineno, "record without a schema_version");
		return -EINVAL;
	}
	if (version->valuedouble != SCHEMA_VERSION) {
		fail(err, lineno, "schema_version %g is not one this loopstall reads (%d)",
		     version->valuedouble, SCHEMA_VERSION);
		return -EINVAL;
	}
	rec->records++;
	if (!keep(rec, type->valuestring, o)) {
		rec->filtered_out++;
		return 0;
	}
	if (!strcmp(type->valuestring, "stall"))
		return stall_add(rec, o, lineno, err);
	if (!strcmp(type->valuestring, "summary"))
		return summary_add(rec, o);
	if (!strcmp(type->valuestring, "stack"))
		return stack_record_add(rec, o, lineno, err);
	if (!strcmp(type->valuestring, "stall_begin"))
		rec->n_stall_begins++;
	else
		rec->unknown_types++;
	return 0;
}

struct recording *recording__new(void)
{
	return calloc(1, sizeof(struct recording));
}

int recording__add_line(struct recording *rec, const char *line, size_t len, unsigned lineno,
			struct rf_error *err)
{
	const char *end = NULL;
	cJSON *o;
	int ret;

	if (err)
		err->msg[0] = '\0';
	if (blank(line, len))
		return 0;
	o = cJSON_ParseWithLengthOpts(line, len, &end, false);
	/* trailing garbage, or a NUL byte inside the line, is as bad as no JSON */
	if (!o || !end || !blank(end, len - (size_t)(end - line))) {
		cJSON_Delete(o);
		fail(err, lineno, "malformed JSON");
		return -EINVAL;
	}
	ret = record_add(rec, o, lineno, err);
	cJSON_Delete(o);
	return ret;
}

int recording__read_more(struct recording *rec, FILE *f, struct rf_error *err)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	int ret = 0;

	if (err) {
		err->line = 0;
		err->msg[0] = '\0';
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		ret = recording__add_line(rec, line, (size_t)n, lineno, err);
		if (ret == -EINVAL && line[n - 1] != '\n' && err &&
		    !strcmp(err->msg, "malformed JSON"))
			snprintf(err->msg, sizeof(err->msg),
				 "malformed JSON (the file ends mid-line: was the recorder killed?)");
		if (ret)
			goto cleanup;
	}
	if (ferror(f))
		ret = errno ? -errno : -EIO;
cleanup:
	free(line);
	return ret;
}

int recording__read(FILE *f, struct recording **out, struct rf_error *err)
{
	struct recording *rec = recording__new();
	int ret;

	*out = NULL;
	if (err) {
		err->line = 0;
		err->msg[0] = '\0';
	}
	if (!rec)
		return -ENOMEM;
	ret = recording__read_more(rec, f, err);
	if (ret)
		goto cleanup;
	if (!rec->records) {
		fail(err, 0, "no loopstall records in it");
		ret = -EINVAL;
		goto cleanup;
	}
	*out = rec;
	rec = NULL;
cleanup:
	recording__free(rec);
	return ret;
}

static int by_start(const void *a, const void *b)
{
	const struct rf_stall *x = a, *y = b;

	if (x->start_unix_ns != y->start_unix_ns)
		return x->start_unix_ns < y->start_unix_ns ? -1 : 1;
	/* qsort is not stable: the order read breaks ties */
	return x->order < y->order ? -1 : x->order > y->order;
}

void recording__sort_stalls(struct recording *rec)
{
	size_t i;

	for (i = 0; i < rec->n_stalls; i++)
		rec->stalls[i].order = i;
	if (rec->n_stalls > 1)
		qsort(rec->stalls, rec->n_stalls, sizeof(*rec->stalls), by_start);
}

static size_t add_pid(uint32_t *pids, size_t n, size_t max, uint32_t pid)
{
	size_t i, j;

	if (!pid)
		return n;
	for (i = 0; i < n && pids[i] < pid; i++)
		;
	if ((i < n && pids[i] == pid) || n == max)
		return n;
	for (j = n; j > i; j--)
		pids[j] = pids[j - 1];
	pids[i] = pid;
	return n + 1;
}

size_t recording__pids(const struct recording *rec, uint32_t *pids, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < rec->n_stalls; i++)
		n = add_pid(pids, n, max, rec->stalls[i].pid);
	for (i = 0; i < rec->summary.n_threads; i++)
		n = add_pid(pids, n, max, rec->summary.threads[i].pid);
	if (rec->n_summaries)
		n = add_pid(pids, n, max, rec->summary.pid);
	return n;
}

void recording__free(struct recording *rec)
{
	size_t i;

	if (!rec)
		return;
	for (i = 0; i < rec->n_stalls; i++)
		stall_free(&rec->stalls[i]);
	free(rec->stalls);
	for (i = 0; i < rec->summary.n_threads; i++)
		free(rec->summary.threads[i].comm);
	free(rec->summary.threads);
	free(rec->summary.comm);
	stacks_free(rec->stacks);
	free(rec);
}

double recording__recorded_ms(const struct recording *rec)
{
	int64_t lo = 0, hi = 0;
	size_t i;

	if (rec->n_summaries)
		return rec->summary.recorded_ms;
	for (i = 0; i < rec->n_stalls; i++) {
		const struct rf_stall *s = &rec->stalls[i];

		if (!lo || s->start_unix_ns < lo)
			lo = s->start_unix_ns;
		if (s->end_unix_ns > hi)
			hi = s->end_unix_ns;
	}
	return hi > lo ? (double)(hi - lo) / 1e6 : 0.0;
}

double recording__threshold_ms(const struct recording *rec)
{
	if (rec->n_summaries && rec->summary.threshold_ms > 0)
		return rec->summary.threshold_ms;
	return rec->n_stalls ? rec->stalls[0].threshold_ms : 0.0;
}
