// SPDX-License-Identifier: BSD-2-Clause
/* A module's .debug_aranges by address (aranges.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "aranges.h"
#include "grow.h"

struct ent {
	uint64_t addr, len;
	uint32_t k;	  /* index of its unit in x->units (while parsing: of its set) */
	bool equal_other; /* another unit has an entry at this address: qsort decides */
};

struct ls_aranges {
	struct ent *e;
	size_t n, cap;
	uint64_t *units; /* while parsing: each set's, in order */
	size_t n_units, units_cap;
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
	/* the common case, a little-endian file on a little-endian host: one load */
	if (!r->msb && (n == 8 || n == 4) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) {
		uint32_t w;

		if (n == 8) {
			memcpy(&x, r->p + r->pos, 8);
		} else {
			memcpy(&w, r->p + r->pos, 4);
			x = w;
		}
		r->pos += n;
		*v = x;
		return 0;
	}
	for (i = 0; i < n; i++) {
		unsigned b = r->p[r->pos + (r->msb ? i : n - 1 - i)];

		x = x << 8 | b;
	}
	r->pos += n;
	*v = x;
	return 0;
}

static int add(struct ls_aranges *x, uint64_t addr, uint64_t len)
{
	struct ent *grown = ls_grow(x->e, &x->cap, x->n + 1, sizeof(*x->e), 1024);

	if (!grown)
		return -ENOMEM;
	x->e = grown;
	x->e[x->n++] = (struct ent){.addr = addr, .len = len, .k = (uint32_t)(x->n_units - 1)};
	return 0;
}

static int add_set(struct ls_aranges *x, uint64_t unit)
{
	uint64_t *grown;

	if (x->n_units >= UINT32_MAX)
		return -EINVAL;
	grown = ls_grow(x->units, &x->units_cap, x->n_units + 1, sizeof(*x->units), 256);
	if (!grown)
		return -ENOMEM;
	x->units = grown;
	x->units[x->n_units++] = unit;
	return 0;
}

/* One set: its header, then (address, length) pairs up to the (0, 0) that ends it. */
/*
 * A unit's initial length (DWARF 5, 7.4): 32 bits, or 0xffffffff then 64
 * (offsets then take 8 bytes); reserved values refused, and the unit must
 * fit in what is left. *end: where the unit ends.
 */
static int initial_length(struct reader *r, size_t *end, unsigned *off_size)
{
	uint64_t len;
	int err;

	*off_size = 4;
	if ((err = take(r, r->size, 4, &len)))
		return err;
	if (len == 0xffffffff) {
		if ((err = take(r, r->size, 8, &len)))
			return err;
		*off_size = 8;
	} else if (len >= 0xfffffff0) {
		return -EINVAL;
	}
	if (len > r->size - r->pos)
		return -EINVAL;
	*end = r->pos + len;
	return 0;
}

static int parse_set(struct ls_aranges *x, struct reader *r)
{
	size_t hdr = r->pos, end;
	uint64_t version, unit, asz, ssz, addr, alen;
	unsigned off_size;
	int err;

	if ((err = initial_length(r, &end, &off_size)))
		return err;
	/* .debug_aranges stayed at version 2 from DWARF 2 to 5; libdw reads no other */
	if ((err = take(r, end, 2, &version)) || (err = take(r, end, off_size, &unit)) ||
	    (err = take(r, end, 1, &asz)) || (err = take(r, end, 1, &ssz)))
		return err;
	if (version != 2 || (asz != 4 && asz != 8) || ssz != 0)
		return -EINVAL;
	if ((err = add_set(x, unit)))
		return err;
	/* the pairs start at a multiple of twice the address size from the header */
	r->pos += (2 * asz - (r->pos - hdr) % (2 * asz)) % (2 * asz);
	for (;;) {
		if ((err = take(r, end, asz, &addr)) || (err = take(r, end, asz, &alen)))
			return err;
		if (!addr && !alen)
			break;
		if ((err = add(x, addr, alen)))
			return err;
	}
	/* libdw reads the next set right after the terminator, not at the set's length */
	return r->pos == end ? 0 : -EINVAL;
}

