// SPDX-License-Identifier: BSD-2-Clause
/* The report as one JSON object (the aggregate, not the records again). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <cjson/cJSON.h>
#include "report_describe.h"
#include "report_render.h"

#define REPORT_SCHEMA_VERSION 1

/* Microsecond precision, printed short: 500.331, never 500.33100000000002. */
static void add_ms(cJSON *o, const char *key, double ms)
{
	cJSON_AddNumberToObject(o, key, round(ms * 1e3) / 1e3);
}

/* Raw text: a double would print ns timestamps as 1.7e+18. */
static void add_int(cJSON *o, const char *key, long long v)
{
	char text[24];

	snprintf(text, sizeof(text), "%lld", v);
	cJSON_AddRawToObject(o, key, text);
}

static void add_str(cJSON *o, const char *key, const char *s)
{
	if (s)
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

/* A new object at the end of arr; NULL when out of memory. */
static cJSON *add_object(cJSON *arr)
{
	cJSON *o = cJSON_CreateObject();

	if (o)
		cJSON_AddItemToArray(arr, o);
	return o;
}

static cJSON *frame_json(const struct rf_frame *fr)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	add_str(o, "addr", fr->addr);
	add_str(o, "symbol", fr->symbol);
	add_str(o, "module", fr->module);
	add_str(o, "file", fr->file);
	if (fr->line >= 0)
		add_int(o, "line", fr->line);
	else
		cJSON_AddNullToObject(o, "line");
	/* native frames say nothing: the recordings' "kind" is new, their absence is native */
	if (fr->kind != RF_KIND_NATIVE)
		cJSON_AddStringToObject(o, "kind", fr->kind == RF_KIND_PYTHON ? "python" : "js");
	return o;
}

static cJSON *stack_json(const struct rf_stack *st)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a && st && i < st->n; i++)
		cJSON_AddItemToArray(a, frame_json(&st->frames[i]));
	return a;
}

static void threads_json(const struct aggregate *agg, cJSON *root)
{
	const struct rf_summary *sum = &agg->rec->summary;
	cJSON *arr = cJSON_AddArrayToObject(root, "threads"), *t, *gap;
	size_t i;

	for (i = 0; arr && i < sum->n_threads; i++) {
		const struct rf_thread *th = &sum->threads[i];

		t = add_object(arr);
		if (!t)
			return;
		add_int(t, "pid", th->pid);
		add_int(t, "tid", th->tid);
		add_str(t, "comm", th->comm);
		add_int(t, "iterations", (long long)th->iterations);
		add_ms(t, "busy_ms", th->busy_ms);
		cJSON_AddNumberToObject(t, "busy_ratio", round(th->busy_ratio * 1e4) / 1e4);
		add_int(t, "stalls", (long long)th->stalls);
		gap = cJSON_AddObjectToObject(t, "heartbeat_gap_ms");
		if (!gap)
			return;
		add_ms(gap, "p50", th->gap_p50_ms);
		add_ms(gap, "p90", th->gap_p90_ms);
		add_ms(gap, "p99", th->gap_p99_ms);
		add_ms(gap, "max", th->gap_max_ms);
	}
}

static void causes_json(const struct aggregate *agg, cJSON *root)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "causes"), *c;
	size_t i;

	for (i = 0; arr && i < agg->n_causes; i++) {
		c = add_object(arr);
		if (!c)
			return;
		add_str(c, "cause", agg->causes[i].cause);
		add_int(c, "stalls", agg->causes[i].stalls);
		add_ms(c, "total_ms", agg->causes[i].total_ms);
		add_ms(c, "max_ms", agg->causes[i].max_ms);
	}
}

static void histogram_json(const struct aggregate *agg, cJSON *root)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "duration_histogram"), *b;
	size_t i;

	for (i = 0; arr && i < agg->n_buckets; i++) {
		b = add_object(arr);
		if (!b)
			return;
		add_ms(b, "lo_ms", agg->buckets[i].lo_ms);
		if (isinf(agg->buckets[i].hi_ms))
			cJSON_AddNullToObject(b, "hi_ms");
		else
			add_ms(b, "hi_ms", agg->buckets[i].hi_ms);
		add_int(b, "stalls", agg->buckets[i].stalls);
	}
}

static void culprits_json(const struct aggregate *agg, int top, cJSON *root)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "culprits"), *c, *sys;
	char where[1024];
	size_t i;

	for (i = 0; arr && i < agg->n_culprits && (int)i < top; i++) {
		const struct agg_culprit *k = &agg->culprits[i];

		c = add_object(arr);
		if (!c)
			return;
		add_str(c, "cause", k->cause);
		add_str(c, "comm", k->comm);
		add_str(c, "language", agg_lang_name(k->lang));
		add_int(c, "stalls", k->stalls);
		add_ms(c, "total_ms", k->total_ms);
		add_ms(c, "max_ms", k->max_ms);
		add_int(c, "cut_short", k->cut_short);
		add_ms(c, "on_cpu_ms", k->on_cpu_ms);
		add_ms(c, "off_cpu_ms", k->off_cpu_ms);
		add_ms(c, "runqueue_ms", k->runqueue_ms);
		add_str(c, "where", report_where(k, where, sizeof(where)));
		if (k->syscall) {
			sys = cJSON_AddObjectToObject(c, "syscall");
			if (sys) {
				add_str(sys, "name", k->syscall->name);
				add_str(sys, "target", k->syscall->target);
				add_ms(sys, "total_ms", k->syscall_ms);
			}
		} else {
			cJSON_AddNullToObject(c, "syscall");
		}
		if (k->site)
			cJSON_AddItemToObject(c, "call_site", frame_json(k->site));
		else
			cJSON_AddNullToObject(c, "call_site");
		cJSON_AddItemToObject(c, "stack", stack_json(k->stack));
		add_int(c, "worst_line", k->worst->line);
	}
}

