// SPDX-License-Identifier: BSD-2-Clause
/*
 * linetab.c against libdw, which it stands in for: on real DWARF (this
 * test's own, DWARF 5; fixtures built with -gdwarf-4 and -gdwarf-3;
 * Debian's python3.11 and libc debug files, LTO-built and with thousands
 * of files), the rows each function's ranges get must be the ones
 * unwind.c's func_rows takes from dwarf_getsrclines, field by field, and
 * the unit's files the ones dwarf_getsrcfiles names. Then hand-made
 * programs: libdw's order where rows tie, and malformed ones, every
 * prefix of a valid one included, which must be refused, never read past.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <gelf.h>
#include "linetab.h"
#include "linetab_dw.h"

/* Functions compared per file: python3.11's 10,000 would take a minute under ASan. */
#define MAX_FUNCS 6000

static bool ci(void)
{
	const char *v = getenv("CI");

	return v && !strcmp(v, "true");
}

/* ---- the reference: func_rows's slices of libdw's sorted table ---- */

struct ref_row {
	Dwarf_Addr addr;
	const char *file;
	int line;
	bool end_sequence;
};

static Dwarf_Addr line_addr(Dwarf_Lines *lines, size_t i)
{
	Dwarf_Addr a = 0;

	dwarf_lineaddr(dwarf_onesrcline(lines, i), &a);
	return a;
}

static size_t last_at_or_below(Dwarf_Lines *lines, size_t nlines, Dwarf_Addr addr)
{
	size_t lo = 0, hi = nlines - 1;

	while (lo < hi) {
		size_t mid = hi - (hi - lo) / 2;

		if (addr < line_addr(lines, mid))
			hi = mid - 1;
		else
			lo = mid;
	}
	return lo;
}

/* The union of [row at or below lo, row at or below hi - 1] over the ranges, in table order. */
static size_t ref_rows(Dwarf_Lines *lines, size_t nlines, const struct ls_linetab_range *r,
		       size_t n, struct ref_row **out)
{
	bool *take = calloc(nlines, sizeof(*take));
	size_t i, j, k = 0;

	assert_non_null(take);
	for (i = 0; i < n; i++)
		for (j = last_at_or_below(lines, nlines, r[i].lo);
		     j <= last_at_or_below(lines, nlines, r[i].hi - 1); j++)
			take[j] = true;
	*out = calloc(nlines, sizeof(**out));
	assert_non_null(*out);
	for (j = 0; j < nlines; j++) {
		Dwarf_Line *l = dwarf_onesrcline(lines, j);
		struct ref_row *o = &(*out)[k];

		if (!take[j])
			continue;
		dwarf_lineaddr(l, &o->addr);
		dwarf_lineno(l, &o->line);
		dwarf_lineendsequence(l, &o->end_sequence);
		o->file = dwarf_linesrc(l, NULL, NULL);
		k++;
	}
	free(take);
	return k;
}

static void same_rows(Dwarf_Lines *lines, size_t nlines, struct ls_linetab *lt,
		      const struct ls_linetab_range *r, size_t n, const char *where)
{
	struct ref_row *want;
	size_t k = ref_rows(lines, nlines, r, n, &want), i;

	if (ls_linetab__nrows(lt) != k)
		fail_msg("%s: %zu rows, libdw's table gives %zu", where, ls_linetab__nrows(lt), k);
	const char *prev = NULL;

	for (i = 0; i < k; i++) {
		struct ls_linetab_row got;

		assert_int_equal(ls_linetab__row(lt, i, &got), 0);
		/* one pointer per file: unwind.c hashes a run of rows' file once */
		if (i && prev && got.file && prev != got.file && !strcmp(prev, got.file))
			fail_msg("%s: row %zu: file %s at two addresses", where, i, got.file);
		prev = got.file;
		if (got.addr != want[i].addr || got.line != want[i].line ||
		    got.end_sequence != want[i].end_sequence ||
		    (got.file != want[i].file &&
		     (!got.file || !want[i].file || strcmp(got.file, want[i].file))))
			fail_msg("%s: row %zu: %#lx %s:%d%s, libdw %#lx %s:%d%s", where, i,
				 (unsigned long)got.addr, got.file ? got.file : "(null)", got.line,
				 got.end_sequence ? " end" : "", (unsigned long)want[i].addr,
				 want[i].file ? want[i].file : "(null)", want[i].line,
				 want[i].end_sequence ? " end" : "");
	}
	free(want);
}

