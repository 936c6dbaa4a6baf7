// SPDX-License-Identifier: BSD-2-Clause
/*
 * CPython objects read from a traced process (pycode.c): the process owns
 * that memory, so it may hold anything. The input is a header and a memory
 * image mapped at BASE: a code object is read from it (name, file, line
 * table, with pointers anywhere, sizes of any value), the line of an
 * instruction is decoded, the image is read as a line table itself and as
 * 3.13's _Py_DebugOffsets. Nothing may be read outside the image, every
 * string must end inside its buffer, a line is unknown (-1) or positive.
 *
 * Header (14 bytes): minor selector, code address (8, offset into the
 * image), lasti (4), flags (bit 0: require a code type of BASE).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pycode.h"

#define BASE 0x100000ull
#define HDR 14

struct image {
	const uint8_t *data;
	size_t size;
};

static int read_image(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct image *m = ctx;

	if (addr < BASE || addr - BASE > m->size || m->size - (addr - BASE) < len)
		return -1;
	memcpy(buf, m->data + (addr - BASE), len);
	return 0;
}

static void check_line(int line)
{
	if (line != -1 && line <= 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ls_py_layout layout;
	const struct ls_py_layout *l;
	struct image m;
	struct ls_py_code c;
	uint64_t addr;
	uint32_t lasti;
	int minor;

	if (size < HDR)
		return 0;
	minor = 10 + data[0] % 4;
	l = ls_py_layout(minor);
	if (!l)
		abort();
	memcpy(&addr, data + 1, 8);
	memcpy(&lasti, data + 9, 4);
	m.data = data + HDR;
	m.size = size - HDR;
	addr = BASE + (addr % (m.size + 16));
	if (!ls_py_code_read(l, read_image, &m, addr, (data[13] & 1) ? BASE : 0, &c)) {
		if (strnlen(c.name, sizeof(c.name)) == sizeof(c.name) ||
		    strnlen(c.file, sizeof(c.file)) == sizeof(c.file))
			abort();
		if (c.linetable_len > LS_PY_MAX_LINETABLE || (!c.linetable && c.linetable_len))
			abort();
		check_line(
		    ls_py_line(minor, c.linetable, c.linetable_len, c.id.firstlineno, lasti));
		check_line(ls_py_line(minor, c.linetable, c.linetable_len, c.id.firstlineno,
				      LT_PY_NO_LASTI));
		ls_py_code_free(&c);
	}
	/* the image as a line table of either format */
	check_line(ls_py_line(10, m.data, m.size, (int)lasti, lasti % 4096));
	check_line(ls_py_line(11, m.data, m.size, (int)(lasti >> 8), lasti % 4096));
	layout = *ls_py_layout(13);
	if (!ls_py_apply_debug_offsets(&layout, m.data, m.size)) {
		/* what BPF reads of a frame must hold every frame field */
		if (layout.walk.frame_back + 8 > layout.walk.frame_read ||
		    layout.walk.frame_code + 8 > layout.walk.frame_read ||
		    layout.walk.frame_instr + 8 > layout.walk.frame_read ||
		    layout.walk.frame_owner + 1 > layout.walk.frame_read ||
		    layout.co_linetable + 8 > LS_PY_CODE_HEAD)
			abort();
	}
	return 0;
}
