/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_METRICS_H
#define LOOPSTALL_METRICS_H

#include <stddef.h>
#include <stdint.h>

/*
 * A metric registry and its Prometheus text exposition (format 0.0.4).
 * The registry is filled afresh for every exposition from the totals the
 * caller keeps, so it holds values, not state. Families print in the order
 * they were declared, each with exactly one HELP and one TYPE line; series
 * in the order they were first touched; histogram buckets in increasing
 * order, cumulative, ending with le="+Inf" equal to _count. Families that
 * have no series are left out.
 *
 * Functions return 0 or -errno: -EINVAL for a bad name, label set, value or
 * bucket layout, -ENOMEM without memory.
 */
#define LS_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define LS_METRICS_MAX_LABELS 4

enum ls_metric_type {
	LS_METRIC_COUNTER,
	LS_METRIC_GAUGE,
	LS_METRIC_HISTOGRAM,
};

struct ls_metrics;
struct ls_metric_family;

int ls_metrics__new(struct ls_metrics **out);
void ls_metrics__free(struct ls_metrics *m);

/*
 * Declare a family. labels: NULL-terminated label names, or NULL for none.
 * bounds (histograms only): strictly increasing finite bucket upper bounds;
 * +Inf is implied. Declaring a name twice is -EEXIST.
 */
int ls_metrics__family(struct ls_metrics *m, const char *name, const char *help,
		       enum ls_metric_type type, const char *const *labels, const double *bounds,
		       size_t n_bounds, struct ls_metric_family **out);

/* Label values follow the family's label names, one each (NULL when it has none). */
int ls_metrics__set(struct ls_metric_family *f, const char *const *values, double v);
/* Add to a counter or gauge series, creating it at 0; counters only go up. */
int ls_metrics__add(struct ls_metric_family *f, const char *const *values, double v);
/*
 * Add to a histogram series: counts[i] observations in (bounds[i-1], bounds[i]]
 * (counts[n_bounds]: above the last bound) whose values sum to sum.
 */
int ls_metrics__add_hist(struct ls_metric_family *f, const char *const *values,
			 const uint64_t *counts, double sum);
/* One observation of a histogram. */
int ls_metrics__observe(struct ls_metric_family *f, const char *const *values, double v);

/* The exposition, NUL-terminated and malloc'd; *len is its length without the NUL. */
int ls_metrics__render(const struct ls_metrics *m, char **text, size_t *len);

/*
 * Fold BPF's log-linear busy-period histogram (LT_HIST_BUCKETS counts, ns)
 * into Prometheus buckets with bounds in seconds: out gets n_bounds + 1
 * per-bucket counts, as ls_metrics__add_hist() takes them. See metrics.c for
 * the error this conversion makes.
 */
void ls_metrics_from_bpf_hist(const uint64_t *bpf_counts, const double *bounds, size_t n_bounds,
			      uint64_t *out);

/* Index of the bucket (0..n_bounds) an observation of v falls into. */
size_t ls_metrics_bucket(const double *bounds, size_t n_bounds, double v);

#endif
