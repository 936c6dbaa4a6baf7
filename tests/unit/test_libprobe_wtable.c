// SPDX-License-Identifier: BSD-2-Clause
/* Source mode's watcher table (libprobe/src/wtable.c): a map from watcher to callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "wtable.h"

static void *cb_of(uintptr_t i)
{
	return (void *)(0x1000 + i);
}

static void put_get_del(void **state)
{
	struct lpi_wtable t = {0};
	struct lpi_went out;
	uint64_t w[3] = {0};

	(void)state;
	assert_null(lpi_wtable_get(&t, &w[0]));
	assert_int_equal(lpi_wtable_put(&t, &w[0], cb_of(0), 1), 0);
	assert_int_equal(lpi_wtable_put(&t, &w[1], cb_of(1), 2), 0);
	assert_ptr_equal(lpi_wtable_get(&t, &w[0])->cb, cb_of(0));
	assert_int_equal(lpi_wtable_get(&t, &w[1])->watcher, 2);
	assert_null(lpi_wtable_get(&t, &w[2]));
	/* put again replaces */
	assert_int_equal(lpi_wtable_put(&t, &w[0], cb_of(7), 3), 0);
	assert_ptr_equal(lpi_wtable_get(&t, &w[0])->cb, cb_of(7));
	assert_int_equal(t.used, 2);
	assert_true(lpi_wtable_del(&t, &w[0], &out));
	assert_ptr_equal(out.cb, cb_of(7));
	assert_false(lpi_wtable_del(&t, &w[0], NULL));
	assert_null(lpi_wtable_get(&t, &w[0]));
	/* an entry past a deleted one in the same probe chain is still found */
	assert_ptr_equal(lpi_wtable_get(&t, &w[1])->cb, cb_of(1));
	lpi_wtable_free(&t);
}

/* Many watchers come and go (connections): the table stays small and exact. */
static void churn(void **state)
{
	enum { N = 20000, LIVE = 300 };
	struct lpi_wtable t = {0};
	uint64_t *w = calloc(N, sizeof(*w));
	unsigned i, j;

	(void)state;
	assert_non_null(w);
	for (i = 0; i < N; i++) {
		assert_int_equal(lpi_wtable_put(&t, &w[i], cb_of(i), i % 13), 0);
		if (i >= LIVE)
			assert_true(lpi_wtable_del(&t, &w[i - LIVE], NULL));
		if (i % 1000 == 999)
			for (j = i + 1 - LIVE; j <= i; j++)
				assert_ptr_equal(lpi_wtable_get(&t, &w[j])->cb, cb_of(j));
	}
	assert_int_equal(t.used, LIVE);
	/* tombstones are swept by rehashing: the table does not grow with the churn */
	assert_true(t.cap <= 4096);
	lpi_wtable_free(&t);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(put_get_del),
	    cmocka_unit_test(churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
