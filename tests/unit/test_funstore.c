// SPDX-License-Identifier: BSD-2-Clause
/*
 * A module's symbolizer caches kept across runs (funstore.h): what is
 * encoded names every address as the maps did; a buffer of another
 * build-id or symbol table, altered, truncated, or hand-made with counts
 * and indexes that lie, is refused whole (nothing reaches the maps), and
 * what a run learned itself stays.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "funstore.h"

#define KEY 7
#define OTHER 9

static const unsigned char id[] = {0x93, 0xac, 0x61, 0xec, 0x5a, 0x8e};
static const unsigned char other_id[] = {0x93, 0xac, 0x61, 0xec, 0x5a, 0x8f};

/* What the symbolizer keeps: two maps and the functions they point to. */
struct caches {
	struct ls_rangemap *syms, *funcs, *bare;
	struct ls_funstore_maps maps;
	struct ls_func *owned[64];
	unsigned n_owned;
	char *strs[256];
	unsigned n_strs;
};

static const char *test_intern(void *ctx, const char *s)
{
	struct caches *c = ctx;

	assert_true(c->n_strs < 256);
	c->strs[c->n_strs] = strdup(s);
	return c->strs[c->n_strs++];
}

static int test_adopt(void *ctx, struct ls_func *f)
{
	struct caches *c = ctx;

	assert_true(c->n_owned < 64);
	c->owned[c->n_owned++] = f;
	return 0;
}

static struct caches *caches_new(void)
{
	struct caches *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->syms = ls_rangemap__new();
	c->funcs = ls_rangemap__new();
	c->bare = ls_rangemap__new();
	assert_non_null(c->syms);
	assert_non_null(c->funcs);
	assert_non_null(c->bare);
	c->maps =
	    (struct ls_funstore_maps){.elf_syms = c->syms, .funcs = c->funcs, .bare = c->bare};
	return c;
}

static void caches_free(struct caches *c)
{
	unsigned i;

	for (i = 0; i < c->n_owned; i++)
		ls_func__free(c->owned[i]);
	for (i = 0; i < c->n_strs; i++)
		free(c->strs[i]);
	ls_rangemap__free(c->syms);
	ls_rangemap__free(c->funcs);
	ls_rangemap__free(c->bare);
	free(c);
}

static int decode(struct caches *c, const void *buf, size_t len, const unsigned char *bid,
		  size_t bid_len, uint32_t n_symtab)
{
	struct ls_funstore_sink sink = {.intern = test_intern, .adopt = test_adopt, .ctx = c};

	return ls_funstore_decode(buf, len, bid, bid_len, n_symtab, KEY, &c->maps, &sink);
}

/*
 * Module KEY as a run learned it: two ELF symbols; eval() with an inlined
 * call holding an inlined call, in two ranges (a cold part far away),
 * with its line rows; a function with no rows; two addresses DWARF names
 * no function for (one with a line, one without). Module OTHER has one
 * symbol that must not travel with KEY's.
 */
static struct caches *learned(void)
{
	struct caches *c = caches_new();
	struct ls_func *eval = ls_func__new("_PyEval_EvalFrameDefault");
	struct ls_func *small = ls_func__new("small");
	struct ls_func *bare = ls_func__new(NULL), *bare2 = ls_func__new(NULL);
	int a, b;

