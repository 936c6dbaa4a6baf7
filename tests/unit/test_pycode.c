// SPDX-License-Identifier: BSD-2-Clause
/*
 * Reading CPython's objects from another process (pycode.c) and placing
 * Python frames in a native stack (pyframes.c): line tables against the
 * lines real interpreters give (pycode_vectors.h), strings of each width,
 * code objects in a synthetic memory image (with hostile sizes and
 * pointers), 3.13's self-description, and the interleaving.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "pycode.h"
#include "pyframes.h"
#include "pycode_vectors.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (hex[0] && hex[1] && n < cap && sscanf(hex, "%2x", &v) == 1) {
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

/* Every instruction of a real function, each version: the line CPython gives. */
static void test_line_tables_match_cpython(void **state)
{
	uint8_t table[4096];
	size_t i, len;
	unsigned k;

	(void)state;
	for (i = 0; i < sizeof(pycode_vectors) / sizeof(pycode_vectors[0]); i++) {
		const struct pycode_vector *v = &pycode_vectors[i];

		len = unhex(v->table_hex, table, sizeof(table));
		for (k = 0; k < v->n; k++) {
			int got = ls_py_line(v->minor, table, len, v->first, k);

			if (got != v->lines[k])
				fail_msg("3.%d instruction %u: line %d, CPython says %d", v->minor,
					 k, got, v->lines[k]);
		}
		/* past the end of the code: unknown, not the last line */
		assert_int_equal(ls_py_line(v->minor, table, len, v->first, v->n + 100), -1);
		/* a frame not started yet (3.10's f_lasti -1): the definition's line */
		assert_int_equal(ls_py_line(v->minor, table, len, v->first, LT_PY_NO_LASTI),
				 v->first);
	}
}

static void test_line_tables_hostile(void **state)
{
	/* 3.11+: a byte without the entry bit where an entry starts */
	const uint8_t bad_start[] = {0x05, 0x80};
	/* a long-form entry whose varint never ends */
	const uint8_t endless[] = {0xf0, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f};
	/* no-column entries adding a huge line delta again and again */
	uint8_t huge[64];
	size_t i;

	(void)state;
	assert_int_equal(ls_py_line(11, bad_start, sizeof(bad_start), 1, 0), -1);
	assert_int_equal(ls_py_line(11, endless, sizeof(endless), 1, 0), -1);
	for (i = 0; i + 5 < sizeof(huge); i += 6) {
		huge[i] = 0xe8; /* code 13, 1 unit */
		memcpy(huge + i + 1, "\x7e\x7f\x7f\x7f\x0f", 5);
	}
	assert_int_equal(ls_py_line(12, huge, sizeof(huge), 1, 9), -1);
	assert_int_equal(ls_py_line(12, NULL, 0, 1, 0), -1);
	/* 3.10: an odd trailing byte is ignored; a line going below 1 is unknown */
	assert_int_equal(ls_py_line(10, (const uint8_t *)"\x04\x01\x02", 3, 5, 1), 6);
	assert_int_equal(ls_py_line(10, (const uint8_t *)"\x04\x80", 2, 5, 0), -1);
	assert_int_equal(ls_py_line(10, (const uint8_t *)"\x04\x9c", 2, 5, 0), -1);
}

/* A synthetic address space: one block at BASE. */
#define BASE 0x10000ull
static uint8_t mem[8192];

static int read_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	if (addr < BASE || addr - BASE > sizeof(mem) || sizeof(mem) - (addr - BASE) < len)
		return -EFAULT;
	memcpy(buf, mem + (addr - BASE), len);
	return 0;
}

static void put64(uint64_t addr, uint64_t v)
{
	memcpy(mem + (addr - BASE), &v, 8);
}

static void put32(uint64_t addr, uint32_t v)
{
	memcpy(mem + (addr - BASE), &v, 4);
}

/* A compact str at addr: kind 1, 2 or 4; ascii only for kind 1. */
static void put_str(const struct ls_py_layout *l, uint64_t addr, const void *chars, uint64_t n,
		    unsigned kind, bool ascii)
{
	uint32_t state = (kind << 2) | (1u << 5) | (ascii ? 1u << 6 : 0);
	uint64_t data = addr + (ascii ? l->unicode_ascii_size : l->unicode_compact_size);

	put64(addr + 16, n);
	put32(addr + l->unicode_state, state);
	memcpy(mem + (data - BASE), chars, n * kind);
}

