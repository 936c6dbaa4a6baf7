// SPDX-License-Identifier: BSD-2-Clause
/* A module's .debug_aranges by address (aranges.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "aranges.h"
#include "grow.h"

struct ent {
	uint64_t addr, len;
	uint64_t unit; /* header offset in .debug_info */
	uint32_t k;    /* index of unit in x->units */
	bool equal_other; /* another unit has an entry at this address: qsort decides */
};

struct ls_aranges {
	struct ent *e;
	size_t n, cap;
	uint64_t *units;
	size_t n_units;
	/* libdwfl checks the end of the last entry only in the last run of one unit */
	size_t last_run;
	/*
	 * The ends of the entries at the highest address (qsort picks which is
	 * last): between them libdwfl's answer is qsort's. Not sure: two
	 * lengths there and an end that wraps.
	 */
	bool last_sure;
	uint64_t last_lo, last_hi;
};

struct reader {
	const unsigned char *p;
	size_t size, pos;
	bool msb;
};

/* n (<= 8) bytes at r->pos, which must lie before end. */
static int take(struct reader *r, size_t end, unsigned n, uint64_t *v)
{
	uint64_t x = 0;
	unsigned i;

	if (end > r->size || r->pos > end || end - r->pos < n)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		unsigned b = r->p[r->pos + (r->msb ? i : n - 1 - i)];

		x = x << 8 | b;
	}
	r->pos += n;
	*v = x;
	return 0;
}

static int add(struct ls_aranges *x, uint64_t addr, uint64_t len, uint64_t unit)
{
	struct ent *grown = ls_grow(x->e, &x->cap, x->n + 1, sizeof(*x->e), 1024);

	if (!grown)
		return -ENOMEM;
	x->e = grown;
	x->e[x->n++] = (struct ent){.addr = addr, .len = len, .unit = unit};
	return 0;
}

/* One set: its header, then (address, length) pairs up to the (0, 0) that ends it. */
static int parse_set(struct ls_aranges *x, struct reader *r)
{
	size_t hdr = r->pos, end;
	uint64_t len, version, unit, asz, ssz, addr, alen;
	unsigned off_size = 4;
	int err;

	if ((err = take(r, r->size, 4, &len)))
		return err;
	if (len == 0xffffffff) {
		if ((err = take(r, r->size, 8, &len)))
			return err;
		off_size = 8;
	} else if (len >= 0xfffffff0) {
		return -EINVAL;
	}
	if (len > r->size - r->pos)
		return -EINVAL;
	end = r->pos + len;
	/* .debug_aranges stayed at version 2 from DWARF 2 to 5; libdw reads no other */
	if ((err = take(r, end, 2, &version)) || (err = take(r, end, off_size, &unit)) ||
	    (err = take(r, end, 1, &asz)) || (err = take(r, end, 1, &ssz)))
		return err;
	if (version != 2 || (asz != 4 && asz != 8) || ssz != 0)
		return -EINVAL;
	/* the pairs start at a multiple of twice the address size from the header */
	r->pos += (2 * asz - (r->pos - hdr) % (2 * asz)) % (2 * asz);
	for (;;) {
		if ((err = take(r, end, asz, &addr)) || (err = take(r, end, asz, &alen)))
			return err;
		if (!addr && !alen)
			break;
		if ((err = add(x, addr, alen, unit)))
			return err;
	}
	/* libdw reads the next set right after the terminator, not at the set's length */
	return r->pos == end ? 0 : -EINVAL;
}

static int by_addr_unit(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->unit != y->unit)
		return x->unit < y->unit ? -1 : 1;
	return 0;
}

static int by_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t unit_index(const struct ls_aranges *x, uint64_t unit)
{
	size_t lo = 0, hi = x->n_units;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->units[mid] <= unit)
			lo = mid;
		else
			hi = mid;
	}
	return (uint32_t)lo;
}