	assert_non_null(eval);
	assert_non_null(small);
	assert_non_null(bare);
	assert_non_null(bare2);
	c->owned[c->n_owned++] = eval;
	c->owned[c->n_owned++] = small;
	c->owned[c->n_owned++] = bare;
	c->owned[c->n_owned++] = bare2;
	assert_int_equal(ls_func__add_row(bare, 0x5004, "Modules/timemodule.c", 2044, false), 0);
	bare->lines = true;
	assert_int_equal(ls_rangemap__add(c->bare, KEY, 0x5004, 0x5005, bare), 0);
	assert_int_equal(ls_func__add_row(bare2, 0x5010, NULL, 0, false), 0);
	bare2->lines = true;
	assert_int_equal(ls_rangemap__add(c->bare, KEY, 0x5010, 0x5011, bare2), 0);
	assert_int_equal(ls_rangemap__add(c->syms, KEY, 0x1000, 0x3000, "_PyEval_EvalFrameDefault"),
			 0);
	assert_int_equal(ls_rangemap__add(c->syms, KEY, 0x3000, 0x3010, "small"), 0);
	assert_int_equal(ls_rangemap__add(c->syms, OTHER, 0x1000, 0x2000, "elsewhere"), 0);
	a = ls_func__add_inst(eval, -1, "Py_DECREF", "Python/ceval.c", 1200);
	assert_int_equal(ls_func__add_range(eval, (unsigned)a, 0x1100, 0x1180), 0);
	assert_int_equal(ls_func__add_range(eval, (unsigned)a, 0x9000, 0x9010), 0);
	b = ls_func__add_inst(eval, a, "_Py_Dealloc", "Include/object.h", 600);
	assert_int_equal(ls_func__add_range(eval, (unsigned)b, 0x1140, 0x1150), 0);
	assert_int_equal(ls_func__add_row(eval, 0x1000, "Python/ceval.c", 1000, false), 0);
	assert_int_equal(ls_func__add_row(eval, 0x1100, "Include/object.h", 590, false), 0);
	assert_int_equal(ls_func__add_row(eval, 0x1140, "Objects/object.c", 2300, false), 0);
	assert_int_equal(ls_func__add_row(eval, 0x1150, "Python/ceval.c", 1300, false), 0);
	assert_int_equal(ls_func__add_row(eval, 0x3000, NULL, 0, true), 0);
	assert_int_equal(ls_func__add_row(eval, 0x9000, "Include/object.h", 591, false), 0);
	eval->lines = true;
	assert_int_equal(ls_rangemap__add(c->funcs, KEY, 0x1000, 0x3000, eval), 0);
	assert_int_equal(ls_rangemap__add(c->funcs, KEY, 0x9000, 0x9010, eval), 0);
	assert_int_equal(ls_rangemap__add(c->funcs, KEY, 0x3000, 0x3010, small), 0);
	assert_int_equal(ls_rangemap__add(c->funcs, OTHER, 0x1000, 0x2000, small), 0);
	return c;
}

static void *encoded(size_t *len)
{
	struct caches *c = learned();
	void *buf;

	assert_int_equal(ls_funstore_encode(&c->maps, KEY, id, sizeof(id), 40000, &buf, len), 0);
	caches_free(c);
	return buf;
}

/* Everything an address is named by: symbol, instance chain, line. */
static void same_naming(struct caches *x, struct caches *y, uint64_t off)
{
	const char *sx = ls_rangemap__find(x->syms, KEY, off),
		   *sy = ls_rangemap__find(y->syms, KEY, off);
	const struct ls_func *fx = ls_rangemap__find(x->funcs, KEY, off);
	const struct ls_func *fy = ls_rangemap__find(y->funcs, KEY, off);
	unsigned cx[16], cy[16], nx, ny, i;
	const struct ls_line_row *rx, *ry;

	assert_true(!sx == !sy);
	if (sx)
		assert_string_equal(sx, sy);
	assert_true(!fx == !fy);
	if (!fx)
		return;
	assert_string_equal(fx->symbol, fy->symbol);
	assert_int_equal(fx->lines, fy->lines);
	nx = ls_func__chain(fx, off, cx, 16);
	ny = ls_func__chain(fy, off, cy, 16);
	assert_int_equal(nx, ny);
	for (i = 0; i < nx; i++) {
		assert_string_equal(fx->inst[cx[i]].symbol, fy->inst[cy[i]].symbol);
		assert_string_equal(fx->inst[cx[i]].call_file, fy->inst[cy[i]].call_file);
		assert_int_equal(fx->inst[cx[i]].call_line, fy->inst[cy[i]].call_line);
	}
	rx = ls_func__line(fx, off);
	ry = ls_func__line(fy, off);
	assert_true(!rx == !ry);
	if (rx) {
		assert_string_equal(rx->file, ry->file);
		assert_int_equal(rx->line, ry->line);
	}
}