static cJSON *stall_json(const struct aggregate *agg, const struct rf_stall *s)
{
	cJSON *o = cJSON_CreateObject(), *arr, *x;
	size_t i;

	if (!o)
		return NULL;
	add_int(o, "line", s->line);
	add_int(o, "pid", s->pid);
	add_int(o, "tid", s->tid);
	add_str(o, "comm", s->comm);
	add_int(o, "start_unix_ns", s->start_unix_ns);
	if (agg->start_unix_ns && s->start_unix_ns >= agg->start_unix_ns)
		add_ms(o, "offset_ms", (double)(s->start_unix_ns - agg->start_unix_ns) / 1e6);
	add_ms(o, "duration_ms", s->duration_ms);
	add_str(o, "cause", s->cause);
	add_ms(o, "on_cpu_ms", s->on_cpu_ms);
	add_ms(o, "off_cpu_ms", s->off_cpu_ms);
	add_ms(o, "runqueue_ms", s->runqueue_ms);
	add_ms(o, "fault_blocked_ms", s->fault_blocked_ms);
	add_int(o, "major_faults", (long long)s->major_faults);
	cJSON_AddBoolToObject(o, "cut_short", s->cut_short);
	arr = cJSON_AddArrayToObject(o, "syscalls");
	for (i = 0; arr && i < s->n_syscalls; i++) {
		x = add_object(arr);
		if (!x)
			break;
		add_str(x, "name", s->syscalls[i].name);
		add_int(x, "count", (long long)s->syscalls[i].count);
		add_ms(x, "total_ms", s->syscalls[i].total_ms);
		add_ms(x, "max_ms", s->syscalls[i].max_ms);
		add_str(x, "target", s->syscalls[i].target);
		cJSON_AddItemToObject(x, "stack", stack_json(&s->syscalls[i].stack));
	}
	arr = cJSON_AddArrayToObject(o, "cpu_stacks");
	for (i = 0; arr && i < s->n_cpu_stacks; i++) {
		x = add_object(arr);
		if (!x)
			break;
		add_int(x, "samples", (long long)s->cpu_stacks[i].samples);
		cJSON_AddItemToObject(x, "stack", stack_json(&s->cpu_stacks[i].stack));
	}
	if (s->callback) {
		x = cJSON_AddObjectToObject(o, "callback");
		if (x) {
			add_str(x, "symbol", s->callback->symbol);
			add_str(x, "watcher", s->callback->watcher);
			add_ms(x, "started_ms_ago", s->callback->started_ms_ago);
			if (s->callback->duration_ms >= 0)
				add_ms(x, "duration_ms", s->callback->duration_ms);
			else
				cJSON_AddNullToObject(x, "duration_ms");
			add_str(x, "span", s->callback->span);
		}
	} else {
		cJSON_AddNullToObject(o, "callback");
	}
	add_str(o, "advice", s->advice);
	return o;
}

int report_json(const struct aggregate *agg, int top, FILE *f)
{
	const struct recording *rec = agg->rec;
	cJSON *root = cJSON_CreateObject(), *arr;
	char *text = NULL;
	size_t i;
	int err = -ENOMEM;

	if (!root)
		return -ENOMEM;
	add_str(root, "type", "report");
	add_int(root, "schema_version", REPORT_SCHEMA_VERSION);
	if (rec->n_summaries) {
		add_int(root, "pid", rec->summary.pid);
		add_str(root, "comm", rec->summary.comm);
		add_int(root, "lost_events", (long long)rec->summary.lost_events);
	} else {
		cJSON_AddNullToObject(root, "pid");
		cJSON_AddNullToObject(root, "comm");
		cJSON_AddNullToObject(root, "lost_events");
	}
	cJSON_AddBoolToObject(root, "complete", rec->n_summaries > 0);
	add_int(root, "start_unix_ns", agg->start_unix_ns);
	add_ms(root, "recorded_ms", agg->recorded_ms);
	add_ms(root, "threshold_ms", agg->threshold_ms);
	add_int(root, "stalls", agg->stalls);
	add_ms(root, "stalled_ms", agg->stalled_ms);
	add_ms(root, "longest_ms", agg->longest_ms);
	add_int(root, "cut_short", agg->cut_short);
	threads_json(agg, root);
	causes_json(agg, root);
	histogram_json(agg, root);
	culprits_json(agg, top, root);
	arr = cJSON_AddArrayToObject(root, "worst");
	for (i = 0; arr && i < agg->stalls && (int)i < top; i++)
		cJSON_AddItemToArray(arr, stall_json(agg, agg->by_duration[i]));
	text = cJSON_Print(root);
	if (!text)
		goto cleanup;
	fprintf(f, "%s\n", text);
	err = 0;
cleanup:
	free(text);
	cJSON_Delete(root);
	return err;
}
