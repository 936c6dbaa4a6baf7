// SPDX-License-Identifier: BSD-2-Clause
/*
 * The symbolizer's per-function caches (funcache.h): disjoint ranges per
 * module, and the chain of inlined instances holding an address, found
 * the way dwarf_getscopes descends the concrete DIE tree.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "funcache.h"

static int v1, v2, v3;

static void rangemap_finds_the_range_of_its_key(void **state)
{
	struct ls_rangemap *m = ls_rangemap__new();

	(void)state;
	assert_non_null(m);
	assert_int_equal(ls_rangemap__add(m, 7, 0x100, 0x200, &v1), 0);
	assert_int_equal(ls_rangemap__add(m, 7, 0x300, 0x310, &v2), 0);
	assert_int_equal(ls_rangemap__add(m, 9, 0x100, 0x200, &v3), 0);
	assert_ptr_equal(ls_rangemap__find(m, 7, 0x100), &v1);
	assert_ptr_equal(ls_rangemap__find(m, 7, 0x1ff), &v1);
	/* hi is outside: the next function starts there */
	assert_null(ls_rangemap__find(m, 7, 0x200));
	assert_null(ls_rangemap__find(m, 7, 0xff));
	assert_null(ls_rangemap__find(m, 7, 0x2ff));
	assert_ptr_equal(ls_rangemap__find(m, 7, 0x30f), &v2);
	/* another module with the same offsets is another library */
	assert_ptr_equal(ls_rangemap__find(m, 9, 0x150), &v3);
	assert_null(ls_rangemap__find(m, 8, 0x150));
	assert_null(ls_rangemap__find(m, 10, 0x150));
	ls_rangemap__free(m);
}

static void rangemap_refuses_overlaps_and_empty_ranges(void **state)
{
	struct ls_rangemap *m = ls_rangemap__new();

	(void)state;
	assert_int_equal(ls_rangemap__add(m, 1, 0x100, 0x200, &v1), 0);
	assert_int_equal(ls_rangemap__add(m, 1, 0x1f0, 0x210, &v2), -EEXIST);
	assert_int_equal(ls_rangemap__add(m, 1, 0x80, 0x101, &v2), -EEXIST);
	assert_int_equal(ls_rangemap__add(m, 1, 0x120, 0x130, &v2), -EEXIST);
	assert_int_equal(ls_rangemap__add(m, 1, 0x50, 0x300, &v2), -EEXIST);
	assert_int_equal(ls_rangemap__add(m, 1, 0x300, 0x300, &v2), -EINVAL);
	/* touching is no overlap */
	assert_int_equal(ls_rangemap__add(m, 1, 0x200, 0x210, &v2), 0);
	assert_int_equal(ls_rangemap__add(m, 1, 0x80, 0x100, &v3), 0);
	assert_ptr_equal(ls_rangemap__find(m, 1, 0x100), &v1);
	assert_ptr_equal(ls_rangemap__find(m, 1, 0x200), &v2);
	assert_ptr_equal(ls_rangemap__find(m, 1, 0xff), &v3);
	ls_rangemap__free(m);
}

static void rangemap_keeps_order_when_many_are_added(void **state)
{
	struct ls_rangemap *m = ls_rangemap__new();
	static int vals[1000];
	unsigned i;

	(void)state;
	/* added out of order, past the first growth */
	for (i = 0; i < 1000; i++) {
		unsigned k = (i * 389) % 1000;

		assert_int_equal(ls_rangemap__add(m, 3, k * 16, k * 16 + 10, &vals[k]), 0);
	}
	for (i = 0; i < 1000; i++) {
		assert_ptr_equal(ls_rangemap__find(m, 3, i * 16 + 9), &vals[i]);
		assert_null(ls_rangemap__find(m, 3, i * 16 + 10));
	}
	ls_rangemap__free(m);
}

/*
 * f: [0x1000, 0x1400)
 *   A (0x1010..0x1100)              called at f.c:10
 *     B (0x1020..0x1040, 0x10f0..0x1100)   called at a.h:3
 *       C (0x1030..0x1038)          called at b.h:7
 *   D (0x1200..0x1300)              called at f.c:20
 *   E (0x1250..0x1260)  a sibling of D's range, but D's child
 */
