// SPDX-License-Identifier: BSD-2-Clause
/*
 * The totals behind loopstalld's /metrics. Stalls come one by one from the
 * agent; loop counters are cumulative per thread in BPF and are read as
 * snapshots. A thread's last counters are folded into its target's retired
 * totals when it exits, so a target's series never go down.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loopstalld.h"

/* Loop stalls: 1 ms .. 30 s. */
static const double stall_bounds[] = { .001, .0025, .005, .01, .025, .05, .1,
				       .25,  .5,    1,    2.5, 5,    10,  30 };
#define N_STALL (sizeof(stall_bounds) / sizeof(stall_bounds[0]))
/* Heartbeat gaps (every busy period): the stall range plus room below 1 ms for healthy loops. */
static const double gap_bounds[] = { .00001, .000025, .00005, .0001, .00025, .0005, .001,
				     .0025,  .005,    .01,    .025,  .05,    .1,    .25,
				     .5,     1,	      2.5,    5,     10,     30 };
#define N_GAP (sizeof(gap_bounds) / sizeof(gap_bounds[0]))

/* A thread that vanished without its exit record is kept this long to take it. */
#define GRAVE_NS 10000000000ull
#define SYSCALL_NAME_MAX 32

struct syscall_total {
	char name[SYSCALL_NAME_MAX];
	double seconds;
};

struct target_stats {
	char *label;
	char container_id[LS_CONTAINER_ID_LEN + 1];
	char pod_uid[LS_POD_UID_LEN + 1];
	uint64_t stall_counts[LS_CAUSE_COUNT][N_STALL + 1];
	double stall_sum[LS_CAUSE_COUNT];
	struct syscall_total *syscalls;
	size_t n_syscalls;
	/* threads gone: their final counters */
	uint64_t iterations;
	uint64_t busy_ns;
	uint64_t hist[LS_HIST_BUCKETS];
	/* the longest stall still running, as of the last snapshot */
	uint64_t in_progress_ns;
};

/* A loop thread as last seen. */
struct thread_rec {
	struct ls_ledger last; /* its counters then: tid and first_seen_ns tell a reused tid */
	size_t target;
	bool seen;
	uint64_t expire_ns; /* graveyard only */
};

struct lsd_stats {
	struct target_stats *targets;
	size_t n_targets, cap_targets;
	struct thread_rec *live;
	size_t n_live, cap_live;
	struct thread_rec *grave;
	size_t n_grave, cap_grave;
	uint64_t now_ns;
};