static void round_trip_names_every_address_the_same(void **state)
{
	static const uint64_t offs[] = {0xfff,	0x1000, 0x1100, 0x1145, 0x1150, 0x17ff,
					0x2fff, 0x3000, 0x3008, 0x3010, 0x9004, 0x9010};
	struct caches *orig = learned(), *back = caches_new();
	size_t len, i;
	void *buf = encoded(&len);

	(void)state;
	assert_int_equal(decode(back, buf, len, id, sizeof(id), 40000), 0);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		same_naming(orig, back, offs[i]);
	/* the nesting came back: an address in both instances names both, innermost first */
	{
		const struct ls_func *f = ls_rangemap__find(back->funcs, KEY, 0x1145);
		unsigned chain[4];

		assert_int_equal(ls_func__chain(f, 0x1145, chain, 4), 2);
		assert_string_equal(f->inst[chain[0]].symbol, "_Py_Dealloc");
		/* the cold part is the same function */
		assert_ptr_equal(ls_rangemap__find(back->funcs, KEY, 0x9004), f);
	}
	/* one function made per function stored, each once */
	assert_int_equal(back->n_owned, 4);
	/* the addresses with no function, each with its line (or none) */
	{
		const struct ls_func *b = ls_rangemap__find(back->bare, KEY, 0x5004);

		assert_non_null(b);
		assert_null(b->symbol);
		assert_int_equal(b->n_rows, 1);
		assert_string_equal(b->rows[0].file, "Modules/timemodule.c");
		assert_int_equal(b->rows[0].line, 2044);
		assert_null(ls_rangemap__find(back->bare, KEY, 0x5005));
		b = ls_rangemap__find(back->bare, KEY, 0x5010);
		assert_non_null(b);
		assert_null(b->rows[0].file);
		assert_null(ls_rangemap__find(back->funcs, KEY, 0x5004));
	}
	/* another module's ranges stay out */
	assert_null(ls_rangemap__find(back->syms, OTHER, 0x1500));
	assert_null(ls_rangemap__find(back->funcs, OTHER, 0x1500));
	free(buf);
	caches_free(orig);
	caches_free(back);
}

static void nothing_added(struct caches *c)
{
	assert_null(ls_rangemap__find(c->syms, KEY, 0x1000));
	assert_null(ls_rangemap__find(c->syms, KEY, 0x3000));
	assert_null(ls_rangemap__find(c->funcs, KEY, 0x1000));
	assert_null(ls_rangemap__find(c->funcs, KEY, 0x3000));
	assert_null(ls_rangemap__find(c->bare, KEY, 0x5004));
	assert_int_equal(c->n_owned, 0);
}

static void foreign_altered_or_truncated_is_refused_whole(void **state)
{
	size_t len, i;
	unsigned char *buf = encoded(&len);

	(void)state;
	{
		struct caches *c = caches_new();

		/* another build-id, or the same one with another symbol table */
		assert_int_equal(decode(c, buf, len, other_id, sizeof(other_id), 40000), -EINVAL);
		assert_int_equal(decode(c, buf, len, id, sizeof(id) - 1, 40000), -EINVAL);
		assert_int_equal(decode(c, buf, len, id, sizeof(id), 812), -EINVAL);
		nothing_added(c);
		caches_free(c);
	}
	for (i = 0; i < len; i++) {
		struct caches *c = caches_new();

		buf[i] ^= 0x10;
		assert_int_equal(decode(c, buf, len, id, sizeof(id), 40000), -EINVAL);
		buf[i] ^= 0x10;
		nothing_added(c);
		caches_free(c);
	}
	for (i = 0; i < len; i++) {
		struct caches *c = caches_new();
		/* a copy of exactly i bytes: a read past it is the sanitizer's to see */
		unsigned char *cut = malloc(i ? i : 1);

		memcpy(cut, buf, i);
		assert_int_equal(decode(c, cut, i, id, sizeof(id), 40000), -EINVAL);
		nothing_added(c);
		free(cut);
		caches_free(c);
	}
	free(buf);
}

