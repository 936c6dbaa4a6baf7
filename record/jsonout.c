// SPDX-License-Identifier: BSD-2-Clause
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "jsonout.h"
#include "probe_shm.h"
#include "utf8.h"

/*
 * A string into a record. Process names, file paths and symbols come from
 * the traced process and may be any bytes; JSON text must be UTF-8, so an
 * invalid byte becomes U+FFFD.
 */
static void add_text(cJSON *o, const char *key, const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t len = strlen(v), i = 0, out = 0, n;
	char *clean;

	while (i < len && (n = utf8_seq_len(p + i)))
		i += n;
	if (i == len) {
		cJSON_AddStringToObject(o, key, v);
		return;
	}
	clean = malloc(3 * len + 1);
	if (!clean)
		return;
	for (i = 0; i < len;) {
		n = utf8_seq_len(p + i);
		if (n) {
			memcpy(clean + out, v + i, n);
			out += n;
			i += n;
		} else {
			memcpy(clean + out, "\xef\xbf\xbd", 3);
			out += 3;
			i++;
		}
	}
	clean[out] = '\0';
	cJSON_AddStringToObject(o, key, clean);
	free(clean);
}

/* Milliseconds rounded to the microsecond: precise, and short to print. */
static double ms(uint64_t ns)
{
	return round((double)ns / 1e3) / 1e3;
}

static cJSON *record(const char *type)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	add_text(o, "type", type);
	cJSON_AddNumberToObject(o, "schema_version", LS_SCHEMA_VERSION);
	return o;
}

/* Raw text: cJSON keeps numbers as doubles and would print ns timestamps as 1.7e+18. */
static void add_int(cJSON *o, const char *key, int64_t v)
{
	char text[24];

	snprintf(text, sizeof(text), "%lld", (long long)v);
	cJSON_AddRawToObject(o, key, text);
}

/* A record about a loop thread, or a whole process (tid 0): who, and since when. */
static cJSON *record_of(const char *type, uint32_t pid, uint32_t tid, const char *comm,
			int64_t start_unix_ns)
{
	cJSON *o = record(type);

	if (!o)
		return NULL;
	add_int(o, "pid", pid);
	if (tid)
		add_int(o, "tid", tid);
	add_text(o, "comm", comm);
	add_int(o, "start_unix_ns", start_unix_ns);
	return o;
}

static char *finish(cJSON *o)
{
	char *line = NULL;

	/* cJSON's adders return NULL on allocation failure without telling the object */
	if (o)
		line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return line;
}