static void test_strings(void **state)
{
	const struct ls_py_layout *l = ls_py_layout(12);
	const uint16_t ucs2[] = {'f', 0xe9, 0x4e2d};
	const uint32_t ucs4[] = {'x', 0x1f600, 0x110000, 7};
	char out[32];

	(void)state;
	memset(mem, 0, sizeof(mem));
	put_str(l, BASE, "fetch_user", 10, 1, true);
	assert_int_equal(ls_py_str(l, read_mem, NULL, BASE, out, sizeof(out)), 0);
	assert_string_equal(out, "fetch_user");
	put_str(l, BASE + 256, "caf\xe9", 4, 1, false);
	assert_int_equal(ls_py_str(l, read_mem, NULL, BASE + 256, out, sizeof(out)), 0);
	assert_string_equal(out, "caf\xc3\xa9");
	put_str(l, BASE + 512, ucs2, 3, 2, false);
	assert_int_equal(ls_py_str(l, read_mem, NULL, BASE + 512, out, sizeof(out)), 0);
	assert_string_equal(out, "f\xc3\xa9\xe4\xb8\xad");
	/* beyond Unicode and control characters: '?' */
	put_str(l, BASE + 768, ucs4, 4, 4, false);
	assert_int_equal(ls_py_str(l, read_mem, NULL, BASE + 768, out, sizeof(out)), 0);
	assert_string_equal(out, "x\xf0\x9f\x98\x80??");
	/* cut at a character boundary when the output is short */
	assert_int_equal(ls_py_str(l, read_mem, NULL, BASE + 512, out, 5), 0);
	assert_string_equal(out, "f\xc3\xa9");
	/* a length of 2^60 reads no more than fits the output */
	put64(BASE + 16, 1ull << 60);
	assert_int_equal(ls_py_str(l, read_mem, NULL, BASE, out, sizeof(out)), 0);
	assert_int_equal(strlen(out), sizeof(out) - 1);
	/* not compact, a bad kind, an unaligned or unmapped address */
	put32(BASE + l->unicode_state, 1u << 2);
	assert_int_equal(ls_py_str(l, read_mem, NULL, BASE, out, sizeof(out)), -EINVAL);
	put32(BASE + l->unicode_state, (3u << 2) | (1u << 5));
	assert_int_equal(ls_py_str(l, read_mem, NULL, BASE, out, sizeof(out)), -EINVAL);
	assert_int_equal(ls_py_str(l, read_mem, NULL, BASE + 4, out, sizeof(out)), -EINVAL);
	assert_int_equal(ls_py_str(l, read_mem, NULL, 8, out, sizeof(out)), -EINVAL);
	assert_string_equal(out, "");
}

#define CODE_TYPE 0xc0de0000ull

/* A 3.11 code object at BASE + 1024 named `qual`, in file `file`, with a line table. */
static uint64_t put_code(const struct ls_py_layout *l, const uint8_t *table, uint64_t table_len)
{
	uint64_t code = BASE + 1024, name = BASE, file = BASE + 256, bytes = BASE + 2048;

	memset(mem, 0, sizeof(mem));
	put_str(l, name, "Handler.fetch_user", 18, 1, true);
	put_str(l, file, "/srv/app.py", 11, 1, true);
	put64(code + 8, CODE_TYPE);
	if (l->co_qualname != LS_PY_NO_FIELD)
		put64(code + l->co_qualname, name);
	put64(code + l->co_name, file); /* not what names the frame in 3.11+ */
	put64(code + l->co_filename, file);
	put64(code + l->co_linetable, bytes);
	put32(code + l->co_firstlineno, 40);
	put64(bytes + 16, table_len);
	memcpy(mem + (bytes + 32 - BASE), table, table_len < 64 ? table_len : 64);
	return code;
}