static struct ls_func *sample_func(void)
{
	struct ls_func *f = ls_func__new("f");
	int a, b, c, d, e;

	assert_non_null(f);
	a = ls_func__add_inst(f, -1, "A", "f.c", 10);
	assert_int_equal(ls_func__add_range(f, (unsigned)a, 0x1010, 0x1100), 0);
	b = ls_func__add_inst(f, a, "B", "a.h", 3);
	assert_int_equal(ls_func__add_range(f, (unsigned)b, 0x1020, 0x1040), 0);
	assert_int_equal(ls_func__add_range(f, (unsigned)b, 0x10f0, 0x1100), 0);
	c = ls_func__add_inst(f, b, "C", "b.h", 7);
	assert_int_equal(ls_func__add_range(f, (unsigned)c, 0x1030, 0x1038), 0);
	d = ls_func__add_inst(f, -1, "D", "f.c", 20);
	assert_int_equal(ls_func__add_range(f, (unsigned)d, 0x1200, 0x1300), 0);
	e = ls_func__add_inst(f, d, "E", "d.h", 5);
	assert_int_equal(ls_func__add_range(f, (unsigned)e, 0x1250, 0x1260), 0);
	return f;
}

static unsigned chain_names(const struct ls_func *f, uint64_t off, const char **names)
{
	unsigned chain[8], n = ls_func__chain(f, off, chain, 8), i;

	for (i = 0; i < n; i++)
		names[i] = f->inst[chain[i]].symbol;
	return n;
}

static void chain_is_innermost_first(void **state)
{
	struct ls_func *f = sample_func();
	const char *names[8];

	(void)state;
	/* in f's own code: no inlined instance */
	assert_int_equal(chain_names(f, 0x1000, names), 0);
	assert_int_equal(chain_names(f, 0x1100, names), 0);
	assert_int_equal(chain_names(f, 0x1010, names), 1);
	assert_string_equal(names[0], "A");
	assert_int_equal(chain_names(f, 0x1034, names), 3);
	assert_string_equal(names[0], "C");
	assert_string_equal(names[1], "B");
	assert_string_equal(names[2], "A");
	/* C's range ends: back in B */
	assert_int_equal(chain_names(f, 0x1038, names), 2);
	assert_string_equal(names[0], "B");
	/* B's second range */
	assert_int_equal(chain_names(f, 0x10f8, names), 2);
	assert_string_equal(names[0], "B");
	assert_string_equal(names[1], "A");
	/* between B's ranges: A alone */
	assert_int_equal(chain_names(f, 0x1080, names), 1);
	assert_string_equal(names[0], "A");
	assert_int_equal(chain_names(f, 0x1255, names), 2);
	assert_string_equal(names[0], "E");
	assert_string_equal(names[1], "D");
	assert_int_equal(f->inst[0].call_line, 10);
	ls_func__free(f);
}

static void chain_only_descends_through_holders(void **state)
{
	struct ls_func *f = ls_func__new("g");
	const char *names[8];
	unsigned chain[2];
	int a, b;

	(void)state;
	/* b claims an address its parent does not hold: dwarf_getscopes never reaches it */
	a = ls_func__add_inst(f, -1, "A", "g.c", 1);
	assert_int_equal(ls_func__add_range(f, (unsigned)a, 0x10, 0x20), 0);
	b = ls_func__add_inst(f, a, "B", "g.c", 2);
	assert_int_equal(ls_func__add_range(f, (unsigned)b, 0x30, 0x40), 0);
	assert_int_equal(chain_names(f, 0x35, names), 0);
	/* the chain is cut at max, innermost kept */
	assert_int_equal(ls_func__add_range(f, (unsigned)b, 0x10, 0x18), 0);
	assert_int_equal(ls_func__chain(f, 0x12, chain, 1), 1);
	assert_string_equal(f->inst[chain[0]].symbol, "B");
	ls_func__free(f);
}