static void add_str_or_null(cJSON *o, const char *key, const char *v)
{
	if (v)
		add_text(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static cJSON *stack_json(const struct ls_stack *st)
{
	cJSON *arr = cJSON_CreateArray();
	char addr[24];
	unsigned i;

	for (i = 0; arr && i < st->n; i++) {
		const struct ls_frame *f = &st->frames[i];
		cJSON *o = cJSON_CreateObject();

		if (!o)
			break;
		snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)f->addr);
		add_text(o, "addr", addr);
		add_str_or_null(o, "symbol", f->symbol);
		add_str_or_null(o, "module", f->module);
		add_str_or_null(o, "file", f->file);
		if (f->line > 0)
			add_int(o, "line", f->line);
		else
			cJSON_AddNullToObject(o, "line");
		if (f->inlined)
			cJSON_AddBoolToObject(o, "inlined", true);
		add_text(o, "kind", ls_frame_kind_name((enum ls_frame_kind)f->kind));
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *syscall_json(const struct ls_syscall_use *u)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	add_text(o, "name", u->name);
	add_int(o, "nr", u->nr);
	add_int(o, "count", u->count);
	cJSON_AddNumberToObject(o, "total_ms", ms(u->total_ns));
	cJSON_AddNumberToObject(o, "max_ms", ms(u->max_ns));
	if (u->fd >= 0)
		add_int(o, "fd", u->fd);
	else
		cJSON_AddNullToObject(o, "fd");
	if (u->target[0])
		add_text(o, "target", u->target);
	else
		cJSON_AddNullToObject(o, "target");
	if (ls_target_kind_name(u->target_kind))
		add_text(o, "target_kind", ls_target_kind_name(u->target_kind));
	else
		cJSON_AddNullToObject(o, "target_kind");
	cJSON_AddItemToObject(o, "stack", stack_json(&u->stack));
	return o;
}

/* A callback libprobe recorded; started_ms_ago counts back from ref_ns (the stall's end). */
static cJSON *probe_cb_json(const struct ls_probe_cb *c, uint64_t ref_ns)
{
	cJSON *o = cJSON_CreateObject();
	const char *arg = ls_probe_arg_name(c);
	char addr[24];

	if (!o)
		return NULL;
	if (c->symbol[0])
		add_text(o, "symbol", c->symbol);
	else
		cJSON_AddNullToObject(o, "symbol");
	add_text(o, "watcher", ls_probe_watcher_name(c->watcher));
	cJSON_AddNumberToObject(o, "started_ms_ago",
				ms(ref_ns > c->start_ns ? ref_ns - c->start_ns : 0));
	if (c->end_ns)
		cJSON_AddNumberToObject(o, "duration_ms", ms(c->end_ns - c->start_ns));
	else
		cJSON_AddNullToObject(o, "duration_ms");
	snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)c->addr);
	add_text(o, "address", addr);
	if (c->module[0])
		add_text(o, "module", c->module);
	else
		cJSON_AddNullToObject(o, "module");
	if (arg)
		add_int(o, arg, c->arg);
	if (c->interval_ns)
		cJSON_AddNumberToObject(o, "interval_ms", ms(c->interval_ns));
	if (c->line > 0)
		add_int(o, "line", c->line);
	/* an asyncio Task step: which task, and the awaits it ran between */
	if (c->is_task) {
		const char *const keys[] = {"task", "coroutine", "resumed_at", "suspended_at"};
		const char *const vals[] = {c->task, c->symbol, c->resumed_at, c->suspended_at};
		unsigned k;

		for (k = 0; k < 4; k++) {
			if (vals[k][0])
				add_text(o, keys[k], vals[k]);
			else
				cJSON_AddNullToObject(o, keys[k]);
		}
	}
	return o;
}

static cJSON *callback_json(const struct ls_stall_callback *cb, uint64_t end_ns)
{
	cJSON *o, *span, *recent;
	unsigned i;

	if (!cb->present)
		return cJSON_CreateNull();
	o = probe_cb_json(&cb->cb, end_ns);
	if (!o)
		return NULL;
	cJSON_AddBoolToObject(o, "running", !cb->cb.end_ns);
	if (cb->span[0]) {
		span = cJSON_AddObjectToObject(o, "span");
		if (span) {
			add_text(span, "name", cb->span);
			cJSON_AddNumberToObject(
			    span, "started_ms_ago",
			    ms(end_ns > cb->span_start_ns ? end_ns - cb->span_start_ns : 0));
			if (cb->span_end_ns > cb->span_start_ns)
				cJSON_AddNumberToObject(span, "duration_ms",
							ms(cb->span_end_ns - cb->span_start_ns));
			else
				cJSON_AddNullToObject(span, "duration_ms");
		}
	}
	recent = cJSON_AddArrayToObject(o, "recent");
	for (i = 0; recent && i < cb->n_recent; i++)
		cJSON_AddItemToArray(recent, probe_cb_json(&cb->recent[i], end_ns));
	return o;
}