static void test_code_objects(void **state)
{
	const struct ls_py_layout *l = ls_py_layout(11);
	/* three units on line 41 (code 13, delta +1), two on line 43 (code 12) */
	const uint8_t table[] = {0xea, 0x02, 0xe1, 0x02, 0x00, 0x00};
	struct ls_py_code c;
	uint64_t code = put_code(l, table, sizeof(table));

	(void)state;
	assert_int_equal(ls_py_code_read(l, read_mem, NULL, code, CODE_TYPE, &c), 0);
	assert_string_equal(c.name, "Handler.fetch_user");
	assert_string_equal(c.file, "/srv/app.py");
	assert_int_equal(c.id.firstlineno, 40);
	assert_int_equal(ls_py_line(11, c.linetable, c.linetable_len, 40, 2), 41);
	assert_int_equal(ls_py_line(11, c.linetable, c.linetable_len, 40, 3), 43);
	ls_py_code_free(&c);
	/* another type at that address: not a code object (any longer) */
	assert_int_equal(ls_py_code_read(l, read_mem, NULL, code, CODE_TYPE + 8, &c), -EINVAL);
	/* a line table claiming 2^62 bytes is read up to the cap, or not at all */
	put64(BASE + 2048 + 16, 1ull << 62);
	assert_int_equal(ls_py_code_read(l, read_mem, NULL, code, CODE_TYPE, &c), 0);
	assert_null(c.linetable);
	assert_string_equal(c.name, "Handler.fetch_user");
	ls_py_code_free(&c);
	/* name and file pointing nowhere: empty, and the object still reads */
	put64(code + l->co_qualname, 0xdead0000);
	put64(code + l->co_filename, code); /* itself: no str */
	assert_int_equal(ls_py_code_read(l, read_mem, NULL, code, CODE_TYPE, &c), 0);
	assert_string_equal(c.name, "");
	assert_string_equal(c.file, "");
	ls_py_code_free(&c);
	/* unmapped, unaligned */
	assert_int_equal(ls_py_code_read(l, read_mem, NULL, 0x40, 0, &c), -EINVAL);
	assert_int_equal(ls_py_code_read(l, read_mem, NULL, code + 1, 0, &c), -EINVAL);
	/* the 3.10 layout has no qualified name: co_name names the frame */
	l = ls_py_layout(10);
	code = put_code(l, table, sizeof(table));
	assert_int_equal(ls_py_code_read(l, read_mem, NULL, code, 0, &c), 0);
	assert_string_equal(c.name, "/srv/app.py");
	ls_py_code_free(&c);
	assert_null(ls_py_layout(9));
	assert_null(ls_py_layout(14));
}

static void test_debug_offsets(void **state)
{
	struct ls_py_layout l = *ls_py_layout(13);
	uint8_t hdr[512] = "xdebugpy";
	uint64_t version = 0x030d00f0, v;

	(void)state;
	memcpy(hdr + 8, &version, 8);
	/* the values 3.13.0 writes there, where the table has them too */
	v = 632, memcpy(hdr + 40, &v, 8);
	v = 7264, memcpy(hdr + 64, &v, 8);
	v = 7344, memcpy(hdr + 72, &v, 8);
	v = 8, memcpy(hdr + 168, &v, 8);
	v = 72, memcpy(hdr + 184, &v, 8);
	v = 152, memcpy(hdr + 192, &v, 8);
	v = 8, memcpy(hdr + 232, &v, 8);
	v = 0, memcpy(hdr + 240, &v, 8);
	v = 56, memcpy(hdr + 248, &v, 8);
	v = 70, memcpy(hdr + 264, &v, 8);
	v = 112, memcpy(hdr + 280, &v, 8);
	v = 120, memcpy(hdr + 288, &v, 8);
	v = 128, memcpy(hdr + 296, &v, 8);
	v = 136, memcpy(hdr + 304, &v, 8);
	v = 68, memcpy(hdr + 312, &v, 8);
	v = 200, memcpy(hdr + 344, &v, 8);
	assert_int_equal(ls_py_apply_debug_offsets(&l, hdr, sizeof(hdr)), 0);
	assert_memory_equal(&l, ls_py_layout(13), sizeof(l));
	/* a build that moved current_frame: its own word wins */
	v = 80, memcpy(hdr + 184, &v, 8);
	assert_int_equal(ls_py_apply_debug_offsets(&l, hdr, sizeof(hdr)), 0);
	assert_int_equal(l.walk.tstate_frame, 80);
	/* a free-threaded build (3.13t): its objects differ */
	v = 1, memcpy(hdr + 16, &v, 8);
	assert_int_equal(ls_py_apply_debug_offsets(&l, hdr, sizeof(hdr)), -EINVAL);
	v = 0, memcpy(hdr + 16, &v, 8);
	/* a frame field BPF would not read, another version, no cookie: unchanged */
	v = 200, memcpy(hdr + 232, &v, 8);
	assert_int_equal(ls_py_apply_debug_offsets(&l, hdr, sizeof(hdr)), -EINVAL);
	assert_int_equal(l.walk.frame_back, 8);
	v = 8, memcpy(hdr + 232, &v, 8);
	version = 0x030c00f0;
	memcpy(hdr + 8, &version, 8);
	assert_int_equal(ls_py_apply_debug_offsets(&l, hdr, sizeof(hdr)), -EINVAL);
	hdr[0] = 'y';
	assert_int_equal(ls_py_apply_debug_offsets(&l, hdr, sizeof(hdr)), -EINVAL);
	assert_int_equal(ls_py_apply_debug_offsets(&l, hdr, 100), -EINVAL);
}

