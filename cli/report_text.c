// SPDX-License-Identifier: BSD-2-Clause
/* The report as text for a terminal (or a pipe): fixed columns, cut to the width. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "report_describe.h"
#include "report_render.h"

/* Frames shown per stack in the worst stalls. */
#define STACK_FRAMES 12
#define BAR_MAX 40
/* Columns of a culprit row before its call site. */
#define ROW_WIDTH 54

static const char *cause_color(const char *cause)
{
	if (!strcmp(cause, "cpu"))
		return OUT_RED;
	if (!strcmp(cause, "blocking_syscall"))
		return OUT_YELLOW;
	if (!strcmp(cause, "lock_wait"))
		return OUT_MAGENTA;
	return OUT_CYAN;
}

static void header(const struct aggregate *agg, struct out *o)
{
	const struct recording *rec = agg->rec;
	char t[64], rec_ms[32], total[32], longest[32], line[512];

	if (rec->n_summaries)
		out_line(o, OUT_BOLD "loopstall report: %s (pid %u)" OUT_RESET, rec->summary.comm,
			 rec->summary.pid);
	else
		out_line(o, OUT_BOLD "loopstall report" OUT_RESET);
	/* prose: wrapped, not cut, on a narrow terminal */
	snprintf(line, sizeof(line), "%s from %s, stall threshold %g ms",
		 out_secs(agg->recorded_ms, rec_ms, sizeof(rec_ms)),
		 out_utc(agg->start_unix_ns, t, sizeof(t)), agg->threshold_ms);
	out_wrap(o, "recorded   ", 11, line);
	if (agg->stalls) {
		snprintf(line, sizeof(line), "%u, %s in all (%.1f %% of the time), longest %s",
			 agg->stalls, out_ms(agg->stalled_ms, total, sizeof(total)),
			 agg->recorded_ms > 0 ? 100.0 * agg->stalled_ms / agg->recorded_ms : 0.0,
			 out_ms(agg->longest_ms, longest, sizeof(longest)));
		out_wrap(o, "stalls     ", 11, line);
	} else {
		out_line(o, "stalls     " OUT_GREEN "none" OUT_RESET " over %g ms",
			 agg->threshold_ms);
	}
	if (rec->n_summaries)
		out_line(o, "events     %s%llu lost%s", rec->summary.lost_events ? OUT_RED : "",
			 (unsigned long long)rec->summary.lost_events,
			 rec->summary.lost_events ? " (some stalls may be missing)" OUT_RESET : "");
	else
		out_wrap(o, OUT_YELLOW "note:" OUT_RESET "      ", 11,
			 "no summary record (the recorder did not finish): times come from the "
			 "stalls alone");
	if (agg->cut_short) {
		snprintf(line, sizeof(line), "%u stall(s) ended with the thread or the recording",
			 agg->cut_short);
		out_wrap(o, "cut short  ", 11, line);
	}
	if (rec->n_exit_periods) {
		snprintf(line, sizeof(line),
			 "%zu busy period(s), %s, after the loop had returned: the process's "
			 "exit, not counted as stalls",
			 rec->n_exit_periods, out_ms(rec->exit_periods_ms, total, sizeof(total)));
		out_wrap(o, "exit       ", 11, line);
	}
}

static void threads(const struct aggregate *agg, struct out *o)
{
	const struct rf_summary *sum = &agg->rec->summary;
	char p50[32], p90[32], p99[32], max[32];
	size_t i;

	if (!sum->n_threads)
		return;
	out_blank(o);
	out_wrap(o, OUT_BOLD "Loop threads" OUT_RESET " ", 2,
		 "(heartbeat gap: a busy period, from one wait for events to the next)");
	out_line(o, "  %-8s %-16s %10s %7s %6s %10s %10s %10s %10s", "tid", "comm", "iterations",
		 "busy", "stalls", "gap p50", "gap p90", "gap p99", "gap max");
	for (i = 0; i < sum->n_threads; i++) {
		const struct rf_thread *t = &sum->threads[i];

		out_line(o, "  %-8u %-16s %10llu %6.1f%% %6llu %10s %10s %10s %10s", t->tid,
			 t->comm, (unsigned long long)t->iterations, 100.0 * t->busy_ratio,
			 (unsigned long long)t->stalls, out_ms(t->gap_p50_ms, p50, sizeof(p50)),
			 out_ms(t->gap_p90_ms, p90, sizeof(p90)),
			 out_ms(t->gap_p99_ms, p99, sizeof(p99)),
			 out_ms(t->gap_max_ms, max, sizeof(max)));
	}
}