char *ls_json_stall(const struct ls_stall *s, int64_t start_unix_ns, int64_t end_unix_ns)
{
	cJSON *o = record_of("stall", s->pid, s->tid, s->comm, start_unix_ns), *calls;
	unsigned i;

	if (!o)
		return NULL;
	add_int(o, "end_unix_ns", end_unix_ns);
	cJSON_AddNumberToObject(o, "duration_ms", ms(s->end_ns - s->start_ns));
	cJSON_AddNumberToObject(o, "threshold_ms", ms(s->threshold_ns));
	add_text(o, "cause", ls_cause_name(s->cause));
	cJSON_AddNumberToObject(o, "on_cpu_ms", ms(s->on_cpu_ns));
	cJSON_AddNumberToObject(o, "off_cpu_ms", ms(s->off_cpu_ns));
	cJSON_AddNumberToObject(o, "runqueue_ms", ms(s->runq_ns));
	cJSON_AddNumberToObject(o, "fault_blocked_ms", ms(s->fault_ns));
	add_int(o, "major_faults", (int64_t)s->major_faults);
	add_int(o, "voluntary_switches", s->nvcsw);
	add_int(o, "involuntary_switches", s->nivcsw);
	cJSON_AddBoolToObject(o, "cut_short", s->cut_short);
	if (s->loop_gone)
		add_text(o, "phase", "exit");
	if (s->began_before_attach)
		cJSON_AddBoolToObject(o, "began_before_attach", true);
	calls = cJSON_AddArrayToObject(o, "syscalls");
	for (i = 0; calls && i < s->n_syscalls; i++)
		cJSON_AddItemToArray(calls, syscall_json(&s->syscalls[i]));
	calls = cJSON_AddArrayToObject(o, "cpu_stacks");
	for (i = 0; calls && i < s->n_cpu_stacks; i++) {
		cJSON *c = cJSON_CreateObject();

		if (!c)
			break;
		add_int(c, "samples", s->cpu_stacks[i].samples);
		cJSON_AddItemToObject(c, "stack", stack_json(&s->cpu_stacks[i].stack));
		cJSON_AddItemToArray(calls, c);
	}
	add_int(o, "cpu_samples", s->cpu_samples);
	cJSON_AddItemToObject(o, "callback", callback_json(&s->callback, s->end_ns));
	if (s->task.coroutine) {
		cJSON *task = cJSON_AddObjectToObject(o, "task");

		if (task) {
			if (s->task.name[0])
				add_text(task, "name", s->task.name);
			add_text(task, "coroutine", s->task.coroutine);
			add_str_or_null(task, "file", s->task.file);
			if (s->task.line > 0)
				add_int(task, "line", s->task.line);
			else
				cJSON_AddNullToObject(task, "line");
		}
	}
	add_text(o, "advice", s->advice);
	return finish(o);
}

char *ls_json_stall_begin(const struct ls_stall_begin *b, int64_t start_unix_ns)
{
	cJSON *o = record_of("stall_begin", b->pid, b->tid, b->comm, start_unix_ns);

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "elapsed_ms", ms(b->elapsed_ns));
	cJSON_AddNumberToObject(o, "threshold_ms", ms(b->threshold_ns));
	if (b->began_before_attach)
		cJSON_AddBoolToObject(o, "began_before_attach", true);
	return finish(o);
}

/* libprobe's count of a loop thread: exact iterations, callbacks, heartbeat lateness. */
static cJSON *probe_thread_json(const struct ls_probe_thread *p)
{
	cJSON *o = cJSON_CreateObject(), *late;

	if (!o)
		return NULL;
	add_int(o, "loops", p->loops);
	add_int(o, "iterations", (int64_t)p->iterations);
	add_int(o, "callbacks", (int64_t)p->callbacks);
	add_int(o, "max_callbacks_per_iteration", (int64_t)p->max_callbacks_per_iteration);
	cJSON_AddNumberToObject(o, "busy_ms", ms(p->busy_ns));
	cJSON_AddNumberToObject(o, "poll_ms", ms(p->poll_ns));
	cJSON_AddNumberToObject(o, "callback_ms", ms(p->callback_ns));
	add_int(o, "stalls", (int64_t)p->stalls);
	add_int(o, "awaits", (int64_t)p->awaits);
	cJSON_AddNumberToObject(o, "heartbeat_interval_ms", ms(p->heartbeat_interval_ns));
	add_int(o, "heartbeat_samples", (int64_t)p->heartbeat_samples);
	late = cJSON_AddObjectToObject(o, "heartbeat_late_ms");
	if (late) {
		cJSON_AddNumberToObject(late, "p50", ms(p->heartbeat_p50_ns));
		cJSON_AddNumberToObject(late, "p90", ms(p->heartbeat_p90_ns));
		cJSON_AddNumberToObject(late, "p99", ms(p->heartbeat_p99_ns));
		cJSON_AddNumberToObject(late, "max", ms(p->heartbeat_max_ns));
	}
	return o;
}

