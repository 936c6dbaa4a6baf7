// SPDX-License-Identifier: BSD-2-Clause
/* The report as Markdown, to paste into a ticket: tables and code blocks, no width. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "report_describe.h"
#include "report_render.h"

#define STACK_FRAMES 20

/* Table cells: a '|' would end the cell, a newline the row. */
static void cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if ((unsigned char)*s < 0x20)
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

/* Inline code that holds backticks needs a longer fence; recorded names rarely do. */
static void code(FILE *f, const char *s)
{
	bool ticks = strchr(s, '`') != NULL;

	fputs(ticks ? "`` " : "`", f);
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 ? ' ' : *s, f);
	fputs(ticks ? " ``" : "`", f);
}

static void header(const struct aggregate *agg, FILE *f)
{
	const struct recording *rec = agg->rec;
	char t[64], a[32], b[32];

	if (rec->n_summaries) {
		fputs("# loopstall report: ", f);
		code(f, rec->summary.comm);
		fprintf(f, " (pid %u)\n\n", rec->summary.pid);
	} else {
		fputs("# loopstall report\n\n", f);
	}
	fprintf(f, "- **Recorded:** %s from %s\n", out_secs(agg->recorded_ms, a, sizeof(a)),
		out_utc(agg->start_unix_ns, t, sizeof(t)));
	fprintf(f, "- **Stall threshold:** %g ms\n", agg->threshold_ms);
	if (agg->stalls)
		fprintf(f, "- **Stalls:** %u, %s in all (%.1f %% of the time), longest %s\n",
			agg->stalls, out_ms(agg->stalled_ms, a, sizeof(a)),
			agg->recorded_ms > 0 ? 100.0 * agg->stalled_ms / agg->recorded_ms : 0.0,
			out_ms(agg->longest_ms, b, sizeof(b)));
	else
		fprintf(f, "- **Stalls:** none over %g ms\n", agg->threshold_ms);
	if (rec->n_summaries)
		fprintf(f, "- **Events lost:** %llu\n",
			(unsigned long long)rec->summary.lost_events);
	else
		fputs("- **Note:** no summary record (the recorder did not finish)\n", f);
	if (agg->cut_short)
		fprintf(f, "- **Cut short:** %u stall(s)\n", agg->cut_short);
}

static void threads(const struct aggregate *agg, FILE *f)
{
	const struct rf_summary *sum = &agg->rec->summary;
	char a[32], b[32], c[32], d[32];
	size_t i;

	if (!sum->n_threads)
		return;
	fputs(
	    "\n## Loop threads\n\n"
	    "| tid | comm | iterations | busy | stalls | gap p50 | gap p90 | gap p99 | gap max |\n"
	    "|---:|---|---:|---:|---:|---:|---:|---:|---:|\n",
	    f);
	for (i = 0; i < sum->n_threads; i++) {
		const struct rf_thread *t = &sum->threads[i];

		fprintf(f, "| %u | ", t->tid);
		cell(f, t->comm);
		fprintf(f, " | %llu | %.1f %% | %llu | %s | %s | %s | %s |\n",
			(unsigned long long)t->iterations, 100.0 * t->busy_ratio,
			(unsigned long long)t->stalls, out_ms(t->gap_p50_ms, a, sizeof(a)),
			out_ms(t->gap_p90_ms, b, sizeof(b)), out_ms(t->gap_p99_ms, c, sizeof(c)),
			out_ms(t->gap_max_ms, d, sizeof(d)));
	}
	fputs("\nHeartbeat gap: a busy period, from one wait for events to the next.\n", f);
}

static void causes(const struct aggregate *agg, FILE *f)
{
	char a[32], b[32];
	size_t i;

	fputs("\n## Stalls by cause\n\n| cause | stalls | total | max |\n|---|---:|---:|---:|\n",
	      f);
	for (i = 0; i < agg->n_causes; i++) {
		const struct agg_cause *c = &agg->causes[i];

		fprintf(f, "| %s | %u | %s | %s |\n", c->cause, c->stalls,
			out_ms(c->total_ms, a, sizeof(a)), out_ms(c->max_ms, b, sizeof(b)));
	}
}

static void histogram(const struct aggregate *agg, FILE *f)
{
	char lo[32], hi[32];
	unsigned most = 0;
	size_t i;

	for (i = 0; i < agg->n_buckets; i++)
		if (agg->buckets[i].stalls > most)
			most = agg->buckets[i].stalls;
	fputs("\n## Stall durations\n\n```text\n", f);
	for (i = 0; i < agg->n_buckets; i++) {
		const struct agg_bucket *b = &agg->buckets[i];
		int len = most ? (int)ceil(b->stalls * 40.0 / most) : 0;

		out_edge(b->lo_ms, lo, sizeof(lo));
		if (isinf(b->hi_ms))
			snprintf(hi, sizeof(hi), "...");
		else
			out_edge(b->hi_ms, hi, sizeof(hi));
		fprintf(f, "%8s - %-8s %-40.*s %u\n", lo, hi, len,
			"########################################", b->stalls);
	}
	fputs("```\n", f);
}

