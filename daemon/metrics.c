// SPDX-License-Identifier: BSD-2-Clause
/*
 * Metric registry and Prometheus text exposition format 0.0.4, as
 * https://prometheus.io/docs/instrumenting/exposition_formats/ describes it.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "loop_tracker.h"
#include "metrics.h"

struct series {
	char **values;
	uint64_t hash; /* of the values (values_hash): compared before the strings */
	double value;
	uint64_t *counts; /* histograms: n_bounds + 1 per-bucket counts */
	double sum;
};

struct ls_metric_family {
	char *name;
	char *help;
	enum ls_metric_type type;
	size_t n_labels;
	char *labels[LS_METRICS_MAX_LABELS];
	double *bounds;
	size_t n_bounds;
	struct series *series;
	size_t n_series, cap_series;
};

struct ls_metrics {
	struct ls_metric_family **families;
	size_t n_families, cap_families;
};

int ls_metrics__new(struct ls_metrics **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void family_free(struct ls_metric_family *f)
{
	size_t i, j;

	if (!f)
		return;
	for (i = 0; i < f->n_series; i++) {
		for (j = 0; j < f->n_labels; j++)
			free(f->series[i].values[j]);
		free(f->series[i].values);
		free(f->series[i].counts);
	}
	free(f->series);
	for (j = 0; j < f->n_labels; j++)
		free(f->labels[j]);
	free(f->bounds);
	free(f->help);
	free(f->name);
	free(f);
}

void ls_metrics__free(struct ls_metrics *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n_families; i++)
		family_free(m->families[i]);
	free(m->families);
	free(m);
}

static bool name_char(char c, bool first, bool colon)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return true;
	if (c == ':')
		return colon;
	return !first && c >= '0' && c <= '9';
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metrics, without ':' for labels */
static bool valid_name(const char *s, bool colon)
{
	const char *p;

	if (!s || !*s)
		return false;
	for (p = s; *p; p++)
		if (!name_char(*p, p == s, colon))
			return false;
	return true;
}

static bool valid_label(const char *s, enum ls_metric_type type)
{
	if (!valid_name(s, false))
		return false;
	/* names starting with __ are reserved for Prometheus' own use */
	if (!strncmp(s, "__", 2))
		return false;
	return type != LS_METRIC_HISTOGRAM || strcmp(s, "le");
}

static struct ls_metric_family *find_family(const struct ls_metrics *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n_families; i++)
		if (!strcmp(m->families[i]->name, name))
			return m->families[i];
	return NULL;
}

int ls_metrics__family(struct ls_metrics *m, const char *name, const char *help,
		       enum ls_metric_type type, const char *const *labels, const double *bounds,
		       size_t n_bounds, struct ls_metric_family **out)
{
	struct ls_metric_family *f = NULL;
	void *grown;
	size_t i, j;
	int err = -EINVAL;

	if (!valid_name(name, true) || !help || type > LS_METRIC_HISTOGRAM)
		return -EINVAL;
	if ((type == LS_METRIC_HISTOGRAM) != (n_bounds > 0))
		return -EINVAL;
	if (find_family(m, name))
		return -EEXIST;
	for (i = 0; i < n_bounds; i++)
		if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1]))
			return -EINVAL;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->type = type;
	for (i = 0; labels && labels[i]; i++) {
		if (i == LS_METRICS_MAX_LABELS || !valid_label(labels[i], type))
			goto cleanup;
		for (j = 0; j < i; j++)
			if (!strcmp(labels[i], labels[j]))
				goto cleanup;
		f->labels[i] = strdup(labels[i]);
		f->n_labels = i + 1;
		if (!f->labels[i])
			goto nomem;
	}
	f->name = strdup(name);
	f->help = strdup(help);
	if (!f->name || !f->help)
		goto nomem;
	if (n_bounds) {
		f->bounds = malloc(n_bounds * sizeof(*f->bounds));
		if (!f->bounds)
			goto nomem;
		memcpy(f->bounds, bounds, n_bounds * sizeof(*f->bounds));
		f->n_bounds = n_bounds;
	}
	grown = ls_grow(m->families, &m->cap_families, m->n_families + 1, sizeof(*m->families), 16);
	if (!grown)
		goto nomem;
	m->families = grown;
	m->families[m->n_families++] = f;
	if (out)
		*out = f;
	return 0;
nomem:
	err = -ENOMEM;
cleanup:
	family_free(f);
	return err;
}

/* FNV-1a over the label values, each ended by its NUL. */
static uint64_t values_hash(const char *const *values, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const char *c;
	size_t j;

	for (j = 0; j < n; j++) {
		for (c = values[j];; c++) {
			h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
			if (!*c)
				break;
		}
	}
	return h;
}

