// SPDX-License-Identifier: BSD-2-Clause
/*
 * The frame-pointer walk the unwinder falls back to where there is no CFI
 * (JIT code): ls_fp_walk() on a synthetic copy of a stack. It reads only
 * the copy, so a chain pointing anywhere else must stop the walk.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "unwind.h"

#define SP 0x7ffc12340000ull /* where the copy starts in the thread's address space */
#define SIZE 512

static uint8_t stack[SIZE];

/* Writes the frame record [saved fp][return address] at address fp. */
static void frame(uint64_t fp, uint64_t saved_fp, uint64_t ret)
{
	assert_true(fp >= SP && fp + 16 <= SP + SIZE);
	memcpy(stack + (fp - SP), &saved_fp, 8);
	memcpy(stack + (fp - SP) + 8, &ret, 8);
}

struct walk {
	uint64_t pcs[8];
	bool activation[8];
	unsigned n;
};

static void walk(struct walk *w, uint64_t fp, unsigned max)
{
	ls_fp_walk(stack, SP, SIZE, fp, w->pcs, w->activation, &w->n, max);
}

static int setup(void **state)
{
	(void)state;
	memset(stack, 0, sizeof(stack));
	return 0;
}

static void test_chain_of_three(void **state)
{
	struct walk w = {.n = 0};
	unsigned i;

	(void)state;
	frame(SP + 0x10, SP + 0x40, 0x401010);
	frame(SP + 0x40, SP + 0x100, 0x402020);
	frame(SP + 0x100, 0, 0x403030); /* outermost: no caller's frame */
	memset(w.activation, 1, sizeof(w.activation));
	walk(&w, SP + 0x10, 8);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.pcs[0], 0x401010);
	assert_int_equal(w.pcs[1], 0x402020);
	assert_int_equal(w.pcs[2], 0x403030);
	for (i = 0; i < w.n; i++)
		assert_false(w.activation[i]); /* return addresses, not the interrupted pc */
}

static void test_appends_after_existing(void **state)
{
	struct walk w = {.n = 1};

	(void)state;
	w.pcs[0] = 0x7f0000001234; /* the sampled pc, put there by the caller */
	w.activation[0] = true;
	frame(SP + 0x20, SP + 0x60, 0x401010);
	frame(SP + 0x60, 0, 0x402020);
	walk(&w, SP + 0x20, 8);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.pcs[0], 0x7f0000001234);
	assert_true(w.activation[0]);
	assert_int_equal(w.pcs[1], 0x401010);
	assert_int_equal(w.pcs[2], 0x402020);
}

static void test_loop_stops(void **state)
{
	struct walk w = {.n = 0};

	(void)state;
	/* the second frame points back at the first */
	frame(SP + 0x10, SP + 0x40, 0x401010);
	frame(SP + 0x40, SP + 0x10, 0x402020);
	walk(&w, SP + 0x10, 8);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.pcs[1], 0x402020);

	/* a frame that points at itself */
	w.n = 0;
	frame(SP + 0x80, SP + 0x80, 0x404040);
	walk(&w, SP + 0x80, 8);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.pcs[0], 0x404040);
}

static void test_non_increasing_stops(void **state)
{
	struct walk w = {.n = 0};

	(void)state;
	/* the caller's frame must lie above: one below is garbage, not a chain */
	frame(SP + 0x100, SP + 0x80, 0x401010);
	frame(SP + 0x80, SP + 0x1c0, 0x402020);
	walk(&w, SP + 0x100, 8);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.pcs[0], 0x401010);
}

static void test_out_of_range_stops(void **state)
{
	struct walk w = {.n = 0};

	(void)state;
	/* the chain leaves the copy: what lies beyond was not copied */
	frame(SP + 0x10, SP + 0x40, 0x401010);
	frame(SP + 0x40, SP + SIZE + 0x100, 0x402020);
	walk(&w, SP + 0x10, 8);
	assert_int_equal(w.n, 2);

	/* a frame record straddling the end of the copy is not read */
	w.n = 0;
	frame(SP + 0x10, SP + SIZE - 8, 0x401010);
	walk(&w, SP + 0x10, 8);
	assert_int_equal(w.n, 1);

	/* a starting fp below sp, or far above the copy, gives nothing */
	w.n = 0;
	walk(&w, SP - 0x10, 8);
	assert_int_equal(w.n, 0);
	walk(&w, SP + SIZE, 8);
	assert_int_equal(w.n, 0);
	walk(&w, 0, 8);
	assert_int_equal(w.n, 0);
	walk(&w, UINT64_MAX - 8, 8);
	assert_int_equal(w.n, 0);
}

static void test_zero_return_stops(void **state)
{
	struct walk w = {.n = 0};

	(void)state;
	frame(SP + 0x10, SP + 0x40, 0x401010);
	frame(SP + 0x40, SP + 0x80, 0); /* the end of the chain, as _start leaves it */
	frame(SP + 0x80, 0, 0x403030);
	walk(&w, SP + 0x10, 8);
	assert_int_equal(w.n, 1);
}

static void test_max_respected(void **state)
{
	struct walk w = {.n = 0};

	(void)state;
	frame(SP + 0x10, SP + 0x40, 0x401010);
	frame(SP + 0x40, SP + 0x100, 0x402020);
	frame(SP + 0x100, SP + 0x180, 0x403030);
	frame(SP + 0x180, 0, 0x404040);
	w.pcs[2] = 0xdead; /* must stay untouched */
	walk(&w, SP + 0x10, 2);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.pcs[1], 0x402020);
	assert_int_equal(w.pcs[2], 0xdead);

	/* already full: nothing is added */
	w.n = 2;
	walk(&w, SP + 0x10, 2);
	assert_int_equal(w.n, 2);

	/* max counts the frames already there */
	w.n = 1;
	walk(&w, SP + 0x10, 3);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.pcs[1], 0x401010);
	assert_int_equal(w.pcs[2], 0x402020);
}

/* A callback libprobe recorded, named by its address (the agent does it when the region cannot). */
__attribute__((noinline)) void ls_test_named_callback(void)
{
	__asm__ volatile("");
}

static void test_name_callback(void **state)
{
	struct ls_unwinder *u = ls_unwinder__new();
	char sym[128], mod[256];
	size_t n;

	(void)state;
	assert_non_null(u);
	assert_int_equal(ls_unwinder__name(u, getpid(), (uintptr_t)ls_test_named_callback, sym,
					   sizeof(sym), mod, sizeof(mod)),
			 0);
	assert_string_equal(sym, "ls_test_named_callback");
	n = strlen(mod);
	assert_true(n >= 14 && !strcmp(mod + n - 14, "test_unwind_fp"));
	/* nothing mapped at page 0 */
	assert_int_equal(ls_unwinder__name(u, getpid(), 16, sym, sizeof(sym), mod, sizeof(mod)),
			 -ENOENT);
	assert_string_equal(sym, "");
	ls_unwinder__free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_chain_of_three, setup),
	    cmocka_unit_test_setup(test_appends_after_existing, setup),
	    cmocka_unit_test_setup(test_loop_stops, setup),
	    cmocka_unit_test_setup(test_non_increasing_stops, setup),
	    cmocka_unit_test_setup(test_out_of_range_stops, setup),
	    cmocka_unit_test_setup(test_zero_return_stops, setup),
	    cmocka_unit_test_setup(test_max_respected, setup),
	    cmocka_unit_test(test_name_callback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