/* Sorted entries, their units, which addresses libdwfl's order leaves open. */
static int seal(struct ls_aranges *x)
{
	size_t i, j, n = 0;
	bool sorted = true;

	for (i = 1; i < x->n && sorted; i++)
		sorted = by_addr_unit(&x->e[i - 1], &x->e[i]) <= 0;
	if (!sorted)
		qsort(x->e, x->n, sizeof(*x->e), by_addr_unit);

	x->units = malloc((x->n ? x->n : 1) * sizeof(*x->units));
	if (!x->units)
		return -ENOMEM;
	for (i = 0; i < x->n; i++)
		x->units[i] = x->e[i].unit;
	qsort(x->units, x->n, sizeof(*x->units), by_u64);
	for (i = 0; i < x->n; i++)
		if (!n || x->units[n - 1] != x->units[i])
			x->units[n++] = x->units[i];
	x->n_units = n;
	if (n > UINT32_MAX)
		return -EINVAL;
	for (i = 0; i < x->n; i++)
		x->e[i].k = unit_index(x, x->e[i].unit);

	/* an address group: its first and last unit differ when it holds two (sorted by unit) */
	for (i = 0; i < x->n; i = j) {
		bool mixed;

		for (j = i + 1; j < x->n && x->e[j].addr == x->e[i].addr; j++)
			;
		mixed = x->e[i].unit != x->e[j - 1].unit;
		while (i < j)
			x->e[i++].equal_other = mixed;
	}
	if (!x->n)
		return 0;
	x->last_sure = true;
	x->last_lo = x->last_hi = x->e[x->n - 1].addr + x->e[x->n - 1].len;
	for (i = x->n - 1; i > 0 && x->e[i - 1].addr == x->e[x->n - 1].addr; i--) {
		const struct ent *e = &x->e[i - 1];
		uint64_t end = e->addr + e->len;

		if (e->len == x->e[x->n - 1].len)
			continue;
		if (end < e->addr || x->last_lo < e->addr)
			x->last_sure = false;
		x->last_lo = end < x->last_lo ? end : x->last_lo;
		x->last_hi = end > x->last_hi ? end : x->last_hi;
	}
	for (i = x->n - 1; i > 0 && x->e[i - 1].unit == x->e[x->n - 1].unit; i--)
		;
	x->last_run = i;
	return 0;
}

int ls_aranges__parse(const void *buf, size_t size, bool msb, struct ls_aranges **out)
{
	struct reader r = {.p = buf, .size = size, .msb = msb};
	struct ls_aranges *x;
	int err = 0;

	*out = NULL;
	if (!buf && size)
		return -EINVAL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	while (r.pos < r.size && !err)
		err = parse_set(x, &r);
	if (!err)
		err = seal(x);
	if (err) {
		ls_aranges__free(x);
		return err;
	}
	*out = x;
	return 0;
}

void ls_aranges__free(struct ls_aranges *x)
{
	if (!x)
		return;
	free(x->e);
	free(x->units);
	free(x);
}

size_t ls_aranges__units(const struct ls_aranges *x, const uint64_t **units)
{
	*units = x->units;
	return x->n_units;
}

size_t ls_aranges__entries(const struct ls_aranges *x)
{
	return x->n;
}

enum ls_aranges_answer ls_aranges__find(const struct ls_aranges *x, uint64_t addr, uint64_t *unit,
					size_t *k)
{
	size_t lo = 0, hi, j;

	if (!x)
		return LS_ARANGES_ASK;
	hi = x->n;
	/* the first entry above addr: libdwfl's run is the one of the entry before it */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->e[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return LS_ARANGES_NONE;
	j = lo - 1;
	if (x->e[j].equal_other)
		return LS_ARANGES_ASK;
	/*
	 * libdwfl's test is addr > end (the end itself is still the unit's),
	 * made only above the run's start (an end that wraps)
	 */
	if (j >= x->last_run && addr > x->e[x->last_run].addr) {
		if (!x->last_sure)
			return LS_ARANGES_ASK;
		if (addr > x->last_hi)
			return LS_ARANGES_NONE;
		if (addr > x->last_lo)
			return LS_ARANGES_ASK;
	}
	*unit = x->e[j].unit;
	if (k)
		*k = x->e[j].k;
	return LS_ARANGES_UNIT;
}
