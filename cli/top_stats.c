// SPDX-License-Identifier: BSD-2-Clause
/*
 * Rates for `loopstall top` from cumulative counters. Busy time counts the
 * busy period still running up to the sample, so a long stall shows as a
 * busy loop while it lasts, not as a burst once it ends. The heartbeat p99
 * comes from the per-sample differences of BPF's busy-period histogram.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hist.h"
#include "top_stats.h"

/* Per thread: more stalls than this in one window leave the max to the histogram. */
#define TOP_RECENT_STALLS 32

struct thread_state {
	struct top_thread view;
	bool seen;
	struct ls_ledger last; /* the counters at the last sample */
	uint64_t busy_ns;      /* completed busy time plus the running period, at the last sample */
	uint32_t window[TOP_WINDOW][LS_HIST_BUCKETS]; /* per-sample differences, a ring */
	uint64_t window_max[TOP_WINDOW];
	uint64_t window_stalls[TOP_WINDOW]; /* stall counter differences, the same ring */
	/* the thread's last stalls, exact durations, for the window's max */
	uint64_t recent_end[TOP_RECENT_STALLS];
	uint64_t recent_ns[TOP_RECENT_STALLS];
	unsigned next_recent;
	unsigned next;
};

struct top_stats {
	uint64_t threshold_ns;
	uint64_t now_ns;
	uint64_t prev_ns;
	size_t n_threads;
	size_t cap_threads;
	struct thread_state **threads;
	size_t n_stalls; /* in the ring, up to TOP_LAST_STALLS */
	unsigned next_stall;
	struct top_stall stalls[TOP_LAST_STALLS];
};

struct top_stats *top_stats__new(uint64_t threshold_ns)
{
	struct top_stats *ts = calloc(1, sizeof(*ts));

	if (ts)
		ts->threshold_ns = threshold_ns;
	return ts;
}

void top_stats__free(struct top_stats *ts)
{
	size_t i;

	if (!ts)
		return;
	for (i = 0; i < ts->n_threads; i++)
		free(ts->threads[i]);
	free(ts->threads);
	free(ts);
}

void top_stats__begin(struct top_stats *ts, uint64_t now_ns)
{
	size_t i;

	ts->prev_ns = ts->now_ns;
	ts->now_ns = now_ns;
	for (i = 0; i < ts->n_threads; i++)
		ts->threads[i]->seen = false;
}

static struct thread_state *find(const struct top_stats *ts, uint32_t tid)
{
	size_t i;

	for (i = 0; i < ts->n_threads; i++)
		if (ts->threads[i]->view.tid == tid)
			return ts->threads[i];
	return NULL;
}

/* A thread's state as at its first sample. */
static void restart(struct thread_state *st, const struct ls_thread_stats *t)
{
	memset(st, 0, sizeof(*st));
	st->view.pid = t->pid;
	st->view.tid = t->tid;
	ls_ledger_start(&st->last, t);
}

static struct thread_state *add(struct top_stats *ts, const struct ls_thread_stats *t)
{
	struct thread_state *st, **grown;
	size_t cap;

