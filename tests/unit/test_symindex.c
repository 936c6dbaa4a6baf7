// SPDX-License-Identifier: BSD-2-Clause
/*
 * A module's symbols by address (symindex.h): the one sized symbol holding
 * an address, however far below it starts; and no answer (libdwfl's
 * then) where libdwfl's choice would depend on the table's order: two
 * holders, a label at the address, too many symbols to look through.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "symindex.h"

#define BASE 0x7f3a12000000ull

static struct ls_symindex *sealed(const uint64_t (*syms)[2], const char **names, size_t n)
{
	struct ls_symindex *x = ls_symindex__new();
	size_t i;

	assert_non_null(x);
	/* backwards: the index sorts */
	for (i = n; i > 0; i--)
		assert_int_equal(ls_symindex__add(x, syms[i - 1][0], syms[i - 1][1], names[i - 1]),
				 0);
	assert_int_equal(ls_symindex__seal(x), 0);
	return x;
}

static void names_the_one_holder(void **state)
{
	static const uint64_t syms[][2] = {{BASE + 0x1000, 0x100},
					   {BASE + 0x1100, 0x100},
					   {BASE + 0x1300, 0},
					   {BASE + 0x10000, 0x20}};
	static const char *names[] = {"eval", "call", "label", "far"};
	struct ls_symindex *x = sealed(syms, names, 4);
	struct ls_symindex_hit hit;

	(void)state;
	assert_true(ls_symindex__find(x, BASE + 0x1050, &hit));
	assert_string_equal(hit.name, "eval");
	assert_int_equal(hit.value, BASE + 0x1000);
	assert_int_equal(hit.size, 0x100);
	/* the end is the next one's */
	assert_true(ls_symindex__find(x, BASE + 0x1100, &hit));
	assert_string_equal(hit.name, "call");
	assert_true(ls_symindex__find(x, BASE + 0x11ff, &hit));
	assert_string_equal(hit.name, "call");
	assert_true(ls_symindex__find(x, BASE + 0x1001f, &hit));
	assert_string_equal(hit.name, "far");
	/* no sized holder: a label may name it, libdwfl decides */
	assert_false(ls_symindex__find(x, BASE + 0x1250, &hit));
	assert_false(ls_symindex__find(x, BASE + 0x1350, &hit));
	assert_false(ls_symindex__find(x, BASE + 0xfff, &hit));
	assert_false(ls_symindex__find(x, BASE + 0x10020, &hit));
	ls_symindex__free(x);
}

static void finds_a_holder_below_smaller_symbols(void **state)
{
	/* a big function with a small one inside its range's start, as a hot/cold split leaves */
	static const uint64_t syms[][2] = {{BASE + 0x1000, 0x2000}, {BASE + 0x1100, 0x10}};
	static const char *names[] = {"big", "small"};
	struct ls_symindex *x = sealed(syms, names, 2);
	struct ls_symindex_hit hit;

	(void)state;
	assert_true(ls_symindex__find(x, BASE + 0x2000, &hit));
	assert_string_equal(hit.name, "big");
	/* inside both: which one libdwfl names depends on its table's order */
	assert_false(ls_symindex__find(x, BASE + 0x1105, &hit));
	ls_symindex__free(x);
}

static void gives_order_dependent_answers_back(void **state)
{
	static const uint64_t syms[][2] = {{BASE + 0x1000, 0x100},
					   {BASE + 0x1000, 0x100},
					   {BASE + 0x2000, 0x100},
					   {BASE + 0x2040, 0}};
	static const char *names[] = {"malloc", "__libc_malloc", "f", "f_label"};
	struct ls_symindex *x = sealed(syms, names, 4);
	struct ls_symindex_hit hit;

	(void)state;
	/* aliases */
	assert_false(ls_symindex__find(x, BASE + 0x1010, &hit));
	/* a label exactly at the address; just past it the function is alone */
	assert_false(ls_symindex__find(x, BASE + 0x2040, &hit));
	assert_true(ls_symindex__find(x, BASE + 0x2041, &hit));
	assert_string_equal(hit.name, "f");
	ls_symindex__free(x);
}