/*
 * The series with these label values, created (zero) when new; NULL with
 * *err set. A scan, but of hashes: a daemon with a thousand targets sets
 * every series of every family at each publish.
 */
static struct series *get_series(struct ls_metric_family *f, const char *const *values, int *err)
{
	struct series *s;
	void *grown;
	uint64_t h;
	size_t i, j;

	for (j = 0; j < f->n_labels; j++) {
		if (!values || !values[j]) {
			*err = -EINVAL;
			return NULL;
		}
	}
	h = values_hash(values, f->n_labels);
	for (i = 0; i < f->n_series; i++) {
		s = &f->series[i];
		if (s->hash != h)
			continue;
		for (j = 0; j < f->n_labels; j++)
			if (strcmp(s->values[j], values[j]))
				break;
		if (j == f->n_labels)
			return s;
	}
	*err = -ENOMEM;
	grown = ls_grow(f->series, &f->cap_series, f->n_series + 1, sizeof(*f->series), 8);
	if (!grown)
		return NULL;
	f->series = grown;
	s = &f->series[f->n_series];
	memset(s, 0, sizeof(*s));
	s->hash = h;
	if (f->n_labels) {
		s->values = calloc(f->n_labels, sizeof(*s->values));
		if (!s->values)
			return NULL;
	}
	if (f->type == LS_METRIC_HISTOGRAM) {
		s->counts = calloc(f->n_bounds + 1, sizeof(*s->counts));
		if (!s->counts)
			goto nomem;
	}
	for (j = 0; j < f->n_labels; j++) {
		s->values[j] = strdup(values[j]);
		if (!s->values[j])
			goto nomem;
	}
	f->n_series++;
	return s;
nomem:
	for (j = 0; j < f->n_labels; j++)
		free(s->values[j]);
	free(s->values);
	free(s->counts);
	return NULL;
}

/*
 * The series of values, for a number v that fits the family: a histogram's
 * when `hist`, else a gauge's or counter's (which never goes down). NULL
 * and *err when not.
 */
static struct series *series_for(struct ls_metric_family *f, const char *const *values, bool hist,
				 double v, int *err)
{
	if ((f->type == LS_METRIC_HISTOGRAM) != hist || isnan(v) ||
	    (f->type == LS_METRIC_COUNTER && v < 0)) {
		*err = -EINVAL;
		return NULL;
	}
	return get_series(f, values, err);
}

/* A gauge's or counter's series set to v, or v added to it. */
static int update(struct ls_metric_family *f, const char *const *values, double v, bool add)
{
	int err;
	struct series *s = series_for(f, values, false, v, &err);

	if (!s)
		return err;
	s->value = add ? s->value + v : v;
	return 0;
}

int ls_metrics__set(struct ls_metric_family *f, const char *const *values, double v)
{
	return update(f, values, v, false);
}

int ls_metrics__add(struct ls_metric_family *f, const char *const *values, double v)
{
	return update(f, values, v, true);
}

int ls_metrics__add_hist(struct ls_metric_family *f, const char *const *values,
			 const uint64_t *counts, double sum)
{
	size_t i;
	int err;
	struct series *s = series_for(f, values, true, sum, &err);

	if (!s)
		return err;
	if (counts)
		for (i = 0; i <= f->n_bounds; i++)
			s->counts[i] += counts[i];
	s->sum += sum;
	return 0;
}

size_t ls_metrics_bucket(const double *bounds, size_t n_bounds, double v)
{
	size_t i;

	/* buckets are "less than or equal": v == bound belongs to that bound */
	for (i = 0; i < n_bounds; i++)
		if (v <= bounds[i])
			return i;
	return n_bounds;
}

int ls_metrics__observe(struct ls_metric_family *f, const char *const *values, double v)
{
	int err;
	struct series *s = series_for(f, values, true, v, &err);

	if (!s)
		return err;
	s->counts[ls_metrics_bucket(f->bounds, f->n_bounds, v)]++;
	s->sum += v;
	return 0;
}

/*
 * The shortest text that reads back as v, in plain notation unless the
 * exponent is below -4 or above 20 (JavaScript's rule): "30", "0.0025",
 * "1e-05". Counters stay integers as long as a double holds them exactly.
 */
static void format_value(char *buf, size_t len, double v)
{
	int prec, exp, decimals;

	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == 0) {
		snprintf(buf, len, "0");
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, len, "%.*e", prec - 1, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	snprintf(buf, len, "%.*e", prec - 1, v);
	exp = atoi(strchr(buf, 'e') + 1);
	if (exp < -4 || exp > 20)
		return;
	decimals = prec - 1 - exp;
	snprintf(buf, len, "%.*f", decimals > 0 ? decimals : 0, v);
}