static void causes(const struct aggregate *agg, struct out *o)
{
	char total[32], max[32];
	size_t i;

	out_blank(o);
	out_line(o, OUT_BOLD "Stalls by cause" OUT_RESET);
	out_line(o, "  %-18s %6s %10s %10s", "cause", "stalls", "total", "max");
	for (i = 0; i < agg->n_causes; i++) {
		const struct agg_cause *c = &agg->causes[i];

		out_line(o, "  %s%-18s" OUT_RESET " %6u %10s %10s", cause_color(c->cause), c->cause,
			 c->stalls, out_ms(c->total_ms, total, sizeof(total)),
			 out_ms(c->max_ms, max, sizeof(max)));
	}
}

static void histogram(const struct aggregate *agg, struct out *o)
{
	unsigned most = 0;
	char lo[32], hi[32], bar[BAR_MAX + 1];
	int room = o->width - 34;
	size_t i;

	if (room > BAR_MAX)
		room = BAR_MAX;
	if (room < 5)
		room = 5;
	for (i = 0; i < agg->n_buckets; i++)
		if (agg->buckets[i].stalls > most)
			most = agg->buckets[i].stalls;
	out_blank(o);
	out_line(o, OUT_BOLD "Stall durations" OUT_RESET);
	for (i = 0; i < agg->n_buckets; i++) {
		const struct agg_bucket *b = &agg->buckets[i];
		int len = most ? (int)ceil((double)b->stalls * room / most) : 0;

		memset(bar, '#', (size_t)len);
		bar[len] = '\0';
		out_edge(b->lo_ms, lo, sizeof(lo));
		if (isinf(b->hi_ms))
			snprintf(hi, sizeof(hi), "...");
		else
			out_edge(b->hi_ms, hi, sizeof(hi));
		out_line(o, "  %8s - %-8s " OUT_CYAN "%-*s" OUT_RESET " %u", lo, hi, room, bar,
			 b->stalls);
	}
}

static void culprits(const struct aggregate *agg, int top, struct out *o)
{
	char total[32], max[32], where[1024];
	size_t i;

	out_blank(o);
	out_wrap(o, OUT_BOLD "Top culprits" OUT_RESET " ", 2,
		 "(stalls with the same cause at the same call site)");
	out_line(o, "  %3s %6s %10s %10s  %-17s %s", "#", "stalls", "total", "max", "cause",
		 "where");
	for (i = 0; i < agg->n_culprits && (int)i < top; i++) {
		const struct agg_culprit *c = &agg->culprits[i];

		report_where(c, where, sizeof(where));
		/* a call site too long for the row goes on a line of its own */
		if (ROW_WIDTH + out_visible(where) <= (size_t)o->width) {
			out_line(o, "  %3zu %6u %10s %10s  %s%-17s" OUT_RESET " %s", i + 1,
				 c->stalls, out_ms(c->total_ms, total, sizeof(total)),
				 out_ms(c->max_ms, max, sizeof(max)), cause_color(c->cause),
				 c->cause, where);
		} else {
			out_line(o, "  %3zu %6u %10s %10s  %s%s" OUT_RESET, i + 1, c->stalls,
				 out_ms(c->total_ms, total, sizeof(total)),
				 out_ms(c->max_ms, max, sizeof(max)), cause_color(c->cause),
				 c->cause);
			out_line(o, "        %s", where);
		}
	}
	if (agg->n_culprits > (size_t)top)
		out_line(o, "  ... %zu more (--top N shows more)", agg->n_culprits - (size_t)top);
}

