// SPDX-License-Identifier: BSD-2-Clause
/*
 * A module's .debug_aranges (aranges.c), the section of a debug file the
 * agent did not write, and the unit headers of its .debug_info. Input:
 *   byte 0    bit 0 big-endian file
 *   u16       size of the .debug_info bytes (cut to what is there)
 *   u32       size of .debug_abbrev the unit headers are checked against
 *   then .debug_info, and the rest is .debug_aranges.
 * Each section is copied into its own exact-size buffer (ASan sees a read
 * past either).
 *
 * The oracle is a second reading, written from the DWARF standard and the
 * rules aranges.h states, and libdwfl's look-up (elfutils 0.188 cu.c's
 * addrarange) run over it in the two extreme orders qsort may leave equal
 * addresses in: a parse that succeeds reads the same sets, and an answer
 * other than ASK is the one libdwfl gives in both orders. With no two
 * entries at one address the answer is never ASK.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "aranges.h"

struct ref_ent {
	uint64_t addr, len, unit;
	size_t at; /* section order */
};

struct ref {
	struct ref_ent *e;
	size_t n, cap;
	uint64_t *sets;
	size_t nsets, sets_cap;
};

static uint64_t get(const uint8_t *p, unsigned n, bool msb)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[msb ? i : n - 1 - i];
	return v;
}

/* The sets as the standard lays them out; false: malformed by aranges.h's rules, or no memory. */
static bool ref_parse(const uint8_t *p, size_t size, bool msb, struct ref *r, bool *oom)
{
	size_t pos = 0;

	*oom = false;
	while (pos < size) {
		size_t hdr = pos, end, tw;
		uint64_t len;
		unsigned off = 4, asz;

		if (size - pos < 4)
			return false;
		len = get(p + pos, 4, msb);
		pos += 4;
		if (len == 0xffffffff) {
			if (size - pos < 8)
				return false;
			len = get(p + pos, 8, msb);
			pos += 8;
			off = 8;
		} else if (len >= 0xfffffff0) {
			return false;
		}
		if (len > size - pos)
			return false;
		end = pos + len;
		if (end - pos < 2 + off + 2 || get(p + pos, 2, msb) != 2)
			return false;
		asz = p[pos + 2 + off];
		if ((asz != 4 && asz != 8) || p[pos + 3 + off])
			return false;
		if (r->nsets == r->sets_cap) {
			uint64_t *g = realloc(r->sets, (r->sets_cap = 2 * r->sets_cap + 8) * 8);

			if (!g)
				return !(*oom = true);
			r->sets = g;
		}
		r->sets[r->nsets++] = get(p + pos + 2, off, msb);
		pos += 4 + off;
		tw = 2 * asz;
		if ((pos - hdr) % tw)
			pos += tw - (pos - hdr) % tw;
		for (;;) {
			uint64_t a, l;

			if (pos > end || end - pos < tw)
				return false;
			a = get(p + pos, asz, msb);
			l = get(p + pos + asz, asz, msb);
			pos += tw;
			if (!a && !l)
				break;
			if (r->n == r->cap) {
				struct ref_ent *g =
				    realloc(r->e, (r->cap = 2 * r->cap + 16) * sizeof(*g));

				if (!g)
					return !(*oom = true);
				r->e = g;
			}
			r->e[r->n] = (struct ref_ent){a, l, r->sets[r->nsets - 1], r->n};
			r->n++;
		}
		if (pos != end)
			return false;
	}
	return true;
}