static void same_files(Dwarf_Die *cu, struct ls_linetab *lt, const char *where)
{
	Dwarf_Files *files;
	size_t nfiles, i;

	assert_int_equal(dwarf_getsrcfiles(cu, &files, &nfiles), 0);
	for (i = 0; i <= nfiles; i++) {
		const char *want = i < nfiles ? dwarf_filesrc(files, i, NULL, NULL) : NULL;
		const char *got = ls_linetab__file(lt, i);

		if (got != want && (!got || !want || strcmp(got, want)))
			fail_msg("%s: file %zu: %s, libdw %s", where, i, got ? got : "(null)",
				 want ? want : "(null)");
	}
}

struct stats {
	size_t units, funcs, probes, refused;
};

/* One function's ranges (at most 64, as func_rows), or 0 when it has none. */
static size_t die_ranges(Dwarf_Die *die, struct ls_linetab_range *r)
{
	Dwarf_Addr base, start, end;
	ptrdiff_t off = 0;
	size_t n = 0;

	while ((off = dwarf_ranges(die, off, &base, &start, &end)) > 0 && n < 64)
		if (start < end)
			r[n++] = (struct ls_linetab_range){.lo = start, .hi = end};
	return n;
}

static void check_ranges(Dwarf_Die *cu, Dwarf_Lines *lines, size_t nlines,
			 const struct ls_linetab_range *r, size_t n, struct stats *st,
			 const char *where)
{
	struct ls_linetab *lt;
	int err = ls_linetab__unit(cu, r, n, &lt);

	if (err == -EINVAL) {
		st->refused++;
		return;
	}
	assert_int_equal(err, 0);
	same_rows(lines, nlines, lt, r, n, where);
	ls_linetab__free(lt);
	st->probes++;
}