int lsd_stats__new(struct lsd_stats **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void lsd_stats__free(struct lsd_stats *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n_targets; i++) {
		free(s->targets[i].label);
		free(s->targets[i].syscalls);
	}
	free(s->targets);
	free(s->live);
	free(s->grave);
	free(s);
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* Index of key's totals, created when new; -ENOMEM. */
static long target_index(struct lsd_stats *s, const struct lsd_key *key)
{
	const char *cid = or_empty(key->container_id), *pod = or_empty(key->pod_uid);
	struct target_stats *grown, *t;
	size_t i;

	for (;;) {
		for (i = 0; i < s->n_targets; i++) {
			t = &s->targets[i];
			if (!strcmp(t->label, key->target) && !strcmp(t->container_id, cid) &&
			    !strcmp(t->pod_uid, pod))
				return (long)i;
		}
		/* containers come and go: past the bound, new ones share their target's series */
		if (s->n_targets < LSD_SERIES_MAX || (!*cid && !*pod))
			break;
		cid = pod = "";
	}
	/* doubling: a target's stats hold its histograms, and there may be a thousand */
	if (s->n_targets == s->cap_targets) {
		size_t cap = s->cap_targets ? 2 * s->cap_targets : 8;

		grown = realloc(s->targets, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		s->targets = grown;
		s->cap_targets = cap;
	}
	t = &s->targets[s->n_targets];
	memset(t, 0, sizeof(*t));
	t->label = strdup(key->target);
	if (!t->label)
		return -ENOMEM;
	snprintf(t->container_id, sizeof(t->container_id), "%s", cid);
	snprintf(t->pod_uid, sizeof(t->pod_uid), "%s", pod);
	return (long)s->n_targets++;
}

int lsd_stats__target(struct lsd_stats *s, const struct lsd_key *key)
{
	long i = target_index(s, key);

	return i < 0 ? (int)i : 0;
}

static int add_syscall(struct target_stats *t, const char *name, double seconds)
{
	struct syscall_total *grown;
	size_t i;

	for (i = 0; i < t->n_syscalls; i++) {
		if (!strcmp(t->syscalls[i].name, name)) {
			t->syscalls[i].seconds += seconds;
			return 0;
		}
	}
	grown = realloc(t->syscalls, (t->n_syscalls + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	t->syscalls = grown;
	snprintf(grown[t->n_syscalls].name, SYSCALL_NAME_MAX, "%s", name);
	grown[t->n_syscalls++].seconds = seconds;
	return 0;
}

int lsd_stats__stall(struct lsd_stats *s, const struct lsd_key *key, const struct ls_stall *st)
{
	unsigned cause = (unsigned)st->cause < LS_CAUSE_COUNT ? (unsigned)st->cause
							       : LS_CAUSE_UNKNOWN;
	double dur = (double)(st->end_ns - st->start_ns) / 1e9;
	struct target_stats *t;
	long i = target_index(s, key);
	unsigned k;
	int err;

	if (i < 0)
		return (int)i;
	t = &s->targets[i];
	t->stall_counts[cause][ls_metrics_bucket(stall_bounds, N_STALL, dur)]++;
	t->stall_sum[cause] += dur;
	for (k = 0; k < st->n_syscalls && k < LS_STALL_SYSCALLS; k++) {
		const struct ls_syscall_use *u = &st->syscalls[k];

		if (!u->total_ns)
			continue;
		err = add_syscall(t, u->name ? u->name : "unknown", (double)u->total_ns / 1e9);
		if (err)
			return err;
	}
	return 0;
}

/* Add what a thread counted (a ledger's delta, or all it had) to totals. */
static void count_into(uint64_t *iterations, uint64_t *busy_ns, uint64_t *hist,
		       const struct ls_ledger *counted)
{
	unsigned i;

	*iterations += counted->iterations;
	*busy_ns += counted->busy_ns;
	for (i = 0; i < LS_HIST_BUCKETS; i++)
		hist[i] += counted->hist[i];
}

/* Fold what a thread counted into its target's retired totals. */
static void retire(struct lsd_stats *s, size_t target, const struct ls_ledger *counted)
{
	struct target_stats *t = &s->targets[target];

	count_into(&t->iterations, &t->busy_ns, t->hist, counted);
}

static struct thread_rec *find(struct thread_rec *recs, size_t n, uint32_t tid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (recs[i].last.tid == tid)
			return &recs[i];
	return NULL;
}

static int push(struct thread_rec **recs, size_t *n, size_t *cap, const struct thread_rec *rec)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 8;
		void *grown = realloc(*recs, c * sizeof(**recs));

		if (!grown)
			return -ENOMEM;
		*recs = grown;
		*cap = c;
	}
	(*recs)[(*n)++] = *rec;
	return 0;
}

/* Move a live thread to the graveyard, its last counters retired. */
static int bury(struct lsd_stats *s, size_t idx)
{
	struct thread_rec rec = s->live[idx];
	struct thread_rec *old;

	/* vanished: its last snapshot is all there is */
	retire(s, rec.target, &rec.last);
	s->live[idx] = s->live[--s->n_live];
	rec.expire_ns = s->now_ns + GRAVE_NS;
	old = find(s->grave, s->n_grave, rec.last.tid);
	if (old) {
		*old = rec;
		return 0;
	}
	return push(&s->grave, &s->n_grave, &s->cap_grave, &rec);
}

void lsd_stats__begin(struct lsd_stats *s, uint64_t now_ns)
{
	size_t i;

	s->now_ns = now_ns;
	for (i = 0; i < s->n_live; i++)
		s->live[i].seen = false;
	for (i = 0; i < s->n_targets; i++)
		s->targets[i].in_progress_ns = 0;
	for (i = 0; i < s->n_grave;) {
		if (s->grave[i].expire_ns <= now_ns)
			s->grave[i] = s->grave[--s->n_grave];
		else
			i++;
	}
}

int lsd_stats__thread(struct lsd_stats *s, const struct lsd_key *key,
		      const struct ls_thread_stats *t, uint64_t threshold_ns)
{
	struct thread_rec *rec, fresh;
	long target = target_index(s, key);
	struct ls_ledger delta;
	uint64_t running;
	int err;

	if (target < 0)
		return (int)target;
	rec = find(s->live, s->n_live, t->tid);
	if (rec && !ls_ledger_same_thread(rec->last.tid, rec->last.first_seen_ns, t)) {
		/* the tid was reused: the thread before it is gone */
		err = bury(s, (size_t)(rec - s->live));
		if (err)
			return err;
		rec = NULL;
	}
	if (!rec) {
		memset(&fresh, 0, sizeof(fresh));
		ls_ledger_start(&fresh.last, t);
		fresh.target = (size_t)target;
		err = push(&s->live, &s->n_live, &s->cap_live, &fresh);
		if (err)
			return err;
		rec = &s->live[s->n_live - 1];
	}
	/* counted in the totals only once the thread is retired */
	ls_ledger_take(&rec->last, t, &delta);
	rec->seen = true;
	running =
	    t->busy_start_ns && s->now_ns > t->busy_start_ns ? s->now_ns - t->busy_start_ns : 0;
	if (running >= threshold_ns && running > s->targets[target].in_progress_ns)
		s->targets[target].in_progress_ns = running;
	return 0;
}

int lsd_stats__end(struct lsd_stats *s)
{
	size_t i;
	int err;

	for (i = 0; i < s->n_live;) {
		if (s->live[i].seen) {
			i++;
			continue;
		}
		err = bury(s, i);
		if (err)
			return err;
	}
	return 0;
}

int lsd_stats__thread_exit(struct lsd_stats *s, const struct lsd_key *key,
			   const struct ls_thread_stats *t)
{
	struct ls_ledger none, delta;
	struct thread_rec *rec;
	long target;

	/* a live thread's counters are not in the totals yet: all of final goes in */
	ls_ledger_start(&none, t);
	rec = find(s->live, s->n_live, t->tid);
	if (rec && ls_ledger_same_thread(rec->last.tid, rec->last.first_seen_ns, t)) {
		ls_ledger_take(&none, t, &delta);
		retire(s, rec->target, &delta);
		*rec = s->live[--s->n_live];
		return 0;
	}
	/*
	 * Vanished from a snapshot before its exit record came: add only the
	 * rest; the ledger then holds final, so a second exit record adds nothing.
	 */
	rec = find(s->grave, s->n_grave, t->tid);
	if (rec && ls_ledger_same_thread(rec->last.tid, rec->last.first_seen_ns, t)) {
		ls_ledger_take(&rec->last, t, &delta);
		retire(s, rec->target, &delta);
		return 0;
	}
	/* never seen in a snapshot: all it counted is new */
	target = target_index(s, key);
	if (target < 0)
		return (int)target;
	ls_ledger_take(&none, t, &delta);
	retire(s, (size_t)target, &delta);
	return 0;
}

/* The family, as docs/architecture.md names it; NULL after a failure already recorded in err. */
static struct ls_metric_family *family(struct ls_metrics *m, int *err, const char *name,
				       const char *help, enum ls_metric_type type,
				       const char *const *labels, const double *bounds,
				       size_t n_bounds)
{
	struct ls_metric_family *f = NULL;
	int ret;

	if (*err)
		return NULL;
	ret = ls_metrics__family(m, name, help, type, labels, bounds, n_bounds, &f);
	if (ret)
		*err = ret;
	return f;
}

/* Record the first error and keep going: err says whether the export is whole. */
static void check(int *err, int ret)
{
	if (ret && !*err)
		*err = ret;
}

int lsd_stats__export(const struct lsd_stats *s, const struct lsd_self *self,
		      struct ls_metrics *m)
{
	static const char *const by_target[] = { "target", "container_id", "pod_uid", NULL };
	static const char *const by_cause[] = { "target", "container_id", "pod_uid", "cause",
						NULL };
	static const char *const by_syscall[] = { "target", "container_id", "pod_uid", "syscall",
						  NULL };
	struct ls_metric_family *dur, *stalls, *gap, *busy, *iters, *sys, *running, *lost, *targets,
		*info, *bpf_s, *bpf_n;
	uint64_t hist[LS_HIST_BUCKETS], gap_counts[N_GAP + 1], stall_n;
	int err = 0;
	size_t i, j, c;

	dur = family(m, &err, "loopstall_stall_duration_seconds",
		     "Duration of loop stalls (busy periods over the threshold), by cause.",
		     LS_METRIC_HISTOGRAM, by_cause, stall_bounds, N_STALL);
	stalls = family(m, &err, "loopstall_stalls_total", "Loop stalls seen, by cause.",
			LS_METRIC_COUNTER, by_cause, NULL, 0);
	gap = family(m, &err, "loopstall_heartbeat_gap_seconds",
		     "Busy periods of loop threads: time from a return from the wait to the next "
		     "wait, from BPF's histogram.",
		     LS_METRIC_HISTOGRAM, by_target, gap_bounds, N_GAP);
	busy = family(m, &err, "loopstall_loop_busy_seconds_total",
		      "Time loop threads spent outside their wait (busy periods).", LS_METRIC_COUNTER,
		      by_target, NULL, 0);
	iters = family(m, &err, "loopstall_loop_iterations_total",
		       "Loop iterations (busy periods) completed.", LS_METRIC_COUNTER, by_target,
		       NULL, 0);
	sys = family(m, &err, "loopstall_blocking_syscall_seconds_total",
		     "Time stalled loop threads spent blocked in each syscall, during stalls.",
		     LS_METRIC_COUNTER, by_syscall, NULL, 0);
	running = family(m, &err, "loopstall_stall_in_progress_seconds",
			 "How long the longest stall still running has lasted; 0 when none is.",
			 LS_METRIC_GAUGE, by_target, NULL, 0);
	lost = family(m, &err, "loopstall_lost_events_total",
		      "Events lost: ring-buffer reservations that failed and undecodable records.",
		      LS_METRIC_COUNTER, NULL, NULL, 0);
	targets = family(m, &err, "loopstall_targets", "Processes loopstalld is attached to.",
			 LS_METRIC_GAUGE, NULL, NULL, 0);
	bpf_s = family(m, &err, "loopstall_bpf_run_seconds_total",
		       "CPU time spent in loopstall's BPF programs (bpf_enable_stats); "
		       "0 unless bpf_stats is on.",
		       LS_METRIC_COUNTER, NULL, NULL, 0);
	bpf_n = family(m, &err, "loopstall_bpf_runs_total",
		       "Runs of loopstall's BPF programs; 0 unless bpf_stats is on.",
		       LS_METRIC_COUNTER, NULL, NULL, 0);
	info = family(m, &err, "loopstall_build_info", "loopstall's version; always 1.",
		      LS_METRIC_GAUGE, (const char *const[]){ "version", NULL }, NULL, 0);
	if (err)
		return err;

	for (i = 0; i < s->n_targets; i++) {
		const struct target_stats *t = &s->targets[i];
		uint64_t iterations = t->iterations, busy_ns = t->busy_ns;
		const char *label[] = { t->label, t->container_id, t->pod_uid, NULL, NULL };

		for (c = 0; c < LS_CAUSE_COUNT; c++) {
			label[3] = ls_cause_name((enum ls_cause)c);
			check(&err, ls_metrics__add_hist(dur, label, t->stall_counts[c],
							 t->stall_sum[c]));
			stall_n = 0;
			for (j = 0; j <= N_STALL; j++)
				stall_n += t->stall_counts[c][j];
			check(&err, ls_metrics__set(stalls, label, (double)stall_n));
		}
		memcpy(hist, t->hist, sizeof(hist));
		for (j = 0; j < s->n_live; j++)
			if (s->live[j].target == i)
				count_into(&iterations, &busy_ns, hist, &s->live[j].last);
		ls_metrics_from_bpf_hist(hist, gap_bounds, N_GAP, gap_counts);
		check(&err, ls_metrics__add_hist(gap, label, gap_counts, (double)busy_ns / 1e9));
		check(&err, ls_metrics__set(busy, label, (double)busy_ns / 1e9));
		check(&err, ls_metrics__set(iters, label, (double)iterations));
		for (j = 0; j < t->n_syscalls; j++) {
			label[3] = t->syscalls[j].name;
			check(&err, ls_metrics__set(sys, label, t->syscalls[j].seconds));
		}
		label[3] = NULL;
		check(&err, ls_metrics__set(running, label, (double)t->in_progress_ns / 1e9));
	}
	check(&err, ls_metrics__set(lost, NULL, (double)self->lost_events));
	check(&err, ls_metrics__set(targets, NULL, self->targets));
	check(&err, ls_metrics__set(bpf_s, NULL, (double)self->bpf_run_ns / 1e9));
	check(&err, ls_metrics__set(bpf_n, NULL, (double)self->bpf_runs));
	check(&err, ls_metrics__set(info, (const char *const[]){ self->version }, 1));
	return err;
}