static struct ls_frame nat(const char *symbol, uint64_t addr, bool inlined)
{
	struct ls_frame f = {.addr = addr, .symbol = symbol, .inlined = inlined};

	return f;
}

static struct ls_frame pyf(const char *symbol)
{
	struct ls_frame f = {.symbol = symbol, .kind = LS_FRAME_PYTHON};

	return f;
}

/* Each eval call takes the run of frames up to its entry frame, before its inlined frames. */
static void test_interleave(void **state)
{
	const struct ls_frame native[] = {
	    nat("clock_nanosleep", 1, true), nat("time_sleep", 2, false),
	    nat("call_function", 3, true),   nat("_PyEval_EvalFrameDefault", 3, false),
	    nat("gen_send_ex2", 4, false),   nat("_PyEval_EvalFrameDefault.cold", 5, false),
	    nat("main", 6, false),
	};
	const struct ls_frame py[] = {pyf("fetch_user"), pyf("handler"), pyf("_run_once"),
				      pyf("run"), pyf("<module>")};
	const bool entry[] = {false, true, true, false, false};
	const char *want[] = {"clock_nanosleep",
			      "time_sleep",
			      "fetch_user",
			      "handler",
			      "call_function",
			      "_PyEval_EvalFrameDefault",
			      "gen_send_ex2",
			      "_run_once",
			      "_PyEval_EvalFrameDefault.cold",
			      "main",
			      "run",
			      "<module>"};
	struct ls_frame *out;
	unsigned n, i;

	(void)state;
	out = ls_pyframes_interleave(native, 7, py, entry, 5, &n);
	assert_non_null(out);
	assert_int_equal(n, 12);
	for (i = 0; i < n; i++)
		assert_string_equal(out[i].symbol, want[i]);
	assert_int_equal(out[2].kind, LS_FRAME_PYTHON);
	assert_int_equal(out[5].kind, LS_FRAME_NATIVE);
	free(out);
	/* no native stack at all (unwinding failed): the Python frames alone */
	out = ls_pyframes_interleave(NULL, 0, py, entry, 5, &n);
	assert_int_equal(n, 5);
	assert_string_equal(out[0].symbol, "fetch_user");
	assert_string_equal(out[4].symbol, "<module>");
	free(out);
	/* more eval calls than runs: the rest take nothing */
	out = ls_pyframes_interleave(native, 7, py, entry, 1, &n);
	assert_int_equal(n, 8);
	assert_string_equal(out[2].symbol, "fetch_user");
	assert_string_equal(out[3].symbol, "call_function");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_line_tables_match_cpython),
	    cmocka_unit_test(test_line_tables_hostile),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_code_objects),
	    cmocka_unit_test(test_debug_offsets),
	    cmocka_unit_test(test_interleave),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