/* Every k-th subprogram of the unit (and in namespaces, classes), with its ranges. */
static void check_funcs(Dwarf_Die *cu, Dwarf_Die *parent, Dwarf_Lines *lines, size_t nlines,
			unsigned every, unsigned *seen, struct stats *st, const char *file)
{
	Dwarf_Die child;

	if (dwarf_child(parent, &child))
		return;
	do {
		struct ls_linetab_range r[64];
		char where[512];
		size_t n;

		switch (dwarf_tag(&child)) {
		case DW_TAG_subprogram:
			if (!(n = die_ranges(&child, r)) || (*seen)++ % every)
				break;
			snprintf(where, sizeof(where), "%s: %s", file,
				 dwarf_diename(&child) ? dwarf_diename(&child) : "?");
			check_ranges(cu, lines, nlines, r, n, st, where);
			st->funcs++;
			break;
		case DW_TAG_namespace:
		case DW_TAG_class_type:
		case DW_TAG_structure_type:
			check_funcs(cu, &child, lines, nlines, every, seen, st, file);
			break;
		default:
			break;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

/* Ranges no function has: below and above every row, one byte, several at once. */
static void check_edges(Dwarf_Die *cu, Dwarf_Lines *lines, size_t nlines, struct stats *st,
			const char *file)
{
	Dwarf_Addr first = line_addr(lines, 0), last = line_addr(lines, nlines - 1);
	Dwarf_Addr mid = line_addr(lines, nlines / 2);
	struct ls_linetab_range r[4];
	char where[512];

	snprintf(where, sizeof(where), "%s: unit at %#lx, edges", file, (unsigned long)first);
	if (first > 16) {
		r[0] = (struct ls_linetab_range){first - 16, first};
		check_ranges(cu, lines, nlines, r, 1, st, where);
	}
	r[0] = (struct ls_linetab_range){last, last + 1};
	check_ranges(cu, lines, nlines, r, 1, st, where);
	r[0] = (struct ls_linetab_range){mid, mid + 1};
	check_ranges(cu, lines, nlines, r, 1, st, where);
	r[0] = (struct ls_linetab_range){first, last + 1};
	r[1] = (struct ls_linetab_range){mid, mid + 3};
	r[2] = (struct ls_linetab_range){first + 1, first + 2};
	check_ranges(cu, lines, nlines, r, 3, st, where);
}

static unsigned count_funcs(Dwarf *dw)
{
	Dwarf_Off off = 0, next;
	unsigned n = 0;
	size_t hsize;

	while (!dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL)) {
		Dwarf_Die cu, child;

		if (dwarf_offdie(dw, off + hsize, &cu) && !dwarf_child(&cu, &child))
			do
				n += dwarf_tag(&child) == DW_TAG_subprogram;
			while (!dwarf_siblingof(&child, &child));
		off = next;
	}
	return n;
}

/* Every unit of the file: its files, edge ranges, and a sample of its functions. */
static struct stats check_file(const char *path)
{
	unsigned every, seen = 0;
	struct stats st = {0};
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf *dw;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("%s: %s", path, strerror(errno));
	dw = dwarf_begin(fd, DWARF_C_READ);
	if (!dw)
		fail_msg("%s: %s", path, dwarf_errmsg(-1));
	every = count_funcs(dw) / MAX_FUNCS + 1;
	while (!dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL)) {
		Dwarf_Lines *lines;
		size_t nlines;
		Dwarf_Die cu;

		if (dwarf_offdie(dw, off + hsize, &cu) &&
		    !dwarf_getsrclines(&cu, &lines, &nlines) && nlines) {
			struct ls_linetab_range whole = {line_addr(lines, 0),
							 line_addr(lines, nlines - 1) + 1};
			struct ls_linetab *lt;

			if (!ls_linetab__unit(&cu, &whole, 1, &lt)) {
				same_files(&cu, lt, path);
				ls_linetab__free(lt);
			}
			check_edges(&cu, lines, nlines, &st, path);
			check_funcs(&cu, &cu, lines, nlines, every, &seen, &st, path);
			st.units++;
		}
		off = next;
	}
	dwarf_end(dw);
	close(fd);
	print_message("%s: %zu units, %zu functions, %zu comparisons, %zu refused\n", path,
		      st.units, st.funcs, st.probes, st.refused);
	return st;
}

/* A build-id's file under /usr/lib/debug, named from the binary; NULL when absent. */
static char *debug_file(const char *binary)
{
	static char path[512];
	const unsigned char *id;
	const void *bits;
	ssize_t len, i;
	char hex[128];
	int fd;
	Elf *elf;

	fd = open(binary, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	len = elf ? dwelf_elf_gnu_build_id(elf, &bits) : -1;
	if (len <= 1 || len > 60) {
		elf_end(elf);
		close(fd);
		return NULL;
	}
	id = bits;
	for (i = 0; i < len; i++)
		sprintf(hex + 2 * i, "%02x", id[i]);
	elf_end(elf);
	close(fd);
	snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%.2s/%s.debug", hex, hex + 2);
	return access(path, R_OK) ? NULL : path;
}

static void test_own_dwarf(void **state)
{
	struct stats st;

	(void)state;
	st = check_file("/proc/self/exe");
	/* gcc's output: every unit read, none left to libdw */
	assert_true(st.probes > 10);
	assert_int_equal(st.refused, 0);
}

static void test_older_dwarf(void **state)
{
	struct stats st;

	(void)state;
	st = check_file(LINETAB_FIXTURE_V4);
	assert_true(st.funcs >= 3);
	assert_int_equal(st.refused, 0);
	st = check_file(LINETAB_FIXTURE_V3);
	assert_true(st.funcs >= 3);
	assert_int_equal(st.refused, 0);
}

static void test_debian_debug_files(void **state)
{
	static const char *const binaries[] = {"/usr/bin/python3.11",
					       "/lib/x86_64-linux-gnu/libc.so.6"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(binaries) / sizeof(binaries[0]); i++) {
		char *path = debug_file(binaries[i]);
		struct stats st;

		if (!path) {
			/* .ci/install-deps installs python3.11-dbg and libc6-dbg */
			if (ci())
				fail_msg("no debug file for %s under /usr/lib/debug", binaries[i]);
			skip();
		}
		st = check_file(path);
		assert_true(st.funcs > 100);
		assert_int_equal(st.refused, 0);
	}
}

/* ---- hand-made programs ---- */

struct prog {
	uint8_t b[512];
	size_t n;
};

static void put(struct prog *p, const void *bytes, size_t n)
{
	assert_true(p->n + n <= sizeof(p->b));
	memcpy(p->b + p->n, bytes, n);
	p->n += n;
}

static void put8(struct prog *p, unsigned v)
{
	uint8_t b = (uint8_t)v;

	put(p, &b, 1);
}

static void put_n(struct prog *p, uint64_t v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		put8(p, (unsigned)(v >> (8 * i)) & 0xff);
}

static void put_uleb(struct prog *p, uint64_t v)
{
	do {
		put8(p, (unsigned)(v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
}

static void put_str(struct prog *p, const char *s)
{
	put(p, s, strlen(s) + 1);
}

/*
 * A DWARF 4 unit (opcode_base 13, line_base -5, line_range 14): dirs
 * "inc", files a.c (dir 0) and inc/b.h (dir 1), then body. Lengths patched.
 */
static void v4_unit(struct prog *p, const struct prog *body)
{
	size_t len_at, hdr_at, hdr_start;
	static const uint8_t std[12] = {0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1};

	p->n = 0;
	len_at = p->n;
	put_n(p, 0, 4);
	put_n(p, 4, 2); /* version */
	hdr_at = p->n;
	put_n(p, 0, 4);
	hdr_start = p->n;
	put8(p, 1);    /* min_inst_length */
	put8(p, 1);    /* max_ops */
	put8(p, 1);    /* default_is_stmt */
	put8(p, 0xfb); /* line_base -5 */
	put8(p, 14);   /* line_range */
	put8(p, 13);   /* opcode_base */
	put(p, std, sizeof(std));
	put_str(p, "inc");
	put8(p, 0);
	put_str(p, "a.c");
	put_uleb(p, 0);
	put_uleb(p, 0);
	put_uleb(p, 0);
	put_str(p, "b.h");
	put_uleb(p, 1);
	put_uleb(p, 0);
	put_uleb(p, 0);
	put8(p, 0);
	p->b[hdr_at] = (uint8_t)(p->n - hdr_start);
	put(p, body->b, body->n);
	p->b[len_at] = (uint8_t)(p->n - 4);
}

static void op_set_address(struct prog *p, uint64_t a)
{
	put8(p, 0);
	put_uleb(p, 9);
	put8(p, 2);
	put_n(p, a, 8);
}

static void op_end_sequence(struct prog *p)
{
	put8(p, 0);
	put_uleb(p, 1);
	put8(p, 1);
}

/* a special opcode: line += dl (-5..8), address += da (0..17) */
static void op_special(struct prog *p, int dl, unsigned da)
{
	put8(p, (unsigned)(dl + 5) + 14 * da + 13);
}

static void op_advance_line(struct prog *p, int64_t d)
{
	put8(p, 3);
	do {
		uint8_t b = d & 0x7f;

		d >>= 7;
		if ((d == 0 && !(b & 0x40)) || (d == -1 && (b & 0x40))) {
			put8(p, b);
			break;
		}
		put8(p, b | 0x80);
	} while (1);
}

struct got {
	struct ls_linetab_row r[32];
	char files[32][64];
	size_t n;
};

static int read_rows(const struct prog *p, const char *comp_dir, const struct ls_linetab_range *r,
		     size_t n, struct got *g)
{
	struct ls_linetab_src src = {.line = p->b, .line_size = p->n};
	struct ls_linetab *lt;
	size_t i;
	int err;

	err = ls_linetab__read(&src, 0, comp_dir, 8, r, n, &lt);
	if (err)
		return err;
	g->n = ls_linetab__nrows(lt);
	assert_true(g->n <= 32);
	for (i = 0; i < g->n; i++) {
		assert_int_equal(ls_linetab__row(lt, i, &g->r[i]), 0);
		snprintf(g->files[i], sizeof(g->files[i]), "%s",
			 g->r[i].file ? g->r[i].file : "(null)");
		g->r[i].file = g->files[i];
	}
	ls_linetab__free(lt);
	return 0;
}

static void assert_row(const struct got *g, size_t i, uint64_t addr, const char *file, int line,
		       bool endseq)
{
	assert_true(i < g->n);
	assert_int_equal(g->r[i].addr, addr);
	assert_string_equal(g->r[i].file, file);
	assert_int_equal(g->r[i].line, line);
	assert_int_equal(g->r[i].end_sequence, endseq);
}

/*
 * Two sequences: 0x1000 (a.c 10, 11 at 0x1004, b.h 3 at 0x1008, end at
 * 0x1010) and one placed before it at 0x800 that ends exactly at 0x1000,
 * where the first sequence starts: libdw puts the end of sequence before
 * the row at the same address.
 */
static void two_sequences(struct prog *unit)
{
	struct prog body = {0};

	op_set_address(&body, 0x1000);
	op_advance_line(&body, 9);
	put8(&body, 1); /* copy: a.c:10 at 0x1000 */
	op_special(&body, 1, 4);
	put8(&body, 4); /* set_file 2 */
	put_uleb(&body, 2);
	op_advance_line(&body, -8);
	op_special(&body, 0, 4); /* b.h:3 at 0x1008 */
	put8(&body, 2);		 /* advance_pc 8 */
	put_uleb(&body, 8);
	op_end_sequence(&body); /* 0x1010 */
	op_set_address(&body, 0x800);
	op_advance_line(&body, 99);
	put8(&body, 1); /* a.c:100 at 0x800 */
	put8(&body, 2);
	put_uleb(&body, 0x800);
	op_end_sequence(&body); /* 0x1000 */
	v4_unit(unit, &body);
}

static void test_order(void **state)
{
	struct ls_linetab_range r[2];
	struct prog unit;
	struct got g;

	(void)state;
	two_sequences(&unit);
	/* [0x1004, 0x1008): from the row at 0x1004 to the last at or below 0x1007 */
	r[0] = (struct ls_linetab_range){0x1004, 0x1008};
	assert_int_equal(read_rows(&unit, "/src", r, 1, &g), 0);
	assert_int_equal(g.n, 1);
	assert_row(&g, 0, 0x1004, "/src/a.c", 11, false);
	/* at 0x1000 the end of the other sequence comes first: the range starts at a.c:10 */
	r[0] = (struct ls_linetab_range){0x1000, 0x1001};
	assert_int_equal(read_rows(&unit, "/src", r, 1, &g), 0);
	assert_int_equal(g.n, 1);
	assert_row(&g, 0, 0x1000, "/src/a.c", 10, false);
	/* from below everything: the table's first row starts it */
	r[0] = (struct ls_linetab_range){0x100, 0x801};
	assert_int_equal(read_rows(&unit, "/src", r, 1, &g), 0);
	assert_int_equal(g.n, 1);
	assert_row(&g, 0, 0x800, "/src/a.c", 100, false);
	/* the whole of it, two ranges overlapping: each row once, the table's order */
	r[0] = (struct ls_linetab_range){0x800, 0x1009};
	r[1] = (struct ls_linetab_range){0x1004, 0x1011};
	assert_int_equal(read_rows(&unit, "/src", r, 2, &g), 0);
	assert_int_equal(g.n, 6);
	assert_row(&g, 0, 0x800, "/src/a.c", 100, false);
	assert_row(&g, 1, 0x1000, "/src/a.c", 100, true);
	assert_row(&g, 2, 0x1000, "/src/a.c", 10, false);
	assert_row(&g, 3, 0x1004, "/src/a.c", 11, false);
	/* a relative directory is joined as it is; no comp_dir: the name alone */
	assert_row(&g, 4, 0x1008, "inc/b.h", 3, false);
	assert_row(&g, 5, 0x1010, "inc/b.h", 3, true);
	r[0] = (struct ls_linetab_range){0x1000, 0x1001};
	assert_int_equal(read_rows(&unit, NULL, r, 1, &g), 0);
	assert_row(&g, 0, 0x1000, "a.c", 10, false);
}

/* libdw marks the table's last row an end of sequence even when the program did not. */
static void test_last_row_ends(void **state)
{
	struct ls_linetab_range r = {0x2000, 0x2100};
	struct prog body = {0}, unit;
	struct got g;

	(void)state;
	op_set_address(&body, 0x2000);
	put8(&body, 1);
	op_special(&body, 2, 8);
	v4_unit(&unit, &body);
	assert_int_equal(read_rows(&unit, "/s", &r, 1, &g), 0);
	assert_int_equal(g.n, 2);
	assert_row(&g, 0, 0x2000, "/s/a.c", 1, false);
	assert_row(&g, 1, 0x2008, "/s/a.c", 3, true);
	/* a program with no row at all has nothing to give */
	body.n = 0;
	op_set_address(&body, 0x2000);
	v4_unit(&unit, &body);
	assert_int_equal(read_rows(&unit, "/s", &r, 1, &g), -ENOENT);
}

/* Each refusal: a check removed makes its case read garbage or past the end. */
static void test_refused(void **state)
{
	struct ls_linetab_range r = {0x1000, 0x1010};
	struct prog unit, bad, body = {0};
	struct ls_linetab *lt;
	struct got g;
	size_t cut;

	(void)state;
	two_sequences(&unit);
	/*
	 * Every prefix, its unit_length first as written (past the section:
	 * refused), then cut to the prefix, so that the reader runs into the
	 * end inside the header or the program: refused, or the rows before
	 * the cut; never a read past it (the copy is exactly that long, and
	 * ASan watches in CI).
	 */
	for (cut = 0; cut < unit.n; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		struct ls_linetab_src src = {.line = copy, .line_size = cut};
		int err;

		assert_non_null(copy);
		memcpy(copy, unit.b, cut);
		assert_int_equal(ls_linetab__read(&src, 0, "/s", 8, &r, 1, &lt), -EINVAL);
		if (cut >= 4) {
			copy[0] = (uint8_t)(cut - 4);
			err = ls_linetab__read(&src, 0, "/s", 8, &r, 1, &lt);
			assert_true(err == 0 || err == -EINVAL || err == -ENOENT);
			if (!err) {
				/* the header whole: the rows come from the program before the cut
				 */
				assert_true(cut > 45);
				ls_linetab__free(lt);
			}
		}
		free(copy);
	}
	/* an offset past the section */
	assert_int_equal(
	    ls_linetab__read(&(struct ls_linetab_src){.line = unit.b, .line_size = unit.n}, unit.n,
			     "/s", 8, &r, 1, &lt),
	    -EINVAL);
	/* a version libdw does not read */
	bad = unit;
	bad.b[4] = 6;
	assert_int_equal(read_rows(&bad, "/s", &r, 1, &g), -EINVAL);
	/* unit_length past the section */
	bad = unit;
	bad.b[0] = 0xff;
	bad.b[1] = 0x7f;
	assert_int_equal(read_rows(&bad, "/s", &r, 1, &g), -EINVAL);
	/* header_length past the unit */
	bad = unit;
	bad.b[6] = 0xf0;
	assert_int_equal(read_rows(&bad, "/s", &r, 1, &g), -EINVAL);
	/* a standard opcode whose operand count is not the one it has (advance_pc: 1) */
	bad = unit;
	bad.b[10 + 6 + 1] = 2;
	assert_int_equal(read_rows(&bad, "/s", &r, 1, &g), -EINVAL);
	/* a file in a directory the table does not have */
	bad = unit;
	bad.b[10 + 6 + 12 + 4 + 1 + 4] = 7;
	assert_int_equal(read_rows(&bad, "/s", &r, 1, &g), -EINVAL);
	/* an extended opcode whose length needs more than a byte: libdw's read is not guessed */
	body.n = 0;
	put8(&body, 0);
	put_uleb(&body, 200);
	put8(&body, 0x80);
	v4_unit(&bad, &body);
	assert_int_equal(read_rows(&bad, "/s", &r, 1, &g), -EINVAL);
	/* a line past int: libdw refuses the unit */
	body.n = 0;
	op_set_address(&body, 0x1000);
	op_advance_line(&body, 0x7fffffff);
	put8(&body, 1);
	v4_unit(&bad, &body);
	assert_int_equal(read_rows(&bad, "/s", &r, 1, &g), -EINVAL);
	/* ranges: none, empty, too many */
	assert_int_equal(read_rows(&unit, "/s", &r, 0, &g), -EINVAL);
	assert_int_equal(read_rows(&unit, "/s", &(struct ls_linetab_range){5, 5}, 1, &g), -EINVAL);
	{
		struct ls_linetab_range many[65];
		size_t i;

		for (i = 0; i < 65; i++)
			many[i] = (struct ls_linetab_range){0x1000 + i, 0x1001 + i};
		assert_int_equal(read_rows(&unit, "/s", many, 65, &g), -E2BIG);
	}
}

/* DWARF 5: entry formats, file 0, strings in .debug_line_str, and a string there cut. */
static void test_v5(void **state)
{
	static const uint8_t std[12] = {0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1};
	static const char strs[] = "/build\0src\0main.c\0";
	struct ls_linetab_range r = {0x400, 0x401};
	struct ls_linetab_src src;
	struct prog p = {0}, body = {0};
	struct ls_linetab *lt;
	struct ls_linetab_row row;
	size_t hdr_at, hdr_start;

	(void)state;
	put_n(&p, 0, 4);
	put_n(&p, 5, 2);
	put8(&p, 8); /* address_size */
	put8(&p, 0); /* segment selector */
	hdr_at = p.n;
	put_n(&p, 0, 4);
	hdr_start = p.n;
	put8(&p, 1);
	put8(&p, 1);
	put8(&p, 1);
	put8(&p, 0xfb);
	put8(&p, 14);
	put8(&p, 13);
	put(&p, std, sizeof(std));
	/* directories: path as line_strp; /build, src */
	put8(&p, 1);
	put_uleb(&p, 1);
	put_uleb(&p, 0x1f);
	put_uleb(&p, 2);
	put_n(&p, 0, 4);
	put_n(&p, 7, 4);
	/* files: path line_strp, directory index udata, MD5 data16 (skipped) */
	put8(&p, 3);
	put_uleb(&p, 1);
	put_uleb(&p, 0x1f);
	put_uleb(&p, 2);
	put_uleb(&p, 0x0f);
	put_uleb(&p, 5);
	put_uleb(&p, 0x1e);
	put_uleb(&p, 2);
	put_n(&p, 11, 4); /* file 0: main.c in /build */
	put_uleb(&p, 0);
	put_n(&p, 0, 8);
	put_n(&p, 0, 8);
	put_n(&p, 11, 4); /* file 1: main.c in src */
	put_uleb(&p, 1);
	put_n(&p, 0, 8);
	put_n(&p, 0, 8);
	p.b[hdr_at] = (uint8_t)(p.n - hdr_start);
	op_set_address(&body, 0x400);
	put8(&body, 4);
	put_uleb(&body, 0); /* file 0 */
	put8(&body, 1);
	op_end_sequence(&body);
	put(&p, body.b, body.n);
	p.b[0] = (uint8_t)(p.n - 4);

	src = (struct ls_linetab_src){.line = p.b,
				      .line_size = p.n,
				      .line_str = (const uint8_t *)strs,
				      .line_str_size = sizeof(strs)};
	assert_int_equal(ls_linetab__read(&src, 0, "/ignored", 8, &r, 1, &lt), 0);
	assert_int_equal(ls_linetab__nrows(lt), 1);
	assert_int_equal(ls_linetab__row(lt, 0, &row), 0);
	/* file 0 is the first entry (directory 0 is the table's own, not comp_dir) */
	assert_string_equal(row.file, "/build/main.c");
	assert_string_equal(ls_linetab__file(lt, 1), "src/main.c");
	assert_null(ls_linetab__file(lt, 2));
	ls_linetab__free(lt);
	/* the unit's address size must be the header's */
	assert_int_equal(ls_linetab__read(&src, 0, NULL, 4, &r, 1, &lt), -EINVAL);
	/* a string offset past .debug_line_str, or a string with no end inside it */
	src.line_str_size = 10;
	assert_int_equal(ls_linetab__read(&src, 0, NULL, 8, &r, 1, &lt), -EINVAL);
	/* no .debug_line_str at all */
	src.line_str = NULL;
	src.line_str_size = 0;
	assert_int_equal(ls_linetab__read(&src, 0, NULL, 8, &r, 1, &lt), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_own_dwarf),
	    cmocka_unit_test(test_older_dwarf),
	    cmocka_unit_test(test_debian_debug_files),
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_last_row_ends),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_v5),
	};

	elf_version(EV_CURRENT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