static int by_addr_fwd(const void *a, const void *b)
{
	const struct ref_ent *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

static int by_addr_rev(const void *a, const void *b)
{
	const struct ref_ent *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->at > y->at ? -1 : x->at < y->at;
}

/*
 * libdwfl's answer over entries sorted one way: runs of one unit, the
 * last run starting at or below addr, and past the last entry's end
 * nothing (its wrapping sum, as libdwfl computes it).
 */
static enum ls_aranges_answer model(const struct ref_ent *e, size_t n, uint64_t addr,
				    uint64_t *unit)
{
	size_t i, run = n, last_run = 0;

	for (i = 0; i < n; i++) {
		if (i && e[i].unit != e[i - 1].unit)
			last_run = i;
		if (e[i].addr <= addr && (i == 0 || e[i].unit != e[i - 1].unit))
			run = i;
	}
	/* run: the last run start at or below addr (a run starts at its first entry) */
	if (run == n)
		return LS_ARANGES_NONE;
	if (run == last_run && addr > e[run].addr && addr > e[n - 1].addr + e[n - 1].len)
		return LS_ARANGES_NONE;
	*unit = e[run].unit;
	return LS_ARANGES_UNIT;
}

static int by_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void check_find(const struct ls_aranges *x, const struct ref_ent *fwd,
		       const struct ref_ent *rev, size_t n, bool distinct, uint64_t addr)
{
	const uint64_t *units;
	size_t nu = ls_aranges__units(x, &units), k = SIZE_MAX;
	uint64_t unit = 0, u1 = 0, u2 = 0;
	enum ls_aranges_answer a = ls_aranges__find(x, addr, &unit, &k), m1, m2;

	if (a == LS_ARANGES_ASK) {
		if (distinct)
			abort();
		return;
	}
	m1 = model(fwd, n, addr, &u1);
	m2 = model(rev, n, addr, &u2);
	if (a != m1 || a != m2)
		abort();
	if (a == LS_ARANGES_UNIT && (unit != u1 || unit != u2 || k >= nu || units[k] != unit))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ls_aranges *x = NULL;
	struct ref r = {0};
	struct ref_ent *fwd = NULL, *rev = NULL;
	const uint64_t *units;
	uint64_t *dies = NULL, abbrev_size;
	uint8_t *info = NULL, *ar = NULL;
	size_t info_size, ar_size, nu, i, step;
	bool msb, ok, oom, distinct = true;
	int err;

	if (size < 7)
		return 0;
	msb = data[0] & 1;
	info_size = get(data + 1, 2, false);
	abbrev_size = get(data + 3, 4, false);
	data += 7;
	size -= 7;
	info_size = info_size < size ? info_size : size;
	ar_size = size - info_size;
	info = malloc(info_size ? info_size : 1);
	ar = malloc(ar_size ? ar_size : 1);
	if (!info || !ar)
		goto out;
	memcpy(info, data, info_size);
	memcpy(ar, data + info_size, ar_size);

	err = ls_aranges__parse(ar, ar_size, msb, &x);
	if (err && err != -EINVAL && err != -ENOMEM)
		abort();
	ok = ref_parse(ar, ar_size, msb, &r, &oom);
	if (oom || err == -ENOMEM)
		goto out;
	/* the same sections refused, the same sets read */
	if (!err != ok)
		abort();
	if (err)
		goto out;
	if (ls_aranges__entries(x) != r.n)
		abort();
	nu = ls_aranges__units(x, &units);
	if (r.nsets)
		qsort(r.sets, r.nsets, sizeof(*r.sets), by_u64);
	for (i = 0, step = 0; i < r.nsets; i++)
		if (!i || r.sets[i] != r.sets[i - 1])
			r.sets[step++] = r.sets[i];
	if (nu != step || (nu && memcmp(units, r.sets, nu * sizeof(*units))))
		abort();

	/* unit DIEs: each after its header, before its unit's end, ascending */
	dies = calloc(nu ? nu : 1, sizeof(*dies));
	if (dies && !ls_aranges__unit_dies(x, info, info_size, abbrev_size, msb, dies)) {
		for (i = 0; i < nu; i++) {
			uint64_t len, next;

			/* its unit's end, from the length field: no DIE right before it */
			if (units[i] > info_size || info_size - units[i] < 4)
				abort();
			len = get(info + units[i], 4, msb);
			if (len == 0xffffffff && info_size - units[i] >= 12)
				next = units[i] + 12 + get(info + units[i] + 4, 8, msb);
			else
				next = units[i] + 4 + len;
			if (dies[i] <= units[i] || dies[i] + 4 >= next || next > info_size ||
			    (i && dies[i] <= dies[i - 1]))
				abort();
		}
	}

	fwd = malloc((r.n ? r.n : 1) * sizeof(*fwd));
	rev = malloc((r.n ? r.n : 1) * sizeof(*rev));
	if (!fwd || !rev)
		goto out;
	if (r.n) {
		memcpy(fwd, r.e, r.n * sizeof(*fwd));
		qsort(fwd, r.n, sizeof(*fwd), by_addr_fwd);
		memcpy(rev, r.e, r.n * sizeof(*rev));
		qsort(rev, r.n, sizeof(*rev), by_addr_rev);
	}
	for (i = 1; i < r.n; i++)
		distinct &= fwd[i].addr != fwd[i - 1].addr;
	/* around up to 64 entries' starts and ends, and the ends of the address space */
	check_find(x, fwd, rev, r.n, distinct, 0);
	check_find(x, fwd, rev, r.n, distinct, UINT64_MAX);
	step = r.n / 64 + 1;
	for (i = 0; i < r.n; i += step) {
		const struct ref_ent *e = &fwd[i];
		uint64_t q[] = {e->addr - 1,	      e->addr,		e->addr + 1,
				e->addr + e->len - 1, e->addr + e->len, e->addr + e->len + 1};
		size_t j;

		for (j = 0; j < sizeof(q) / sizeof(*q); j++)
			check_find(x, fwd, rev, r.n, distinct, q[j]);
	}
	if (r.n) {
		const struct ref_ent *e = &fwd[r.n - 1];

		check_find(x, fwd, rev, r.n, distinct, e->addr + e->len);
		check_find(x, fwd, rev, r.n, distinct, e->addr + e->len + 1);
	}
out:
	free(fwd);
	free(rev);
	free(dies);
	free(r.e);
	free(r.sets);
	ls_aranges__free(x);
	free(info);
	free(ar);
	return 0;
}