static int by_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * By address, least significant byte first (stable: equal addresses keep
 * the section's order). qsort's ~11 indirect compares per entry cost more
 * than the parse; a byte all addresses share is skipped. -ENOMEM.
 */
static int sort_by_addr(struct ls_aranges *x)
{
	uint64_t all_or = 0, all_and = ~0ull;
	struct ent *tmp, *from = x->e, *to;
	size_t i, count[256];
	unsigned shift;
	bool sorted = true;

	for (i = 0; i < x->n; i++) {
		all_or |= x->e[i].addr;
		all_and &= x->e[i].addr;
		if (i && x->e[i - 1].addr > x->e[i].addr)
			sorted = false;
	}
	if (sorted)
		return 0;
	tmp = malloc(x->n * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	to = tmp;
	for (shift = 0; shift < 64; shift += 8) {
		size_t at = 0, c;

		if (!(((all_or ^ all_and) >> shift) & 0xff))
			continue;
		memset(count, 0, sizeof(count));
		for (i = 0; i < x->n; i++)
			count[(from[i].addr >> shift) & 0xff]++;
		for (i = 0; i < 256; i++) {
			c = count[i];
			count[i] = at;
			at += c;
		}
		for (i = 0; i < x->n; i++)
			to[count[(from[i].addr >> shift) & 0xff]++] = from[i];
		to = from;
		from = from == x->e ? tmp : x->e;
	}
	if (from != x->e)
		memcpy(x->e, from, x->n * sizeof(*x->e));
	free(tmp);
	return 0;
}

/* Each set's unit offset, once, ascending; the entries' k from their set's to their unit's. */
static int units_dedup(struct ls_aranges *x)
{
	size_t i, n = 0, n_sets = x->n_units;
	uint32_t *of_set;
	bool ascending = true;

	for (i = 1; i < n_sets && ascending; i++)
		ascending = x->units[i - 1] < x->units[i];
	if (ascending)
		return 0;
	of_set = malloc(n_sets * sizeof(*of_set));
	if (!of_set)
		return -ENOMEM;
	/* the order of the sets, to find each one's unit again after sorting */
	{
		uint64_t *sorted = malloc(n_sets * sizeof(*sorted));

		if (!sorted) {
			free(of_set);
			return -ENOMEM;
		}
		memcpy(sorted, x->units, n_sets * sizeof(*sorted));
		qsort(sorted, n_sets, sizeof(*sorted), by_u64);
		for (i = 0; i < n_sets; i++)
			if (!n || sorted[n - 1] != sorted[i])
				sorted[n++] = sorted[i];
		for (i = 0; i < n_sets; i++) {
			size_t lo = 0, hi = n;

			while (hi - lo > 1) {
				size_t mid = lo + (hi - lo) / 2;

				if (sorted[mid] <= x->units[i])
					lo = mid;
				else
					hi = mid;
			}
			of_set[i] = (uint32_t)lo;
		}
		free(x->units);
		x->units = sorted;
		x->n_units = n;
	}
	for (i = 0; i < x->n; i++)
		x->e[i].k = of_set[x->e[i].k];
	free(of_set);
	return 0;
}

/* Sorted entries, their units, which addresses libdwfl's order leaves open. */
static int seal(struct ls_aranges *x)
{
	size_t i, j;
	int err;

	if ((err = sort_by_addr(x)) || (err = units_dedup(x)))
		return err;
	/* an address group holding two units: libdwfl's order of them is qsort's */
	for (i = 0; i < x->n; i = j) {
		bool mixed = false;

		for (j = i + 1; j < x->n && x->e[j].addr == x->e[i].addr; j++)
			mixed |= x->e[j].k != x->e[i].k;
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
	for (i = x->n - 1; i > 0 && x->e[i - 1].k == x->e[x->n - 1].k; i--)
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
	/* 16 bytes a pair of 8-byte addresses: one allocation, not a doubling series */
	if (size >= 16 && !(x->e = ls_grow(NULL, &x->cap, size / 16, sizeof(*x->e), 64))) {
		free(x);
		return -ENOMEM;
	}
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

/* One unit header of .debug_info at r->pos, as libdw reads it; its first DIE and the next unit. */
static int unit_header(struct reader *r, uint64_t abbrev_size, uint64_t *die, uint64_t *next)
{
	size_t start = r->pos, end;
	uint64_t version, type = 1, v, type_off;
	unsigned off_size;
	int err;

	if ((err = initial_length(r, &end, &off_size)))
		return err;
	*next = end;
	if ((err = take(r, *next, 2, &version)))
		return err;
	if (version < 2 || version > 5)
		return -EINVAL;
	/* DWARF 5: unit type, address size, abbreviations; before: abbreviations, address size */
	if (version == 5 && ((err = take(r, *next, 1, &type)) || (err = take(r, *next, 1, &v))))
		return err;
	if (type < 1 || type > 6)
		return -EINVAL;
	if ((err = take(r, *next, off_size, &v)))
		return err;
	if (v > abbrev_size)
		return -EINVAL;
	if (version < 5 && (err = take(r, *next, 1, &v)))
		return err;
	/* a skeleton's or split unit's id, a type unit's signature and type DIE */
	if (type >= 2 && type != 3 && (err = take(r, *next, 8, &v)))
		return err;
	if (type == 2 || type == 6) {
		if ((err = take(r, *next, off_size, &type_off)))
			return err;
		if (type_off < r->pos - start)
			return -EINVAL;
	}
	*die = r->pos;
	return 0;
}

/*
 * The units the sets name must each start a unit of .debug_info: libdw
 * takes an offset inside a unit for that unit, and fails the whole table
 * on one past them. Anything libdw might read otherwise (a unit cut by the
 * section's end, a unit DIE so close to the end libdwfl takes it for the
 * end) refuses.
 */
int ls_aranges__unit_dies(const struct ls_aranges *x, const void *info, size_t size,
			  uint64_t abbrev_size, bool msb, uint64_t *dies)
{
	struct reader r = {.p = info, .size = size, .msb = msb};
	uint64_t die, next;
	size_t k = 0;
	int err;

	if (!info && size)
		return -EINVAL;
	while (k < x->n_units && r.pos + 4 < size) {
		size_t at = r.pos;

		if (x->units[k] < at)
			return -EINVAL;
		if ((err = unit_header(&r, abbrev_size, &die, &next)))
			return err;
		if (x->units[k] == at) {
			if (die + 4 >= next)
				return -EINVAL;
			dies[k++] = die;
		}
		r.pos = next;
	}
	return k == x->n_units ? 0 : -EINVAL;
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
	*unit = x->units[x->e[j].k];
	if (k)
		*k = x->e[j].k;
	return LS_ARANGES_UNIT;
}
