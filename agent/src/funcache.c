// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "funcache.h"

/*
 * What one function may hold: DWARF comes from the target's files (a
 * hostile library can describe anything); past these its addresses are
 * named by libdw alone, as before the cache.
 */
#define MAX_INSTANCES 65536
#define MAX_RANGES 262144
#define MAX_ROWS 1048576

struct range {
	uint64_t key, lo, hi;
	void *value;
};

/* Sorted by (key, lo); ranges of one key never overlap, so one candidate answers. */
struct ls_rangemap {
	struct range *v;
	size_t n, cap;
};

struct ls_rangemap *ls_rangemap__new(void)
{
	return calloc(1, sizeof(struct ls_rangemap));
}

void ls_rangemap__free(struct ls_rangemap *m)
{
	if (!m)
		return;
	free(m->v);
	free(m);
}

/* Index of the first range after (key, off): the candidate is the one before it. */
static size_t upper(const struct ls_rangemap *m, uint64_t key, uint64_t off)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct range *r = &m->v[mid];

		if (r->key < key || (r->key == key && r->lo <= off))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void *ls_rangemap__find(const struct ls_rangemap *m, uint64_t key, uint64_t off)
{
	size_t i;

	if (!m || !m->n)
		return NULL;
	i = upper(m, key, off);
	if (!i)
		return NULL;
	if (m->v[i - 1].key != key || off >= m->v[i - 1].hi)
		return NULL;
	return m->v[i - 1].value;
}

int ls_rangemap__add(struct ls_rangemap *m, uint64_t key, uint64_t lo, uint64_t hi, void *value)
{
	size_t i;

	if (lo >= hi)
		return -EINVAL;
	i = upper(m, key, lo);
	if ((i && m->v[i - 1].key == key && m->v[i - 1].hi > lo) ||
	    (i < m->n && m->v[i].key == key && m->v[i].lo < hi))
		return -EEXIST;
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 256;
		struct range *grown = realloc(m->v, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		m->v = grown;
		m->cap = cap;
	}
	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(*m->v));
	m->v[i] = (struct range){.key = key, .lo = lo, .hi = hi, .value = value};
	m->n++;
	return 0;
}

struct ls_func *ls_func__new(const char *symbol)
{
	struct ls_func *f = calloc(1, sizeof(*f));

	if (f)
		f->symbol = symbol;
	return f;
}

void ls_func__free(struct ls_func *f)
{
	if (!f)
		return;
	free(f->inst);
	free(f->ranges);
	free(f->rows);
	free(f);
}

int ls_func__add_inst(struct ls_func *f, int parent, const char *symbol, const char *call_file,
		      int call_line)
{
	if (parent < -1 || parent >= (int)f->n_inst)
		return -EINVAL;
	if (f->n_inst == MAX_INSTANCES)
		return -E2BIG;
	if (f->n_inst == f->cap_inst) {
		unsigned cap = f->cap_inst ? 2 * f->cap_inst : 16;
		struct ls_inl *grown = realloc(f->inst, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		f->inst = grown;
		f->cap_inst = cap;
	}
	f->inst[f->n_inst] = (struct ls_inl){
	    .parent = parent, .symbol = symbol, .call_file = call_file, .call_line = call_line};
	return (int)f->n_inst++;
}

int ls_func__add_range(struct ls_func *f, unsigned inst, uint64_t lo, uint64_t hi)
{
	struct ls_inl *in;

	if (inst >= f->n_inst || lo >= hi)
		return -EINVAL;
	/* an instance's ranges are added together: they stay contiguous */
	in = &f->inst[inst];
	if (in->n_ranges && in->range0 + in->n_ranges != f->n_ranges)
		return -EINVAL;
	if (f->n_ranges == MAX_RANGES)
		return -E2BIG;
	if (f->n_ranges == f->cap_ranges) {
		unsigned cap = f->cap_ranges ? 2 * f->cap_ranges : 16;
		struct ls_inl_range *grown = realloc(f->ranges, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		f->ranges = grown;
		f->cap_ranges = cap;
	}
	if (!in->n_ranges)
		in->range0 = f->n_ranges;
	in->n_ranges++;
	f->ranges[f->n_ranges++] = (struct ls_inl_range){.lo = lo, .hi = hi, .inst = inst};
	return 0;
}

static bool holds(const struct ls_func *f, unsigned inst, uint64_t off)
{
	const struct ls_inl *in = &f->inst[inst];
	unsigned i;

	for (i = in->range0; i < in->range0 + in->n_ranges; i++)
		if (off >= f->ranges[i].lo && off < f->ranges[i].hi)
			return true;
	return false;
}

unsigned ls_func__chain(const struct ls_func *f, uint64_t off, unsigned *chain, unsigned max)
{
	unsigned path[64], depth = 0, i, n = 0;
	int cur = -1;

	/*
	 * Descend as dwarf_getscopes does: children come after their parent
	 * in DIE order, so one pass finds the first child holding off, then
	 * that child's first child holding it, and so on.
	 */
	for (i = 0; i < f->n_inst && depth < sizeof(path) / sizeof(path[0]); i++) {
		if (f->inst[i].parent != cur)
			continue;
		if (holds(f, i, off)) {
			path[depth++] = i;
			cur = (int)i;
		}
	}
	while (depth && n < max)
		chain[n++] = path[--depth];
	return n;
}

int ls_func__add_row(struct ls_func *f, uint64_t addr, const char *file, int line,
		     bool end_sequence)
{
	if (f->n_rows && addr < f->rows[f->n_rows - 1].addr)
		return -EINVAL;
	if (f->n_rows == MAX_ROWS)
		return -E2BIG;
	if (f->n_rows == f->cap_rows) {
		unsigned cap = f->cap_rows ? 2 * f->cap_rows : 64;
		struct ls_line_row *grown = realloc(f->rows, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		f->rows = grown;
		f->cap_rows = cap;
	}
	f->rows[f->n_rows++] = (struct ls_line_row){
	    .addr = addr, .file = file, .line = line, .end_sequence = end_sequence};
	return 0;
}

const struct ls_line_row *ls_func__line(const struct ls_func *f, uint64_t off)
{
	unsigned lo = 0, hi;

	if (!f->n_rows)
		return NULL;
	/* the last row at or below off, ties going to the later row, as libdw's search */
	hi = f->n_rows - 1;
	while (lo < hi) {
		unsigned mid = hi - (hi - lo) / 2;

		if (off < f->rows[mid].addr)
			hi = mid - 1;
		else
			lo = mid;
	}
	if (f->rows[lo].end_sequence || f->rows[lo].addr > off)
		return NULL;
	return &f->rows[lo];
}