static cJSON *thread_json(const struct ls_thread_summary *t)
{
	cJSON *o = cJSON_CreateObject(), *gap;

	if (!o)
		return NULL;
	add_int(o, "pid", t->pid);
	add_int(o, "tid", t->tid);
	add_text(o, "comm", t->comm);
	add_int(o, "iterations", (int64_t)t->iterations);
	cJSON_AddNumberToObject(o, "busy_ms", ms(t->busy_ns));
	cJSON_AddNumberToObject(o, "busy_ratio", round(ls_thread_busy_ratio(t) * 1e4) / 1e4);
	add_int(o, "stalls", (int64_t)t->stalls);
	cJSON_AddNumberToObject(o, "max_busy_ms", ms(t->max_busy_ns));
	cJSON_AddBoolToObject(o, "exited", t->exited);
	gap = cJSON_AddObjectToObject(o, "heartbeat_gap_ms");
	if (gap) {
		cJSON_AddNumberToObject(gap, "p50", ms(ls_hist_quantile(&t->hist, 0.50)));
		cJSON_AddNumberToObject(gap, "p90", ms(ls_hist_quantile(&t->hist, 0.90)));
		cJSON_AddNumberToObject(gap, "p99", ms(ls_hist_quantile(&t->hist, 0.99)));
		cJSON_AddNumberToObject(gap, "max", ms(t->hist.max_ns));
	}
	if (t->probe.present)
		cJSON_AddItemToObject(o, "libprobe", probe_thread_json(&t->probe));
	return o;
}

char *ls_json_summary(const struct ls_run_summary *sum, int64_t start_unix_ns, int64_t end_unix_ns)
{
	cJSON *o = record_of("summary", sum->pid, 0, sum->comm, start_unix_ns), *threads;
	size_t i;

	if (!o)
		return NULL;
	add_int(o, "end_unix_ns", end_unix_ns);
	cJSON_AddNumberToObject(o, "recorded_ms",
				ms(sum->end_ns > sum->start_ns ? sum->end_ns - sum->start_ns : 0));
	cJSON_AddNumberToObject(o, "threshold_ms", ms(sum->threshold_ns));
	add_int(o, "stalls", (int64_t)sum->stalls);
	add_int(o, "lost_events", (int64_t)sum->lost_events);
	threads = cJSON_AddArrayToObject(o, "threads");
	for (i = 0; threads && i < sum->n_threads; i++)
		cJSON_AddItemToArray(threads, thread_json(&sum->threads[i]));
	return finish(o);
}

void ls_rfc3339_ms(int64_t unix_ns, char *buf, size_t len)
{
	time_t sec;
	struct tm tm;

	if (unix_ns < 0)
		unix_ns = 0;
	sec = (time_t)(unix_ns / 1000000000);
	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(unix_ns / 1000000 % 1000));
}

static void add_if(cJSON *o, const char *key, const char *v)
{
	if (v && *v)
		add_text(o, key, v);
}

char *ls_json_add_context(char *line, const struct ls_json_context *ctx)
{
	size_t n = line ? strlen(line) : 0, m;
	char when[40], *extra, *out;
	cJSON *o;

	/* the writers' lines are objects: their last byte is the closing brace */
	if (!line || n < 2 || line[n - 1] != '}') {
		free(line);
		return NULL;
	}
	o = cJSON_CreateObject();
	if (!o) {
		free(line);
		return NULL;
	}
	if (ctx->time_unix_ns) {
		ls_rfc3339_ms(ctx->time_unix_ns, when, sizeof(when));
		add_text(o, "time", when);
	}
	add_if(o, "target", ctx->target);
	add_if(o, "host", ctx->host);
	add_if(o, "container_id", ctx->container_id);
	add_if(o, "pod_uid", ctx->pod_uid);
	add_if(o, "cgroup", ctx->cgroup);
	extra = finish(o);
	if (!extra) {
		free(line);
		return NULL;
	}
	m = strlen(extra);
	if (m <= 2) {
		free(extra);
		return line;
	}
	/* "{...}" + "{extra}" -> "{...,extra}"; "{}" + "{extra}" -> "{extra}" */
	out = malloc(n + m);
	if (out) {
		memcpy(out, line, n - 1);
		if (n > 2)
			out[n - 1] = ',';
		memcpy(out + n - (n > 2 ? 0 : 1), extra + 1, m);
	}
	free(extra);
	free(line);
	return out;
}