	if (ts->n_threads == ts->cap_threads) {
		cap = ts->cap_threads ? 2 * ts->cap_threads : 8;
		grown = realloc(ts->threads, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		ts->threads = grown;
		ts->cap_threads = cap;
	}
	st = malloc(sizeof(*st));
	if (!st)
		return NULL;
	restart(st, t);
	ts->threads[ts->n_threads++] = st;
	return st;
}

static uint64_t window_p99(const struct thread_state *st)
{
	struct ls_hist h;
	unsigned w, i;

	memset(&h, 0, sizeof(h));
	for (w = 0; w < TOP_WINDOW; w++) {
		for (i = 0; i < LS_HIST_BUCKETS; i++) {
			h.counts[i] += st->window[w][i];
			h.total += st->window[w][i];
		}
		if (st->window_max[w] > h.max_ns)
			h.max_ns = st->window_max[w];
	}
	return ls_hist_quantile(&h, 0.99);
}

/*
 * Gaps under the threshold are known to their histogram bucket; a stall
 * to its record. A slot whose stall record has not come yet shows the
 * threshold until it does.
 */
static void window_max_and_stalls(const struct top_stats *ts, struct thread_state *st)
{
	uint64_t window_ns = (uint64_t)TOP_WINDOW * 1000000000ull, max = 0, n = 0;
	unsigned w, i;

	for (w = 0; w < TOP_WINDOW; w++) {
		uint64_t m = st->window_max[w];

		n += st->window_stalls[w];
		if (ts->threshold_ns && m > ts->threshold_ns)
			m = ts->threshold_ns;
		if (m > max)
			max = m;
	}
	for (i = 0; i < TOP_RECENT_STALLS; i++)
		if (st->recent_end[i] && st->recent_end[i] + window_ns >= ts->now_ns &&
		    st->recent_ns[i] > max)
			max = st->recent_ns[i];
	st->view.max_ns = max;
	st->view.window_stalls = n;
}

int top_stats__thread(struct top_stats *ts, const struct ls_thread_stats *t, const char *comm)
{
	struct thread_state *st = find(ts, t->tid);
	struct ls_ledger delta;
	uint64_t busy, max = 0;
	bool fresh = !st;
	double dt;
	unsigned i, w;

	/* a thread that got an exited one's tid starts afresh */
	if (st && !ls_ledger_same_thread(st->last.tid, st->last.first_seen_ns, t)) {
		restart(st, t);
		fresh = true;
	}
	if (!st)
		st = add(ts, t);
	if (!st)
		return -ENOMEM;
	st->seen = true;
	snprintf(st->view.comm, sizeof(st->view.comm), "%s", comm ? comm : "?");
	st->view.stalls = t->stalls;
	st->view.busy_start_ns = t->busy_start_ns;
	busy = t->busy_ns;
	if (t->busy_start_ns && ts->now_ns > t->busy_start_ns)
		busy += ts->now_ns - t->busy_start_ns;
	ls_ledger_take(&st->last, t, &delta);
	if (!fresh && ts->now_ns > ts->prev_ns) {
		dt = (double)(ts->now_ns - ts->prev_ns);
		st->view.iter_per_s = (double)delta.iterations * 1e9 / dt;
		st->view.busy_ratio = busy > st->busy_ns ? (double)(busy - st->busy_ns) / dt : 0.0;
		if (st->view.busy_ratio > 1.0)
			st->view.busy_ratio = 1.0;
		st->view.rated = true;
	}
	/* the first sample has no interval: its counts are the window's first slot */
	w = st->next++ % TOP_WINDOW;
	for (i = 0; i < LS_HIST_BUCKETS; i++) {
		st->window[w][i] = delta.hist[i];
		if (st->window[w][i])
			max = ls_hist_lower(i + 1);
	}
	/* the highest bucket's upper edge: the midpoint quantiles never reach it */
	st->window_max[w] = max;
	st->window_stalls[w] = fresh ? 0 : delta.stalls;
	st->busy_ns = busy;
	st->view.p99_ns = window_p99(st);
	window_max_and_stalls(ts, st);
	return 0;
}

void top_stats__end(struct top_stats *ts)
{
	size_t i, kept = 0;

	for (i = 0; i < ts->n_threads; i++) {
		if (ts->threads[i]->seen)
			ts->threads[kept++] = ts->threads[i];
		else
			free(ts->threads[i]);
	}
	ts->n_threads = kept;
}

void top_stats__stall_begin(struct top_stats *ts, uint32_t tid, uint64_t start_ns)
{
	struct thread_state *st = find(ts, tid);

	if (st)
		st->view.stall_start_ns = start_ns;
}

static bool module_is(const char *base, const char *const *prefixes)
{
	unsigned k;

	for (k = 0; prefixes[k]; k++)
		if (!strncmp(base, prefixes[k], strlen(prefixes[k])))
			return true;
	return false;
}

/*
 * Where a stack's own code is: its innermost Python or JavaScript frame, or
 * native frame outside the interpreter and the C library; else the
 * innermost past the C library and the vDSO.
 */
static const char *stack_site(const struct ls_stack *st)
{
	static const char *const runtime[] = {"libc.so",    "libc-",	  "ld-linux", "[vdso",
					      "linux-vdso", "libpthread", NULL};
	static const char *const interp[] = {"python", "libpython", "libnode", "_Py", "Py", NULL};
	unsigned i;

	for (i = 0; i < st->n; i++) {
		const struct ls_frame *f = &st->frames[i];
		const char *base = f->module ? strrchr(f->module, '/') : NULL;

		base = base ? base + 1 : f->module ? f->module : "";
		if (f->symbol && f->kind != LS_FRAME_NATIVE)
			return f->symbol;
		if (f->symbol && f->module && !module_is(base, runtime) &&
		    !module_is(base, interp) && strcmp(base, "node") &&
		    !strstr(f->module, "/lib-dynload/") && !module_is(f->symbol, interp + 3))
			return f->symbol;
	}
	for (i = 0; i < st->n; i++) {
		const struct ls_frame *f = &st->frames[i];
		const char *base = f->module ? strrchr(f->module, '/') : NULL;

		base = base ? base + 1 : f->module ? f->module : "";
		if (f->symbol && !module_is(base, runtime))
			return f->symbol;
	}
	return NULL;
}

void top_stats__stall(struct top_stats *ts, const struct ls_stall *s)
{
	struct top_stall *out = &ts->stalls[ts->next_stall++ % TOP_LAST_STALLS];
	struct thread_state *st = find(ts, s->tid);
	const char *site = NULL;

	/* that busy period is over, whatever the last sample said */
	if (st && st->view.stall_start_ns && st->view.stall_start_ns <= s->end_ns)
		st->view.stall_start_ns = 0;
	if (st && st->view.busy_start_ns && st->view.busy_start_ns <= s->end_ns)
		st->view.busy_start_ns = 0;
	if (st && s->end_ns > s->start_ns) {
		unsigned r = st->next_recent++ % TOP_RECENT_STALLS;

		st->recent_end[r] = s->end_ns;
		st->recent_ns[r] = s->end_ns - s->start_ns;
		if (st->recent_ns[r] > st->view.max_ns)
			st->view.max_ns = st->recent_ns[r];
	}
	if (ts->n_stalls < TOP_LAST_STALLS)
		ts->n_stalls++;
	memset(out, 0, sizeof(*out));
	out->tid = s->tid;
	snprintf(out->comm, sizeof(out->comm), "%s", s->comm);
	out->end_ns = s->end_ns;
	out->duration_ms = (double)(s->end_ns - s->start_ns) / 1e6;
	out->cause = ls_cause_name(s->cause);
	out->cut_short = s->cut_short;
	if (s->cause == LS_CAUSE_CPU && s->n_cpu_stacks) {
		site = stack_site(&s->cpu_stacks[0].stack);
		snprintf(out->what, sizeof(out->what), "on CPU%s%s", site ? " in " : "",
			 site ? site : "");
	} else if (s->n_syscalls) {
		site = stack_site(&s->syscalls[0].stack);
		snprintf(out->what, sizeof(out->what), "%s%s%s", s->syscalls[0].name,
			 site ? " from " : "", site ? site : "");
	}
}

size_t top_stats__n_threads(const struct top_stats *ts)
{
	return ts->n_threads;
}

const struct top_thread *top_stats__thread_at(const struct top_stats *ts, size_t i)
{
	return i < ts->n_threads ? &ts->threads[i]->view : NULL;
}

size_t top_stats__n_stalls(const struct top_stats *ts)
{
	return ts->n_stalls;
}

const struct top_stall *top_stats__stall_at(const struct top_stats *ts, size_t i)
{
	if (i >= ts->n_stalls)
		return NULL;
	return &ts->stalls[(ts->next_stall + TOP_LAST_STALLS - 1 - i) % TOP_LAST_STALLS];
}

uint64_t top_stats__in_progress(const struct top_stats *ts, const struct top_thread *t,
				uint64_t now_ns)
{
	uint64_t start = t->stall_start_ns;

	/* the running busy period tells too, before stall_begin arrives or if it was lost */
	if (!start && t->busy_start_ns && now_ns >= t->busy_start_ns + ts->threshold_ns)
		start = t->busy_start_ns;
	return start && now_ns > start ? now_ns - start : 0;
}

bool top_stats__stalled(const struct top_stats *ts, uint64_t now_ns)
{
	size_t i;

	for (i = 0; i < ts->n_threads; i++)
		if (top_stats__in_progress(ts, &ts->threads[i]->view, now_ns))
			return true;
	return false;
}