static void gives_up_past_its_steps(void **state)
{
	struct ls_symindex *x = ls_symindex__new();
	struct ls_symindex_hit hit;
	unsigned k;

	(void)state;
	assert_non_null(x);
	/* one holder 200 symbols below, the ones between all ending before the address */
	assert_int_equal(ls_symindex__add(x, BASE, 0x100000, "huge"), 0);
	for (k = 0; k < 200; k++)
		assert_int_equal(ls_symindex__add(x, BASE + 0x1000 + k * 0x10, 0x8, "tiny"), 0);
	assert_int_equal(ls_symindex__seal(x), 0);
	assert_false(ls_symindex__find(x, BASE + 0x1000 + 199 * 0x10 + 0xc, &hit));
	ls_symindex__free(x);
}

static void sealed_means_sorted_and_closed(void **state)
{
	struct ls_symindex *x = ls_symindex__new();
	struct ls_symindex_hit hit;

	(void)state;
	assert_non_null(x);
	assert_int_equal(ls_symindex__add(x, BASE + 0x300, 0x100, "c"), 0);
	assert_int_equal(ls_symindex__add(x, BASE + 0x100, 0x100, "a"), 0);
	/* values differing in a high byte too */
	assert_int_equal(ls_symindex__add(x, BASE + 0x100000200, 0x100, "d"), 0);
	assert_int_equal(ls_symindex__add(x, BASE + 0x200, 0x100, "b"), 0);
	/* not sorted yet: no answer */
	assert_false(ls_symindex__find(x, BASE + 0x150, &hit));
	assert_int_equal(ls_symindex__seal(x), 0);
	assert_int_equal(ls_symindex__add(x, BASE, 0x10, "late"), -EINVAL);
	assert_true(ls_symindex__find(x, BASE + 0x150, &hit));
	assert_string_equal(hit.name, "a");
	assert_true(ls_symindex__find(x, BASE + 0x250, &hit));
	assert_string_equal(hit.name, "b");
	assert_true(ls_symindex__find(x, BASE + 0x3ff, &hit));
	assert_string_equal(hit.name, "c");
	assert_true(ls_symindex__find(x, BASE + 0x100000250, &hit));
	assert_string_equal(hit.name, "d");
	assert_false(ls_symindex__find(x, BASE + 0x400, &hit));
	assert_false(ls_symindex__find(NULL, BASE + 0x150, &hit));
	ls_symindex__free(x);
}

/* Many symbols, added out of order, their values differing in low and high bytes: each found. */
static void sorts_every_differing_byte(void **state)
{
	struct ls_symindex *x = ls_symindex__new();
	struct ls_symindex_hit hit;
	uint64_t i, n = 5000;

	(void)state;
	assert_non_null(x);
	/* 7 is prime to n: i * 7 % n visits every slot once, out of order */
	for (i = 0; i < n; i++)
		assert_int_equal(ls_symindex__add(x, BASE + (i * 7 % n) * 0x1000123ull, 0x10, "f"),
				 0);
	assert_int_equal(ls_symindex__seal(x), 0);
	for (i = 0; i < n; i++) {
		assert_true(ls_symindex__find(x, BASE + i * 0x1000123ull + 0x8, &hit));
		assert_int_equal(hit.value, BASE + i * 0x1000123ull);
	}
	ls_symindex__free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(names_the_one_holder),
	    cmocka_unit_test(finds_a_holder_below_smaller_symbols),
	    cmocka_unit_test(gives_order_dependent_answers_back),
	    cmocka_unit_test(sorts_every_differing_byte),
	    cmocka_unit_test(gives_up_past_its_steps),
	    cmocka_unit_test(sealed_means_sorted_and_closed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
