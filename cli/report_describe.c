// SPDX-License-Identifier: BSD-2-Clause
/* Short descriptions of frames, call sites and times, shared by the renderers. */
#include <stdio.h>
#include <string.h>
#include "report_describe.h"
#include "report_out.h"

const char *report_frame(const struct rf_frame *f, char *buf, size_t len)
{
	const char *name = f->symbol ? f->symbol : f->addr;

	if (f->file && f->line >= 0)
		snprintf(buf, len, "%s (%s:%ld)", name, agg_basename(f->file), f->line);
	else if (f->file)
		snprintf(buf, len, "%s (%s)", name, agg_basename(f->file));
	else
		snprintf(buf, len, "%s (%s)", name,
			 f->module ? agg_basename(f->module) : "[unknown]");
	return buf;
}

static const char *stackless(const struct agg_culprit *c)
{
	if (!strcmp(c->cause, "cpu"))
		return "on CPU";
	if (!strcmp(c->cause, "preempted"))
		return "waiting for a CPU";
	if (!strcmp(c->cause, "page_fault"))
		return "in page faults";
	return "-";
}

const char *report_where(const struct agg_culprit *c, char *buf, size_t len)
{
	const struct rf_syscall *u = c->syscall;
	const struct rf_callback *cb = c->worst->callback;
	enum agg_lang runtime = agg_stack_runtime(c->stack);
	char frame[512], call[384] = "";
	bool by_syscall = strcmp(c->cause, "cpu") != 0 && u;
	size_t used;

	if (by_syscall)
		snprintf(call, sizeof(call), "%s%s%s", u->name, u->target ? " on " : "",
			 u->target ? u->target : "");
	if (!c->site) {
		snprintf(buf, len, "%s", by_syscall ? call : stackless(c));
	} else if (agg_interpreter_frame(c->site)) {
		/* native stacks show no Python function: say what the frame stands for */
		snprintf(buf, len, "%sPython code (%s)%s%s",
			 strcmp(c->cause, "preempted") ? "" : "waiting for a CPU, in ",
			 c->site->symbol ? c->site->symbol : "?", by_syscall ? " in " : "", call);
	} else {
		report_frame(c->site, frame, sizeof(frame));
		if (!strcmp(c->cause, "preempted"))
			snprintf(buf, len, "waiting for a CPU, in %s", frame);
		else if (by_syscall && !(c->site->symbol && !strcmp(c->site->symbol, u->name)))
			snprintf(buf, len, "%s in %s", frame, call);
		else
			snprintf(buf, len, "%s", frame);
		used = strlen(buf);
		/* a Python or JavaScript frame says that itself */
		if (runtime != AGG_LANG_C && c->site->kind == RF_KIND_NATIVE)
			snprintf(buf + used, len - used, ", called from %s",
				 runtime == AGG_LANG_PYTHON ? "Python" : "JavaScript");
	}
	if (cb && cb->symbol) {
		used = strlen(buf);
		snprintf(buf + used, len - used, " [callback %s]", cb->symbol);
	}
	return buf;
}

const char *report_callback(const struct rf_callback *cb, char *buf, size_t len)
{
	char a[32], b[32];
	size_t used;

	snprintf(buf, len, "%s (%s watcher, started %s before the stall ended, %s%s",
		 cb->symbol ? cb->symbol : "?", cb->watcher,
		 out_ms(cb->started_ms_ago, a, sizeof(a)),
		 cb->duration_ms >= 0 ? "ran " : "still running",
		 cb->duration_ms >= 0 ? out_ms(cb->duration_ms, b, sizeof(b)) : "");
	used = strlen(buf);
	if (cb->span)
		snprintf(buf + used, len - used, ", in task segment %s)", cb->span);
	else if (cb->task)
		snprintf(buf + used, len - used, ", task %s, from the await at %s to %s)", cb->task,
			 cb->resumed_at ? cb->resumed_at : "?",
			 cb->suspended_at ? cb->suspended_at : "its end");
	else
		snprintf(buf + used, len - used, ")");
	return buf;
}

/* Syscalls listed per stall, and the share of a stall a part needs for its stack to be shown. */
#define SYSCALLS_SHOWN 3
#define NOTABLE_SHARE 0.1

void report_parts(const struct rf_stall *s, struct report_parts *p)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	p->syscalls_shown = s->n_syscalls < SYSCALLS_SHOWN ? s->n_syscalls : SYSCALLS_SHOWN;
	for (i = p->syscalls_shown; i < s->n_syscalls; i++)
		p->syscalls_rest_ms += s->syscalls[i].total_ms;
	p->syscall_stack = s->n_syscalls && s->syscalls[0].stack.n &&
			   s->syscalls[0].total_ms >= NOTABLE_SHARE * s->duration_ms;
	for (i = 0; i < s->n_cpu_stacks; i++) {
		const struct rf_cpu_stack *cs = &s->cpu_stacks[i];

		p->samples += cs->samples;
		if (cs->stack.n && (!p->cpu || cs->samples > p->cpu->samples))
			p->cpu = cs;
	}
	if (p->cpu && (s->on_cpu_ms >= NOTABLE_SHARE * s->duration_ms || !strcmp(s->cause, "cpu")))
		p->cpu_rest = s->n_cpu_stacks - 1;
	else
		p->cpu = NULL;
}

const char *report_offset(const struct aggregate *agg, const struct rf_stall *s, char *buf,
			  size_t len)
{
	if (agg->start_unix_ns && s->start_unix_ns >= agg->start_unix_ns)
		snprintf(buf, len, "+%.2f s",
			 (double)(s->start_unix_ns - agg->start_unix_ns) / 1e9);
	else
		snprintf(buf, len, "+?");
	return buf;
}

double report_max_p99(const struct aggregate *agg)
{
	const struct rf_summary *sum = &agg->rec->summary;
	double p99 = 0;
	size_t i;

	for (i = 0; i < sum->n_threads; i++)
		if (sum->threads[i].gap_p99_ms > p99)
			p99 = sum->threads[i].gap_p99_ms;
	return p99;
}
