// SPDX-License-Identifier: BSD-2-Clause
/*
 * asyncio's running Tasks read from a traced process (pytask.c): the
 * process owns that memory, so it may hold anything. The input is a header
 * and a memory image mapped at BASE: sys.modules is followed from an
 * interpreter state to `_asyncio._current_tasks`, and a current-tasks dict
 * is read, with pointers anywhere, sizes of any value and dicts of any
 * shape. Nothing may be read outside the image, the number of reads is
 * bounded, every name ends inside its buffer and is not empty.
 *
 * Header (26 bytes): minor selector, interpreter state and dict addresses
 * (8 each, offsets into the image), flags (bit 0: PyModule_Type known),
 * the frame the seed's Task runs (8, for tests/unit/test_pytask.c).
 * The interpreter's types are at fixed addresses in the image.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pytask.h"

#define BASE 0x100000ull
#define HDR 26
/* per dict entry at most a key's type and its str (head, then data) */
#define MAX_READS (4 * (3 * LS_PY_DICT_MAX + 64))

struct image {
	const uint8_t *data;
	size_t size;
	unsigned reads;
};

static int read_image(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct image *m = ctx;

	if (++m->reads > MAX_READS)
		abort();
	if (addr < BASE || addr - BASE > m->size || m->size - (addr - BASE) < len)
		return -1;
	memcpy(buf, m->data + (addr - BASE), len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ls_py_task_layout *tl;
	struct ls_py_task tasks[LS_PY_TASKS_MAX];
	struct ls_py_types types = {BASE + 8, BASE + 16, BASE + 24, 0};
	const struct ls_py_layout *l;
	uint64_t interp, dict, found = 0, task_type = 0;
	struct image m;
	int n, i;

	if (size < HDR)
		return 0;
	l = ls_py_layout(10 + data[0] % 4);
	tl = ls_py_task_layout(10 + data[0] % 4);
	if (!l || !tl)
		abort();
	memcpy(&interp, data + 1, 8);
	memcpy(&dict, data + 9, 8);
	if (data[17] & 1)
		types.module = BASE + 32;
	m.data = data + HDR;
	m.size = size - HDR;
	m.reads = 0;
	interp = BASE + (interp % (m.size + 16));
	dict = BASE + (dict % (m.size + 16));
	if (!ls_py_current_tasks_dict(l, tl, &types, read_image, &m, interp, &found, &task_type))
		dict = found;
	m.reads = 0;
	n = ls_py_current_tasks(l, tl, &types, read_image, &m, dict, &task_type, tasks,
				LS_PY_TASKS_MAX);
	if (n > LS_PY_TASKS_MAX)
		abort();
	for (i = 0; i < n; i++)
		if (!tasks[i].name[0] ||
		    strnlen(tasks[i].name, sizeof(tasks[i].name)) == sizeof(tasks[i].name))
			abort();
	return 0;
}