static void stack(const struct rf_stack *st, struct out *o)
{
	char frame[1024];
	size_t i;

	for (i = 0; i < st->n && i < STACK_FRAMES; i++)
		out_line(o, "         #%-2zu %s", i,
			 report_frame(&st->frames[i], frame, sizeof(frame)));
	if (st->n > STACK_FRAMES)
		out_line(o, "         ... %zu more frame%s", st->n - STACK_FRAMES,
			 PLURAL(st->n - STACK_FRAMES));
	/* a bounded writer (max_line) left the outermost out: say so, not a shorter stack */
	if (st->frames_cut)
		out_line(o, "         ... %llu more frame%s left out to fit the line bound",
			 (unsigned long long)st->frames_cut, PLURAL(st->frames_cut));
}

static void worst_stall(const struct aggregate *agg, const struct rf_stall *s, size_t n,
			struct out *o)
{
	struct report_parts parts;
	char dur[32], at[32], a[32], b[32], c[32], d[32], cb[512];
	size_t i;

	report_parts(s, &parts);
	out_line(o, "  %2zu. " OUT_BOLD "%s" OUT_RESET "  %s%s" OUT_RESET "  at %s, tid %u (%s)%s",
		 n, out_ms(s->duration_ms, dur, sizeof(dur)), cause_color(s->cause), s->cause,
		 report_offset(agg, s, at, sizeof(at)), s->tid, s->comm,
		 s->cut_short ? ", cut short" : "");
	out_line(o, "      on CPU %s, blocked %s, run queue %s%s%s",
		 out_ms(s->on_cpu_ms, a, sizeof(a)), out_ms(s->off_cpu_ms, b, sizeof(b)),
		 out_ms(s->runqueue_ms, c, sizeof(c)), s->major_faults ? ", page faults " : "",
		 s->major_faults ? out_ms(s->fault_blocked_ms, d, sizeof(d)) : "");
	if (s->callback)
		out_line(o, "      callback %s", report_callback(s->callback, cb, sizeof(cb)));
	for (i = 0; i < parts.syscalls_shown; i++) {
		const struct rf_syscall *u = &s->syscalls[i];

		out_line(o, "      %s x%llu  %s (max %s)%s%s", u->name,
			 (unsigned long long)u->count, out_ms(u->total_ms, a, sizeof(a)),
			 out_ms(u->max_ms, b, sizeof(b)), u->target ? "  on " : "",
			 u->target ? u->target : "");
		if (!i && parts.syscall_stack)
			stack(&u->stack, o);
	}
	if (s->n_syscalls > parts.syscalls_shown)
		out_line(o, "      ... %zu more syscall%s, %s",
			 s->n_syscalls - parts.syscalls_shown,
			 PLURAL(s->n_syscalls - parts.syscalls_shown),
			 out_ms(parts.syscalls_rest_ms, a, sizeof(a)));
	if (parts.cpu) {
		out_line(o, "      on CPU: %llu of %llu samples",
			 (unsigned long long)parts.cpu->samples, (unsigned long long)parts.samples);
		stack(&parts.cpu->stack, o);
		if (parts.cpu_rest)
			out_line(o, "      ... %zu more CPU stack%s (%llu sample%s)",
				 parts.cpu_rest, PLURAL(parts.cpu_rest),
				 (unsigned long long)(parts.samples - parts.cpu->samples),
				 PLURAL(parts.samples - parts.cpu->samples));
	}
	if (s->advice[0])
		out_wrap(o, "      " OUT_DIM "advice:" OUT_RESET " ", 14, s->advice);
}

static void worst(const struct aggregate *agg, int top, struct out *o)
{
	size_t i;

	out_blank(o);
	out_line(o, OUT_BOLD "Worst stalls" OUT_RESET);
	for (i = 0; i < agg->stalls && (int)i < top; i++) {
		if (i)
			out_blank(o);
		worst_stall(agg, agg->by_duration[i], i + 1, o);
	}
}

void report_text(const struct aggregate *agg, int top, struct out *o)
{
	header(agg, o);
	threads(agg, o);
	if (!agg->stalls)
		return;
	causes(agg, o);
	histogram(agg, o);
	culprits(agg, top, o);
	worst(agg, top, o);
}
