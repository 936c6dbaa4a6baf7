// SPDX-License-Identifier: BSD-2-Clause
/*
 * A unit's line rows read straight from .debug_line (linetab.c): the
 * section bytes come from a debug file the agent did not write. Input:
 *   byte 0    bit 0 comp_dir given, bit 1 .debug_line_str given, bit 2
 *             .debug_str given, bit 3 address size 4 (else 8), bits 4-7 the
 *             number of ranges (15: 65 of them, over the limit)
 *   u16       offset of the program in .debug_line
 *   u16 u16   sizes of .debug_line_str and .debug_str (cut to what is there)
 *   ranges    u64 lo, u32 length each (as many as the input holds)
 *   then .debug_line_str, .debug_str, and the rest is .debug_line.
 * Each section is copied into its own exact-size buffer, so that a string
 * read past one of them is an ASan report, not a read of the next.
 *
 * Checked: the return codes linetab.h lists; the rows in libdw's order;
 * each row inside a range or a range's predecessor; the rows of several
 * ranges are the union of each range's own rows; file names are NULL or
 * strings, NULL only past the table's end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "linetab.h"

#define MAX_N 8
/* files looked at: the table of a fuzzed header stays small */
#define MAX_FILES 4096

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (d && n)
		memcpy(d, p, n);
	return d;
}

static void check_code(int err)
{
	if (err && err != -ENOENT && err != -EINVAL && err != -E2BIG && err != -ENOMEM)
		abort();
}

static bool same_row(const struct ls_linetab_row *a, const struct ls_linetab_row *b)
{
	if (a->addr != b->addr || a->line != b->line || a->end_sequence != b->end_sequence)
		return false;
	if (!a->file || !b->file)
		return a->file == b->file;
	return !strcmp(a->file, b->file);
}

/* The rows of one read, NULL when it failed; *n its count. Checks the order. */
static struct ls_linetab_row *rows_of(struct ls_linetab *lt, size_t *n)
{
	struct ls_linetab_row *v;
	size_t i;

	*n = ls_linetab__nrows(lt);
	v = calloc(*n ? *n : 1, sizeof(*v));
	if (!v)
		return NULL;
	for (i = 0; i < *n; i++) {
		int err = ls_linetab__row(lt, i, &v[i]);

		if (err && err != -ENOMEM)
			abort();
		if (v[i].file)
			(void)strlen(v[i].file); /* a string inside its section (ASan) */
		if (!i)
			continue;
		/* libdw's order: by address, an end of sequence first */
		if (v[i].addr < v[i - 1].addr)
			abort();
		/*
		 * a row after a non-end row at its address ends a sequence only
		 * when it is the table's last row (libdw marks that one whatever
		 * it was): the last of this read
		 */
		if (v[i].addr == v[i - 1].addr && v[i].end_sequence && !v[i - 1].end_sequence &&
		    i != *n - 1)
			abort();
	}
	return v;
}

static void check_files(struct ls_linetab *lt, const struct ls_linetab_row *rows, size_t n)
{
	const char *names[MAX_FILES];
	size_t nf = 0, i, j;

	/* NULL only past the end: the first NULL is the table's size */
	while (nf < MAX_FILES && (names[nf] = ls_linetab__file(lt, nf)))
		(void)strlen(names[nf++]);
	for (i = nf; i < nf + 4 && nf < MAX_FILES; i++)
		if (ls_linetab__file(lt, i))
			abort();
	if (ls_linetab__file(lt, UINT64_MAX))
		abort();
	if (nf == MAX_FILES)
		return;
	/* a row's file is one of the table's (rows name them by index) */
	for (i = 0; i < n; i++) {
		if (!rows[i].file)
			continue;
		for (j = 0; j < nf && strcmp(names[j], rows[i].file); j++)
			;
		if (j == nf)
			abort();
	}
}

/*
 * Rows of ranges as linetab.h defines them, taken from the whole table's
 * rows w (read for [0, UINT64_MAX): every row a read may keep, in libdw's
 * order): per range the last row at or below lo (the first when none is),
 * then the rows in (lo, hi - 1]; their union in the table's order.
 */
