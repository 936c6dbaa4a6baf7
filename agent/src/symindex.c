// SPDX-License-Identifier: BSD-2-Clause
/* A module's symbols by address (symindex.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "symindex.h"

/* Symbols looked at below an address before giving the question back to libdwfl. */
#define MAX_STEPS 64

struct sym {
	uint64_t value, size;
	const char *name;
};

struct ls_symindex {
	struct sym *v;
	uint64_t *max_end; /* the highest end of v[0..i]: how far down a holder can be */
	size_t n, cap;
	bool sealed;
};

struct ls_symindex *ls_symindex__new(void)
{
	return calloc(1, sizeof(struct ls_symindex));
}

void ls_symindex__free(struct ls_symindex *x)
{
	if (!x)
		return;
	free(x->v);
	free(x->max_end);
	free(x);
}

int ls_symindex__add(struct ls_symindex *x, uint64_t value, uint64_t size, const char *name)
{
	struct sym *grown;

	if (x->sealed || !name)
		return -EINVAL;
	grown = ls_grow(x->v, &x->cap, x->n + 1, sizeof(*x->v), 1024);
	if (!grown)
		return -ENOMEM;
	x->v = grown;
	x->v[x->n++] = (struct sym){.value = value, .size = size, .name = name};
	return 0;
}

/*
 * By value, least significant byte first (stable, so the order of equal
 * values is the table's). qsort's ~16 indirect compares per symbol cost
 * ~3 ms for python3's 40,000. Only the bytes that differ somewhere are
 * sorted on (a module's addresses share their high bytes), their counts
 * taken in one pass: counting a shared byte increments one counter n
 * times in a row, each increment waiting for the last (~0.1 ms a byte
 * for python3). -ENOMEM.
 */
static int sort_by_value(struct ls_symindex *x)
{
	size_t(*count)[256], i;
	struct sym *tmp, *from = x->v, *to;
	unsigned byte, shift[8], nb = 0, j;
	uint64_t differ = 0;

	for (i = 1; i < x->n; i++)
		differ |= x->v[i].value ^ x->v[0].value;
	for (byte = 0; byte < 8; byte++)
		if ((differ >> byte * 8) & 0xff)
			shift[nb++] = byte * 8;
	if (!nb)
		return 0;
	count = calloc(nb, sizeof(*count));
	tmp = malloc(x->n * sizeof(*tmp));
	if (!count || !tmp) {
		free(count);
		free(tmp);
		return -ENOMEM;
	}
	for (i = 0; i < x->n; i++)
		for (j = 0; j < nb; j++)
			count[j][(x->v[i].value >> shift[j]) & 0xff]++;
	to = tmp;
	for (j = 0; j < nb; j++) {
		size_t pos[256], at = 0;
		unsigned b;

		for (b = 0; b < 256; b++) {
			pos[b] = at;
			at += count[j][b];
		}
		for (i = 0; i < x->n; i++)
			to[pos[(from[i].value >> shift[j]) & 0xff]++] = from[i];
		to = from;
		from = from == x->v ? tmp : x->v;
	}
	if (from != x->v)
		memcpy(x->v, from, x->n * sizeof(*x->v));
	free(count);
	free(tmp);
	return 0;
}

static uint64_t end_of(const struct sym *s)
{
	/* a symbol past the address space ends at its top */
	return s->value + s->size < s->value ? UINT64_MAX : s->value + s->size;
}

int ls_symindex__seal(struct ls_symindex *x)
{
	size_t i;

	if (x->sealed)
		return 0;
	if (sort_by_value(x))
		return -ENOMEM;
	x->max_end = malloc((x->n ? x->n : 1) * sizeof(*x->max_end));
	if (!x->max_end)
		return -ENOMEM;
	for (i = 0; i < x->n; i++) {
		uint64_t e = end_of(&x->v[i]);

		x->max_end[i] = i && x->max_end[i - 1] > e ? x->max_end[i - 1] : e;
	}
	x->sealed = true;
	return 0;
}

bool ls_symindex__find(const struct ls_symindex *x, uint64_t addr, struct ls_symindex_hit *hit)
{
	const struct sym *found = NULL;
	size_t lo = 0, hi, i, steps = 0;

	if (!x || !x->sealed || !x->n)
		return false;
	/* hi: one past the last symbol at or below addr */
	hi = x->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->v[mid].value <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* every symbol below that may still hold addr, highest first */
	for (i = lo; i > 0 && x->max_end[i - 1] > addr; i--) {
		const struct sym *s = &x->v[i - 1];

		if (++steps > MAX_STEPS)
			return false;
		/* a label at addr: libdwfl may prefer it, by binding and table order */
		if (!s->size && s->value == addr)
			return false;
		if (!s->size || addr - s->value >= s->size)
			continue;
		/* two holders: which one libdwfl names depends on the table's order */
		if (found)
			return false;
		found = s;
	}
	/* labels at addr below every holder's end were not walked: look at them too */
	for (i = lo; i > 0 && x->v[i - 1].value == addr; i--)
		if (!x->v[i - 1].size)
			return false;
	if (!found)
		return false;
	hit->name = found->name;
	hit->value = found->value;
	hit->size = found->size;
	return true;
}
