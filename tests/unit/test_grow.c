// SPDX-License-Identifier: BSD-2-Clause
/* grow.c: the one way the agent's arrays grow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "grow.h"

static void test_doubles(void **state)
{
	size_t cap = 0, n;
	int *a = NULL, *g;

	(void)state;
	for (n = 0; n < 100; n++) {
		g = ls_grow(a, &cap, n + 1, sizeof(*a), 4);
		assert_non_null(g);
		a = g;
		a[n] = (int)n;
		assert_true(cap >= n + 1);
	}
	/* 4, 8, ..., 128: doubling, not one at a time */
	assert_int_equal(cap, 128);
	for (n = 0; n < 100; n++)
		assert_int_equal(a[n], (int)n);
	/* room enough: the same array */
	assert_ptr_equal(ls_grow(a, &cap, 128, sizeof(*a), 4), a);
	assert_int_equal(cap, 128);
	free(a);
}

/* A need past the first doubling (text appended in one piece) still fits at once. */
static void test_large_need(void **state)
{
	size_t cap = 0;
	char *t;

	(void)state;
	t = ls_grow(NULL, &cap, 10000, 1, 4096);
	assert_non_null(t);
	assert_int_equal(cap, 16384);
	free(t);
}

static void test_overflow(void **state)
{
	size_t cap = 8;
	int *a = malloc(8 * sizeof(*a));

	(void)state;
	assert_non_null(a);
	/* no size_t holds it: NULL, and the array and its capacity stay */
	assert_null(ls_grow(a, &cap, SIZE_MAX / 2, sizeof(*a), 8));
	assert_int_equal(cap, 8);
	assert_null(ls_grow(a, &cap, SIZE_MAX, 1, 8));
	assert_int_equal(cap, 8);
	a[7] = 1;
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_doubles),
	    cmocka_unit_test(test_large_need),
	    cmocka_unit_test(test_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