static void check_selection(const struct ls_linetab_row *w, size_t nw,
			    const struct ls_linetab_range *ranges, size_t n,
			    const struct ls_linetab_row *got, size_t ngot)
{
	size_t i, j, k = 0;

	for (i = 0; i < nw; i++) {
		bool keep = false;

		for (j = 0; j < n && !keep; j++) {
			const struct ls_linetab_range *g = &ranges[j];

			if (w[i].addr > g->lo)
				keep = !i || w[i].addr <= g->hi - 1; /* the first: no row below */
			else
				keep = i + 1 == nw || w[i + 1].addr > g->lo;
		}
		if (!keep)
			continue;
		if (k >= ngot || !same_row(&w[i], &got[k]))
			abort();
		k++;
	}
	if (k != ngot)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ls_linetab_range ranges[65];
	struct ls_linetab_src src = {0};
	struct ls_linetab *lt = NULL;
	struct ls_linetab_row *all = NULL;
	uint8_t *line = NULL, *line_str = NULL, *str = NULL;
	bool *seen = NULL;
	size_t n, want, i, j, nall = 0, pos = 7, ls_size, s_size, sum = 0, outside;
	uint64_t offset;
	unsigned asz;
	const char *comp_dir;
	int err;

	if (size < pos)
		return 0;
	want = data[0] >> 4;
	asz = data[0] & 8 ? 4 : 8;
	comp_dir = data[0] & 1 ? "/build/src" : NULL;
	offset = le(data + 1, 2);
	ls_size = le(data + 3, 2);
	s_size = le(data + 5, 2);
	/* 15: 65 ranges, one over the limit (those past MAX_N made up) */
	n = want == 15 ? 65 : want;
	for (i = 0; i < n && i < MAX_N && size - pos >= 12; i++, pos += 12) {
		ranges[i].lo = le(data + pos, 8);
		ranges[i].hi = ranges[i].lo + le(data + pos + 8, 4);
	}
	if (i < n && n <= MAX_N)
		n = i;
	for (; i < n; i++)
		ranges[i] = (struct ls_linetab_range){.lo = i, .hi = i + 1};
	ls_size = ls_size < size - pos ? ls_size : size - pos;
	if (data[0] & 2)
		src.line_str = line_str = dup_exact(data + pos, ls_size);
	src.line_str_size = data[0] & 2 ? ls_size : 0;
	pos += ls_size;
	s_size = s_size < size - pos ? s_size : size - pos;
	if (data[0] & 4)
		src.str = str = dup_exact(data + pos, s_size);
	src.str_size = data[0] & 4 ? s_size : 0;
	pos += s_size;
	src.line = line = dup_exact(data + pos, size - pos);
	src.line_size = size - pos;
	if (!line || (data[0] & 2 && !line_str) || (data[0] & 4 && !str))
		goto out;

	err = ls_linetab__read(&src, offset, comp_dir, asz, ranges, n, &lt);
	check_code(err);
	if ((err == -E2BIG) != (n > 64))
		abort();
	if (!n && err != -EINVAL)
		abort();
	if (err) {
		if (lt)
			abort();
		goto out;
	}
	all = rows_of(lt, &nall);
	if (!all)
		goto out;
	if (!nall)
		abort(); /* a read with no row is -ENOENT */
	check_files(lt, all, nall);
	/*
	 * each row is inside a range, (lo, hi - 1], or a range's predecessor
	 * (at most one each, at or below its lo), or the table's first row
	 */
	for (i = 0, outside = 0; i < nall; i++) {
		for (j = 0; j < n; j++)
			if (all[i].addr > ranges[j].lo && all[i].addr <= ranges[j].hi - 1)
				break;
		if (j < n)
			continue;
		outside++;
		for (j = 0; j < n && all[i].addr > ranges[j].lo; j++)
			;
		if (j == n && i)
			abort();
	}
	if (outside > n + 1)
		abort();
	seen = calloc(nall, 1);
	if (!seen)
		goto out;
	/* the rows the definition selects from the whole table */
	{
		struct ls_linetab_range whole = {0, UINT64_MAX};
		struct ls_linetab *wt = NULL;
		struct ls_linetab_row *w;
		size_t nw;

		if (!ls_linetab__read(&src, offset, comp_dir, asz, &whole, 1, &wt) &&
		    (w = rows_of(wt, &nw))) {
			check_selection(w, nw, ranges, n, all, nall);
			free(w);
		}
		ls_linetab__free(wt);
	}
	/* the rows of several ranges are the union of each one's rows */
	for (j = 0; j < n && n > 1; j++) {
		struct ls_linetab *one = NULL;
		struct ls_linetab_row *v;
		size_t m, k, a;

		err = ls_linetab__read(&src, offset, comp_dir, asz, &ranges[j], 1, &one);
		if (err == -ENOMEM)
			break;
		/* the same program and header: only a range that lacks rows can differ */
		if (err)
			abort();
		v = rows_of(one, &m);
		if (!v) {
			ls_linetab__free(one);
			break;
		}
		sum += m;
		for (k = 0; k < m; k++) {
			/* one range: its predecessor (or the first row), then rows inside it */
			if (k && (v[k].addr <= ranges[j].lo || v[k].addr > ranges[j].hi - 1))
				abort();
			for (a = 0; a < nall && !same_row(&all[a], &v[k]); a++)
				;
			if (a == nall)
				abort();
			/* identical rows: mark each of them as found */
			for (; a < nall; a++)
				seen[a] |= same_row(&all[a], &v[k]);
		}
		free(v);
		ls_linetab__free(one);
	}
	if (j == n && n > 1) {
		if (nall > sum)
			abort();
		for (i = 0; i < nall; i++)
			if (!seen[i])
				abort();
	}
out:
	free(seen);
	free(all);
	ls_linetab__free(lt);
	free(line);
	free(line_str);
	free(str);
	return 0;
}