/* A hand-made store: a header that matches, a body as given (its hash made right). */
static size_t forge(unsigned char *out, const void *body, size_t body_len)
{
	struct {
		char magic[8];
		uint32_t version, id_len, n_symtab, pad;
		uint64_t body_len, body_hash;
	} h = {.magic = "LSFUNCS", .version = 1, .id_len = sizeof(id), .n_symtab = 1};

	h.body_len = body_len;
	h.body_hash = ls_funstore_body_hash(body, body_len);
	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), id, sizeof(id));
	memcpy(out + sizeof(h) + sizeof(id), body, body_len);
	return sizeof(h) + sizeof(id) + body_len;
}

struct w {
	unsigned char b[512];
	size_t n;
};

static void u32(struct w *w, uint32_t v)
{
	memcpy(w->b + w->n, &v, 4);
	w->n += 4;
}

static void u64(struct w *w, uint64_t v)
{
	memcpy(w->b + w->n, &v, 8);
	w->n += 8;
}

static void str(struct w *w, const char *s)
{
	u32(w, (uint32_t)strlen(s));
	memcpy(w->b + w->n, s, strlen(s) + 1);
	w->n += strlen(s) + 1;
}

/* One function "f" (string 1) over [lo, hi) with one instance of parent `parent`. */
static struct w one_func(uint32_t n_strs, uint32_t sym, int32_t parent, uint64_t lo, uint64_t hi,
			 uint32_t n_fr)
{
	struct w w = {0};

	u32(&w, n_strs);
	str(&w, "f");
	u32(&w, 0); /* no ELF symbols */
	u32(&w, 1); /* one function */
	u32(&w, sym);
	w.b[w.n++] = 1;
	u32(&w, 1); /* one instance */
	u32(&w, (uint32_t)parent);
	u32(&w, 1);
	u32(&w, 1);
	u32(&w, 7);
	u32(&w, 1);
	u64(&w, lo);
	u64(&w, hi);
	u32(&w, 0); /* no rows */
	u32(&w, n_fr);
	if (n_fr) {
		u64(&w, 0x1000);
		u64(&w, 0x2000);
	}
	u32(&w, 0); /* no bare addresses */
	return w;
}

static void hand_made_lies_are_refused(void **state)
{
	struct {
		const char *what;
		struct w body;
	} cases[] = {
	    {"a string count past the bytes", one_func(0xffffffff, 1, -1, 0x1000, 0x1100, 1)},
	    {"a string index past the table", one_func(1, 2, -1, 0x1000, 0x1100, 1)},
	    {"an instance whose parent comes later", one_func(1, 1, 0, 0x1000, 0x1100, 1)},
	    {"an empty instance range", one_func(1, 1, -1, 0x1100, 0x1100, 1)},
	    {"a function no range leads to", one_func(1, 1, -1, 0x1000, 0x1100, 0)},
	    {"a range count past the bytes", one_func(1, 1, -1, 0x1000, 0x1100, 0x40000000)},
	};
	unsigned char buf[1024];
	struct w good = one_func(1, 1, -1, 0x1000, 0x1100, 1), overlap = {0};
	size_t i, len;

	(void)state;
	/* the forger writes what the decoder reads: its honest store is taken */
	{
		struct caches *c = caches_new();

		len = forge(buf, good.b, good.n);
		assert_int_equal(decode(c, buf, len, id, sizeof(id), 1), 0);
		assert_non_null(ls_rangemap__find(c->funcs, KEY, 0x1800));
		caches_free(c);
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct caches *c = caches_new();

		len = forge(buf, cases[i].body.b, cases[i].body.n);
		if (decode(c, buf, len, id, sizeof(id), 1) != -EINVAL)
			fail_msg("taken: %s", cases[i].what);
		assert_null(ls_rangemap__find(c->funcs, KEY, 0x1800));
		assert_int_equal(c->n_owned, 0);
		caches_free(c);
	}
	/* two ELF symbols over the same bytes */
	u32(&overlap, 1);
	str(&overlap, "f");
	u32(&overlap, 2);
	u64(&overlap, 0x1000);
	u64(&overlap, 0x2000);
	u32(&overlap, 1);
	u64(&overlap, 0x1800);
	u64(&overlap, 0x2800);
	u32(&overlap, 1);
	u32(&overlap, 0);
	u32(&overlap, 0);
	{
		struct caches *c = caches_new();

		len = forge(buf, overlap.b, overlap.n);
		assert_int_equal(decode(c, buf, len, id, sizeof(id), 1), -EINVAL);
		assert_null(ls_rangemap__find(c->syms, KEY, 0x1000));
		caches_free(c);
	}
}