/* HELP text escapes backslash and newline; label values also the double quote. */
static void put_escaped(FILE *out, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '"' && quote)
			fputs("\\\"", out);
		else
			fputc(*s, out);
	}
}

/* name{labels[,le="..."]} value */
static void put_sample(FILE *out, const struct ls_metric_family *f, const struct series *s,
		       const char *suffix, const char *le, double v)
{
	char num[32];
	size_t j;

	fprintf(out, "%s%s", f->name, suffix);
	if (f->n_labels || le) {
		fputc('{', out);
		for (j = 0; j < f->n_labels; j++) {
			fprintf(out, "%s%s=\"", j ? "," : "", f->labels[j]);
			put_escaped(out, s->values[j], true);
			fputc('"', out);
		}
		if (le)
			fprintf(out, "%sle=\"%s\"", f->n_labels ? "," : "", le);
		fputc('}', out);
	}
	format_value(num, sizeof(num), v);
	fprintf(out, " %s\n", num);
}

static void put_histogram(FILE *out, const struct ls_metric_family *f, const struct series *s)
{
	uint64_t cumulative = 0;
	char le[32];
	size_t i;

	for (i = 0; i < f->n_bounds; i++) {
		cumulative += s->counts[i];
		format_value(le, sizeof(le), f->bounds[i]);
		put_sample(out, f, s, "_bucket", le, (double)cumulative);
	}
	cumulative += s->counts[f->n_bounds];
	put_sample(out, f, s, "_bucket", "+Inf", (double)cumulative);
	put_sample(out, f, s, "_sum", NULL, s->sum);
	put_sample(out, f, s, "_count", NULL, (double)cumulative);
}

int ls_metrics__render(const struct ls_metrics *m, char **text, size_t *len)
{
	static const char *const type_names[] = {
	    [LS_METRIC_COUNTER] = "counter",
	    [LS_METRIC_GAUGE] = "gauge",
	    [LS_METRIC_HISTOGRAM] = "histogram",
	};
	char *buf = NULL;
	size_t size = 0, i, k;
	FILE *out;

	out = open_memstream(&buf, &size);
	if (!out)
		return -ENOMEM;
	for (i = 0; i < m->n_families; i++) {
		const struct ls_metric_family *f = m->families[i];

		if (!f->n_series)
			continue;
		fprintf(out, "# HELP %s ", f->name);
		put_escaped(out, f->help, false);
		fprintf(out, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
		for (k = 0; k < f->n_series; k++) {
			if (f->type == LS_METRIC_HISTOGRAM)
				put_histogram(out, f, &f->series[k]);
			else
				put_sample(out, f, &f->series[k], "", NULL, f->series[k].value);
		}
	}
	if (ferror(out)) {
		fclose(out);
		free(buf);
		return -ENOMEM;
	}
	if (fclose(out)) {
		free(buf);
		return -ENOMEM;
	}
	*text = buf;
	*len = size;
	return 0;
}

/*
 * BPF bucket i holds busy periods in [lt_hist_lower(i), lt_hist_lower(i + 1)),
 * and Prometheus bucket b those <= bounds[b]. A BPF bucket goes to the first
 * Prometheus bucket that holds all of it, so where a BPF bucket straddles a
 * bound, its periods below the bound are counted in the next bucket up.
 * Each le="x" count is thus a lower bound of the true count, short by at
 * most the one BPF bucket that straddles x, whose width is 1/16
 * (LT_HIST_SUB) of its lower edge: a period is never reported shorter than
 * it was, and at most 6.25% of its value (or the 1.024 us of bucket 0)
 * beyond the bound it should have had. BPF's overflow bucket (>= 2^40 ns)
 * lands in +Inf.
 */
void ls_metrics_from_bpf_hist(const uint64_t *bpf_counts, const double *bounds, size_t n_bounds,
			      uint64_t *out)
{
	size_t b = 0;
	unsigned i;

	memset(out, 0, (n_bounds + 1) * sizeof(*out));
	for (i = 0; i < LT_HIST_BUCKETS; i++) {
		/* the largest value bucket i can hold, in ns */
		double top =
		    i == LT_HIST_BUCKETS - 1 ? INFINITY : (double)(lt_hist_lower(i + 1) - 1);

		/* buckets are visited in increasing order: b only moves up */
		while (b < n_bounds && top > round(bounds[b] * 1e9))
			b++;
		out[b] += bpf_counts[i];
	}
}
