// SPDX-License-Identifier: BSD-2-Clause
/* threads.c: the agent's loop threads by tid, and the `live` entries they hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "threads.h"

static void test_find_get_remove(void **state)
{
	struct ls_threads *th = ls_threads__new();
	struct ls_thread *t;
	uint32_t tid;

	(void)state;
	assert_non_null(th);
	assert_null(ls_threads__get(th, 1, 0));
	/* past the first table size: entries survive growing and deletions in probe runs */
	for (tid = 100; tid < 1100; tid++) {
		t = ls_threads__get(th, 7, tid);
		assert_non_null(t);
		t->begun_start_ns = tid;
	}
	assert_int_equal(ls_threads__count(th), 1000);
	for (tid = 100; tid < 1100; tid += 2)
		ls_threads__remove(th, tid, LS_THREAD_NO_SLOT);
	assert_int_equal(ls_threads__count(th), 500);
	for (tid = 100; tid < 1100; tid++) {
		t = ls_threads__find(th, tid);
		if (tid % 2 == 0) {
			assert_null(t);
			continue;
		}
		assert_non_null(t);
		assert_int_equal(t->pid, 7);
		assert_int_equal(t->begun_start_ns, tid);
	}
	/* get finds, it does not add twice */
	assert_int_equal(ls_threads__get(th, 9, 101)->pid, 7);
	assert_int_equal(ls_threads__count(th), 500);
	ls_threads__free(th);
}

static void test_slots(void **state)
{
	struct ls_threads *th = ls_threads__new();
	struct ls_thread *t;

	(void)state;
	assert_non_null(th);
	assert_int_equal(ls_threads__next_slot(th, -1), -1);
	ls_threads__set_slot(th, ls_threads__get(th, 1, 10), 3);
	ls_threads__set_slot(th, ls_threads__get(th, 1, 11), 64);
	ls_threads__set_slot(th, ls_threads__get(th, 1, 12), LT_MAX_THREADS - 1);
	assert_int_equal(ls_threads__next_slot(th, -1), 3);
	assert_int_equal(ls_threads__next_slot(th, 3), 64);
	assert_int_equal(ls_threads__next_slot(th, 64), LT_MAX_THREADS - 1);
	assert_int_equal(ls_threads__next_slot(th, LT_MAX_THREADS - 1), -1);

	/* BPF gave slot 3 to tid 20 before tid 10's exit record came: 20 keeps it */
	t = ls_threads__get(th, 1, 20);
	ls_threads__set_slot(th, t, 3);
	assert_int_equal(ls_threads__remove(th, 10, 3), LS_THREAD_NO_SLOT);
	assert_null(ls_threads__find(th, 10));
	assert_int_equal(ls_threads__next_slot(th, -1), 3);
	assert_int_equal(ls_threads__remove(th, 20, 3), 3);
	assert_int_equal(ls_threads__next_slot(th, -1), 64);

	/* a thread user space never heard of gives back BPF's slot when nobody holds it */
	ls_threads__set_slot(th, ls_threads__get(th, 1, 30), 5);
	ls_threads__remove(th, 30, LS_THREAD_NO_SLOT);
	assert_int_equal(ls_threads__remove(th, 31, 64), LS_THREAD_NO_SLOT);
	assert_int_equal(ls_threads__next_slot(th, -1), 64);
	ls_threads__remove(th, 11, LS_THREAD_NO_SLOT);
	assert_int_equal(ls_threads__remove(th, 32, 7), 7);
	assert_int_equal(ls_threads__next_slot(th, -1), LT_MAX_THREADS - 1);
	ls_threads__free(th);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_get_remove),
		cmocka_unit_test(test_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
