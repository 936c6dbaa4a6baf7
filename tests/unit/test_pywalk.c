// SPDX-License-Identifier: BSD-2-Clause
/* pywalk.c: a blocked thread's CPython frames, read over a fake address space. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "pywalk.h"

#define BASE 0x10000ull
#define SIZE 0x4000
#define FS 0x7f0000001000ull

/* The target's memory: [BASE, BASE + SIZE); any read outside fails. */
static uint8_t mem[SIZE];

static int fake_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	if (addr < BASE || addr + len > BASE + SIZE)
		return -1;
	memcpy(buf, mem + (addr - BASE), len);
	return 0;
}

static void put(uint64_t addr, uint64_t v, size_t size)
{
	memcpy(mem + (addr - BASE), &v, size);
}

/* A 3.12-like layout: frames linked directly from the thread state, entry shims owned by C. */
static const struct lt_py_proc pp = {
    .runtime = BASE,
    .chain = LT_PY_CHAIN_DIRECT,
    .runtime_interp = 8,
    .interp_next = 0,
    .interp_threads = 16,
    .tstate_next = 8,
    .tstate_thread_id = 24,
    .tstate_frame = 32,
    .frame_back = 8,
    .frame_code = 0,
    .frame_instr = 56,
    .frame_entry = LT_PY_NO_FIELD,
    .frame_owner = 70,
    .code_adaptive = 192,
    .frame_read = 72,
};

#define INTERP (BASE + 0x100)
#define TS_OTHER (BASE + 0x200)
#define TS_OURS (BASE + 0x300)
#define FRAME(i) (BASE + 0x1000 + (i)*0x100)
#define CODE(i) (BASE + 0x2000 + (i)*0x400)

static void frame(int i, uint64_t back, int instr_units, int owner)
{
	put(FRAME(i) + pp.frame_code, CODE(i), 8);
	put(FRAME(i) + pp.frame_back, back, 8);
	put(FRAME(i) + pp.frame_instr, CODE(i) + pp.code_adaptive + 2 * (uint64_t)instr_units, 8);
	put(FRAME(i) + pp.frame_owner, (uint64_t)owner, 1);
}

/* interpreter -> [other thread, ours]; ours runs frames 0 <- 1 <- shim 2 <- 3 */
static int setup(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	put(BASE + pp.runtime_interp, INTERP, 8);
	put(INTERP + pp.interp_threads, TS_OTHER, 8);
	put(TS_OTHER + pp.tstate_thread_id, FS + 0x1000, 8);
	put(TS_OTHER + pp.tstate_next, TS_OURS, 8);
	put(TS_OURS + pp.tstate_thread_id, FS, 8);
	put(TS_OURS + pp.tstate_frame, FRAME(0), 8);
	frame(0, FRAME(1), 5, 0);
	frame(1, FRAME(2), 7, 0);
	frame(2, FRAME(3), 0, 3);
	frame(3, 0, 11, 0);
	return 0;
}

static void test_chain(void **state)
{
	struct lt_py_stack st;

	(void)state;
	ls_py_walk(&pp, fake_read, NULL, FS, &st);
	assert_int_equal(st.status, LT_PY_OK);
	/* the shim is no frame: it marks the one after it as an eval call's first */
	assert_int_equal(st.n, 3);
	assert_int_equal(st.frames[0].code, CODE(0));
	assert_int_equal(st.frames[0].lasti, 5);
	assert_int_equal(st.frames[0].frame, FRAME(0));
	assert_int_equal(st.frames[1].code, CODE(1));
	assert_int_equal(st.frames[1].flags, LT_PY_ENTRY);
	assert_int_equal(st.frames[0].flags, 0);
	assert_int_equal(st.frames[2].code, CODE(3));
	assert_int_equal(st.frames[2].lasti, 11);
}

static void test_unknown_thread(void **state)
{
	struct lt_py_stack st;

	(void)state;
	ls_py_walk(&pp, fake_read, NULL, FS + 0x2000, &st);
	assert_int_equal(st.status, LT_PY_NO_THREAD);
	assert_int_equal(st.n, 0);
	ls_py_walk(&pp, fake_read, NULL, 0, &st);
	assert_int_equal(st.status, LT_PY_NO_THREAD);
}

/* The target's memory is untrusted: a chain that loops ends, marked truncated. */
static void test_cycle(void **state)
{
	struct lt_py_stack st;

	(void)state;
	put(FRAME(3) + pp.frame_back, FRAME(0), 8);
	ls_py_walk(&pp, fake_read, NULL, FS, &st);
	assert_int_equal(st.status, LT_PY_TRUNCATED);
	assert_int_equal(st.n, LT_PY_MAX_FRAMES);
}

/* A thread list that loops on itself is bounded too (and the thread not found). */
static void test_thread_list_cycle(void **state)
{
	struct lt_py_stack st;

	(void)state;
	put(TS_OTHER + pp.tstate_next, TS_OTHER, 8);
	ls_py_walk(&pp, fake_read, NULL, FS, &st);
	assert_int_equal(st.status, LT_PY_NO_THREAD);
}

static void test_read_fails(void **state)
{
	struct lt_py_stack st;

	(void)state;
	put(FRAME(1) + pp.frame_back, BASE + SIZE - 8, 8);
	ls_py_walk(&pp, fake_read, NULL, FS, &st);
	assert_int_equal(st.status, LT_PY_READ_FAILED);
	assert_int_equal(st.n, 2);
}

/* Field offsets past what is read give 0, not bytes beyond the frame. */
static void test_offsets_bounded(void **state)
{
	struct lt_py_proc bad = pp;
	struct lt_py_stack st;

	(void)state;
	bad.frame_code = 200;
	ls_py_walk(&bad, fake_read, NULL, FS, &st);
	assert_int_equal(st.status, LT_PY_OK);
	assert_int_equal(st.frames[0].code, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_chain, setup),
	    cmocka_unit_test_setup(test_unknown_thread, setup),
	    cmocka_unit_test_setup(test_cycle, setup),
	    cmocka_unit_test_setup(test_thread_list_cycle, setup),
	    cmocka_unit_test_setup(test_read_fails, setup),
	    cmocka_unit_test_setup(test_offsets_bounded, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