static void func_refuses_bad_trees(void **state)
{
	struct ls_func *f = ls_func__new("h");
	int a, b;

	(void)state;
	/* a parent must come before its child */
	assert_int_equal(ls_func__add_inst(f, 0, "X", NULL, 0), -EINVAL);
	a = ls_func__add_inst(f, -1, "A", NULL, 0);
	assert_int_equal(a, 0);
	assert_int_equal(ls_func__add_inst(f, 5, "X", NULL, 0), -EINVAL);
	assert_int_equal(ls_func__add_range(f, 1, 0, 8), -EINVAL);
	assert_int_equal(ls_func__add_range(f, 0, 8, 8), -EINVAL);
	assert_int_equal(ls_func__add_range(f, 0, 0, 8), 0);
	b = ls_func__add_inst(f, a, "B", NULL, 0);
	assert_int_equal(ls_func__add_range(f, (unsigned)b, 0, 4), 0);
	/* A's ranges were done when B's began */
	assert_int_equal(ls_func__add_range(f, 0, 16, 24), -EINVAL);
	ls_func__free(f);
}

/* A library describing a huge function is bounded: libdw names it instead. */
static void func_is_bounded(void **state)
{
	struct ls_func *f = ls_func__new("huge");
	unsigned i;

	(void)state;
	for (i = 0; i < 65536; i++)
		assert_int_equal(ls_func__add_inst(f, -1, "x", NULL, 0), (int)i);
	assert_int_equal(ls_func__add_inst(f, -1, "x", NULL, 0), -E2BIG);
	ls_func__free(f);
}

/* Rows as libdw sorts them: two sequences, a repeated address, an end of sequence. */
static void line_is_the_last_row_at_or_below(void **state)
{
	struct ls_func *f = ls_func__new("k");
	const struct ls_line_row *r;

	(void)state;
	assert_null(ls_func__line(f, 0x100));
	assert_int_equal(ls_func__add_row(f, 0x100, "k.c", 1, false), 0);
	assert_int_equal(ls_func__add_row(f, 0x108, "k.c", 2, false), 0);
	/* two rows at one address: the later one answers */
	assert_int_equal(ls_func__add_row(f, 0x110, "k.c", 3, false), 0);
	assert_int_equal(ls_func__add_row(f, 0x110, "i.h", 40, false), 0);
	assert_int_equal(ls_func__add_row(f, 0x120, NULL, 0, true), 0);
	assert_int_equal(ls_func__add_row(f, 0x200, "k.c", 9, false), 0);
	assert_int_equal(ls_func__add_row(f, 0x210, NULL, 0, true), 0);
	/* addresses never go down */
	assert_int_equal(ls_func__add_row(f, 0x1ff, "k.c", 1, false), -EINVAL);

	assert_null(ls_func__line(f, 0xff));
	r = ls_func__line(f, 0x100);
	assert_non_null(r);
	assert_int_equal(r->line, 1);
	assert_int_equal(ls_func__line(f, 0x107)->line, 1);
	assert_int_equal(ls_func__line(f, 0x108)->line, 2);
	r = ls_func__line(f, 0x11f);
	assert_string_equal(r->file, "i.h");
	assert_int_equal(r->line, 40);
	/* after the end of a sequence and before the next one: no line */
	assert_null(ls_func__line(f, 0x120));
	assert_null(ls_func__line(f, 0x1ff));
	assert_int_equal(ls_func__line(f, 0x20f)->line, 9);
	assert_null(ls_func__line(f, 0x210));
	assert_null(ls_func__line(f, 0x10000));
	ls_func__free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rangemap_finds_the_range_of_its_key),
	    cmocka_unit_test(rangemap_refuses_overlaps_and_empty_ranges),
	    cmocka_unit_test(rangemap_keeps_order_when_many_are_added),
	    cmocka_unit_test(chain_is_innermost_first),
	    cmocka_unit_test(chain_only_descends_through_holders),
	    cmocka_unit_test(func_refuses_bad_trees),
	    cmocka_unit_test(line_is_the_last_row_at_or_below),
	    cmocka_unit_test(func_is_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