static void what_the_run_learned_stays(void **state)
{
	struct caches *c = caches_new();
	size_t len;
	void *buf = encoded(&len);

	(void)state;
	assert_int_equal(ls_rangemap__add(c->syms, KEY, 0x1000, 0x1800, "learned"), 0);
	assert_int_equal(decode(c, buf, len, id, sizeof(id), 40000), 0);
	assert_string_equal(ls_rangemap__find(c->syms, KEY, 0x1000), "learned");
	/* the store's other ranges still come */
	assert_string_equal(ls_rangemap__find(c->syms, KEY, 0x3000), "small");
	free(buf);
	caches_free(c);
}

static int note(void *ctx, uint64_t lo, uint64_t hi, void *value)
{
	uint64_t *seen = ctx;

	(void)hi;
	if (value == NULL)
		return 1;
	seen[++seen[0]] = lo;
	/* seen[7]: where to stop */
	return seen[0] == seen[7] ? 2 : 0;
}

static void each_walks_one_key_in_order(void **state)
{
	struct ls_rangemap *m = ls_rangemap__new();
	static int v;
	uint64_t seen[8] = {0};

	(void)state;
	assert_int_equal(ls_rangemap__add(m, 5, 0x0, 0x10, &v), 0);
	assert_int_equal(ls_rangemap__add(m, 6, 0x30, 0x40, &v), 0);
	assert_int_equal(ls_rangemap__add(m, 6, 0x0, 0x10, &v), 0);
	assert_int_equal(ls_rangemap__add(m, 6, 0x10, 0x20, &v), 0);
	assert_int_equal(ls_rangemap__add(m, 7, 0x0, 0x10, &v), 0);
	assert_int_equal(ls_rangemap__each(m, 6, note, seen), 0);
	assert_int_equal(seen[0], 3);
	assert_int_equal(seen[1], 0x0);
	assert_int_equal(seen[2], 0x10);
	assert_int_equal(seen[3], 0x30);
	assert_int_equal(ls_rangemap__add(m, 6, 0x50, 0x60, &v), 0);
	memset(seen, 0, sizeof(seen));
	seen[7] = 3;
	/* a non-zero return stops the walk and is returned */
	assert_int_equal(ls_rangemap__each(m, 6, note, seen), 2);
	assert_int_equal(seen[0], 3);
	ls_rangemap__free(m);
}

/*
 * A module a run named only from its ELF symbols (no DWARF function, no
 * bare address): its store holds the symbols and empty lists, and reads
 * back. The lists' arrays are never allocated then (UBSan's run checks
 * that none of them reaches qsort or memcpy).
 */
static void symbols_only_round_trip(void **state)
{
	struct caches *c = caches_new(), *back = caches_new();
	size_t len;
	void *buf;

	(void)state;
	assert_int_equal(ls_rangemap__add(c->syms, KEY, 0x1000, 0x1100, "only_symbol"), 0);
	assert_int_equal(ls_funstore_encode(&c->maps, KEY, id, sizeof(id), 40000, &buf, &len), 0);
	assert_int_equal(decode(back, buf, len, id, sizeof(id), 40000), 0);
	assert_string_equal(ls_rangemap__find(back->syms, KEY, 0x1080), "only_symbol");
	assert_null(ls_rangemap__find(back->funcs, KEY, 0x1080));
	free(buf);
	caches_free(c);
	caches_free(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_trip_names_every_address_the_same),
	    cmocka_unit_test(foreign_altered_or_truncated_is_refused_whole),
	    cmocka_unit_test(hand_made_lies_are_refused),
	    cmocka_unit_test(what_the_run_learned_stays),
	    cmocka_unit_test(each_walks_one_key_in_order),
	    cmocka_unit_test(symbols_only_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
