// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "funcache.h"
#include "grow.h"

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

int ls_rangemap__each(const struct ls_rangemap *m, uint64_t key,
		      int (*fn)(void *ctx, uint64_t lo, uint64_t hi, void *value), void *ctx)
{
	size_t i;
	int err;

	if (!m)
		return 0;
	/* upper(key, 0) is past the key's range starting at 0, if any: its first */
	for (i = upper(m, key, 0); i > 0 && m->v[i - 1].key == key; i--)
		;
	for (; i < m->n && m->v[i].key == key; i++)
		if ((err = fn(ctx, m->v[i].lo, m->v[i].hi, m->v[i].value)))
			return err;
	return 0;
}

int ls_rangemap__add(struct ls_rangemap *m, uint64_t key, uint64_t lo, uint64_t hi, void *value)
{
	void *grown;
	size_t i;

	if (lo >= hi)
		return -EINVAL;
	i = upper(m, key, lo);
	if ((i && m->v[i - 1].key == key && m->v[i - 1].hi > lo) ||
	    (i < m->n && m->v[i].key == key && m->v[i].lo < hi))
		return -EEXIST;
	grown = ls_grow(m->v, &m->cap, m->n + 1, sizeof(*m->v), 256);
	if (!grown)
		return -ENOMEM;
	m->v = grown;
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

/*
 * One of a function's arrays grown for one more entry, of at most max: the
 * array (moved or not), or NULL with *err (-E2BIG at max, -ENOMEM).
 */
static void *room(void *items, size_t *cap, unsigned n, unsigned max, size_t size, size_t first,
		  int *err)
{
	void *grown;

	if (n >= max) {
		*err = -E2BIG;
		return NULL;
	}
	grown = ls_grow(items, cap, (size_t)n + 1, size, first);
	if (!grown)
		*err = -ENOMEM;
	return grown;
}

int ls_func__add_inst(struct ls_func *f, int parent, const char *symbol, const char *call_file,
		      int call_line)
{
	void *grown;
	int err;

	if (parent < -1 || parent >= (int)f->n_inst)
		return -EINVAL;
	grown = room(f->inst, &f->cap_inst, f->n_inst, MAX_INSTANCES, sizeof(*f->inst), 16, &err);
	if (!grown)
		return err;
	f->inst = grown;
	f->inst[f->n_inst] = (struct ls_inl){
	    .parent = parent, .symbol = symbol, .call_file = call_file, .call_line = call_line};
	return (int)f->n_inst++;
}

int ls_func__add_range(struct ls_func *f, unsigned inst, uint64_t lo, uint64_t hi)
{
	struct ls_inl *in;
	void *grown;
	int err;

	if (inst >= f->n_inst || lo >= hi)
		return -EINVAL;
	/* an instance's ranges are added together: they stay contiguous */
	in = &f->inst[inst];
	if (in->n_ranges && in->range0 + in->n_ranges != f->n_ranges)
		return -EINVAL;
	grown =
	    room(f->ranges, &f->cap_ranges, f->n_ranges, MAX_RANGES, sizeof(*f->ranges), 16, &err);
	if (!grown)
		return err;
	f->ranges = grown;
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
	void *grown;
	int err;

	if (f->n_rows && addr < f->rows[f->n_rows - 1].addr)
		return -EINVAL;
	grown = room(f->rows, &f->cap_rows, f->n_rows, MAX_ROWS, sizeof(*f->rows), 64, &err);
	if (!grown)
		return err;
	f->rows = grown;
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