static void culprits(const struct aggregate *agg, int top, FILE *f)
{
	char a[32], b[32], where[1024];
	size_t i;

	fputs("\n## Top culprits\n\nStalls with the same cause at the same call site.\n\n"
	      "| # | stalls | total | max | cause | where |\n|---:|---:|---:|---:|---|---|\n",
	      f);
	for (i = 0; i < agg->n_culprits && (int)i < top; i++) {
		const struct agg_culprit *c = &agg->culprits[i];

		fprintf(f, "| %zu | %u | %s | %s | %s | ", i + 1, c->stalls,
			out_ms(c->total_ms, a, sizeof(a)), out_ms(c->max_ms, b, sizeof(b)),
			c->cause);
		cell(f, report_where(c, where, sizeof(where)));
		fputs(" |\n", f);
	}
	if (agg->n_culprits > (size_t)top)
		fprintf(f, "\n%zu more culprit(s) not shown.\n", agg->n_culprits - (size_t)top);
}

static void stack(const struct rf_stack *st, FILE *f)
{
	char frame[1024];
	size_t i;

	if (!st->n)
		return;
	fputs("\n  ```text\n", f);
	for (i = 0; i < st->n && i < STACK_FRAMES; i++)
		fprintf(f, "  #%-2zu %s\n", i, report_frame(&st->frames[i], frame, sizeof(frame)));
	if (st->n > STACK_FRAMES)
		fprintf(f, "  ... %zu more frame%s\n", st->n - STACK_FRAMES,
			PLURAL(st->n - STACK_FRAMES));
	fputs("  ```\n", f);
}

static void worst_stall(const struct aggregate *agg, const struct rf_stall *s, size_t n, FILE *f)
{
	struct report_parts parts;
	char a[32], b[32], c[32], cb[512];
	size_t i;

	report_parts(s, &parts);
	fprintf(f, "\n### %zu. %s %s (%s, tid %u, ", n, out_ms(s->duration_ms, a, sizeof(a)),
		s->cause, report_offset(agg, s, b, sizeof(b)), s->tid);
	code(f, s->comm);
	fprintf(f, ")%s\n\n", s->cut_short ? ", cut short" : "");
	fprintf(f, "- on CPU %s, blocked %s, run queue %s\n", out_ms(s->on_cpu_ms, a, sizeof(a)),
		out_ms(s->off_cpu_ms, b, sizeof(b)), out_ms(s->runqueue_ms, c, sizeof(c)));
	if (s->major_faults)
		fprintf(f, "- %llu major page faults, %s blocked in them\n",
			(unsigned long long)s->major_faults,
			out_ms(s->fault_blocked_ms, a, sizeof(a)));
	if (s->callback) {
		fputs("- callback ", f);
		cell(f, report_callback(s->callback, cb, sizeof(cb)));
		fputc('\n', f);
	}
	for (i = 0; i < parts.syscalls_shown; i++) {
		const struct rf_syscall *u = &s->syscalls[i];

		fputs("- ", f);
		code(f, u->name);
		fprintf(f, " x%llu, %s (max %s)", (unsigned long long)u->count,
			out_ms(u->total_ms, a, sizeof(a)), out_ms(u->max_ms, b, sizeof(b)));
		if (u->target) {
			fputs(" on ", f);
			code(f, u->target);
		}
		fputc('\n', f);
		if (!i && parts.syscall_stack)
			stack(&u->stack, f);
	}
	if (s->n_syscalls > parts.syscalls_shown)
		fprintf(f, "- %zu more syscall%s, %s\n", s->n_syscalls - parts.syscalls_shown,
			PLURAL(s->n_syscalls - parts.syscalls_shown),
			out_ms(parts.syscalls_rest_ms, a, sizeof(a)));
	if (parts.cpu) {
		fprintf(f, "- on CPU: %llu of %llu samples\n",
			(unsigned long long)parts.cpu->samples, (unsigned long long)parts.samples);
		stack(&parts.cpu->stack, f);
		if (parts.cpu_rest)
			fprintf(f, "- %zu more CPU stack%s (%llu sample%s)\n", parts.cpu_rest,
				PLURAL(parts.cpu_rest),
				(unsigned long long)(parts.samples - parts.cpu->samples),
				PLURAL(parts.samples - parts.cpu->samples));
	}
	if (s->advice[0]) {
		fputs("\n> ", f);
		cell(f, s->advice);
		fputc('\n', f);
	}
}

void report_markdown(const struct aggregate *agg, int top, FILE *f)
{
	size_t i;

	header(agg, f);
	threads(agg, f);
	if (!agg->stalls)
		return;
	causes(agg, f);
	histogram(agg, f);
	culprits(agg, top, f);
	fputs("\n## Worst stalls\n", f);
	for (i = 0; i < agg->stalls && (int)i < top; i++)
		worst_stall(agg, agg->by_duration[i], i + 1, f);
}
