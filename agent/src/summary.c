// SPDX-License-Identifier: BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "summary.h"

static struct ls_thread_summary *find_live(struct ls_run_summary *sum,
					   const struct ls_thread_stats *s)
{
	size_t i;

	for (i = 0; i < sum->n_threads; i++) {
		struct ls_thread_summary *t = &sum->threads[i];

		/* an exited thread's tid may be reused by a new thread: keep both */
		if (t->pid == s->pid && !t->exited &&
		    ls_ledger_same_thread(t->tid, t->first_seen_ns, s))
			return t;
	}
	return NULL;
}

struct ls_thread_summary *ls_summary_update(struct ls_run_summary *sum,
					    const struct ls_thread_stats *t, const char *comm,
					    uint64_t now_ns, bool exited)
{
	struct ls_thread_summary *ts = find_live(sum, t);

	if (!ts) {
		void *grown = ls_grow(sum->threads, &sum->cap_threads, sum->n_threads + 1,
				      sizeof(*sum->threads), 8);

		if (!grown)
			return NULL;
		sum->threads = grown;
		ts = &sum->threads[sum->n_threads++];
	}
	memset(ts, 0, sizeof(*ts));
	ts->pid = t->pid;
	ts->tid = t->tid;
	strncpy(ts->comm, comm, sizeof(ts->comm) - 1);
	ts->exited = exited;
	ts->first_seen_ns = t->first_seen_ns;
	ts->last_ns = now_ns;
	ts->iterations = t->iterations;
	ts->busy_ns = t->busy_ns;
	ts->max_busy_ns = t->max_busy_ns;
	ts->stalls = t->stalls;
	ls_hist_add_bpf(&ts->hist, t->hist, t->max_busy_ns);
	return ts;
}

double ls_thread_busy_ratio(const struct ls_thread_summary *t)
{
	double span, ratio;

	if (t->last_ns <= t->first_seen_ns)
		return 0.0;
	span = (double)(t->last_ns - t->first_seen_ns);
	ratio = (double)t->busy_ns / span;
	return ratio > 1.0 ? 1.0 : ratio;
}

void ls_summary_free(struct ls_run_summary *sum)
{
	if (!sum)
		return;
	free(sum->threads);
	sum->threads = NULL;
	sum->n_threads = sum->cap_threads = 0;
}
