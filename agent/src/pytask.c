// SPDX-License-Identifier: BSD-2-Clause
/*
 * asyncio's running Tasks read from another process. The TaskObj offsets
 * come from gdb `ptype /o TaskObj` on the pyenv builds' _asyncio modules
 * (3.10.13, 3.11.7, 3.12.1, 3.13.0: the struct of Modules/_asynciomodule.c,
 * FutureObj's fields first), the others from their libpython. Nothing read
 * is trusted: a Task counts only when its type is named "_asyncio.Task", and
 * the caller names a stack's Task only when the Task's coroutine frame is
 * the very frame the stack runs, so a wrong offset yields no name.
 */
#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "pytask.h"

/*
 * A row per version, as the fields of struct ls_py_task_layout: minor,
 * interp_modules, coro_frame, task_coro, task_name, state_task_type.
 */
/* clang-format off */
static const struct ls_py_task_layout task_layouts[] = {
    {10,  856, 16, 160, 168, LS_PY_NO_FIELD},
    {11,  888, 80, 136, 144, LS_PY_NO_FIELD},
    {12,  944, 72, 136, 144, 24},
    {13, 7656, 72, 120, 128, 24},
};
/* clang-format on */

/* The same in every version: PyObject, PyDictObject, PyModuleObject, PyTypeObject. */
#define OB_TYPE 8
#define DICT_MA_KEYS 32
#define DICT_MA_VALUES 40
#define DICT_HEAD 48
#define MODULE_MD_DICT 16
#define MODULE_MD_STATE 32
#define TYPE_TP_NAME 24
#define TYPE_TP_BASE 256
/* classes between a Task subclass and _asyncio.Task, at most */
#define MAX_BASES 8
#define LONG_DIGITS 24

_Static_assert(offsetof(struct ls_py_task_layout, minor) == 0, "ls_py_by_minor reads minor first");

const struct ls_py_task_layout *ls_py_task_layout(int minor)
{
	return ls_py_by_minor(task_layouts, sizeof(task_layouts) / sizeof(task_layouts[0]),
			      sizeof(task_layouts[0]), minor);
}

static int read_ptr(ls_py_read_fn read, void *ctx, uint64_t addr, uint64_t *out)
{
	uint8_t b[8];

	if (!addr || addr % 8 || read(ctx, addr, b, sizeof(b)))
		return -EINVAL;
	*out = ls_py_get64(b);
	return 0;
}

/* Called per live entry; a non-zero return ends the walk with that value. */
typedef int (*dict_fn)(void *arg, uint64_t key, uint64_t value);

/*
 * Every entry of a combined-table dict, in insertion order. 3.10's keys
 * object has its table size at +8 and the indices at +40; 3.11+ has
 * log2 sizes at +8/+9, a kind at +10 (general entries carry the hash,
 * unicode ones do not) and the indices at +32.
 */
static int dict_each(int minor, uint64_t dict_type, ls_py_read_fn read, void *ctx, uint64_t dict,
		     dict_fn fn, void *arg)
{
	uint8_t head[DICT_HEAD], keys[40], chunk[24 * 64];
	uint64_t entries, size, nentries, ksz, i;
	size_t esz, n, j;
	int ret;

	if (!dict || dict % 8 || read(ctx, dict, head, sizeof(head)) ||
	    ls_py_get64(head + OB_TYPE) != dict_type || ls_py_get64(head + DICT_MA_VALUES))
		return -EINVAL; /* split tables hold instance attributes, never these */
	ksz = ls_py_get64(head + DICT_MA_KEYS);
	if (!ksz || ksz % 8 || read(ctx, ksz, keys, sizeof(keys)))
		return -EINVAL;
	if (minor == 10) {
		size = ls_py_get64(keys + 8);
		nentries = ls_py_get64(keys + 32);
		if (size < 8 || size > (1ull << 30) || (size & (size - 1)))
			return -EINVAL;
		entries = ksz + 40 + size * (size <= 0xff ? 1 : size <= 0xffff ? 2 : 4);
		esz = 24;
	} else {
		if (keys[8] < 3 || keys[8] > 30 || keys[9] > 33 || keys[10] > 2)
			return -EINVAL;
		size = 1ull << keys[8];
		nentries = ls_py_get64(keys + 24);
		entries = ksz + 32 + (1ull << keys[9]);
		esz = keys[10] == 0 ? 24 : 16;
	}
	/* entries fill at most 2/3 of the table: more is no dict */
	if (nentries > size)
		return -EINVAL;
	if (nentries > LS_PY_DICT_MAX)
		nentries = LS_PY_DICT_MAX;
	for (i = 0; i < nentries; i += n) {
		n = nentries - i < sizeof(chunk) / esz ? (size_t)(nentries - i)
						       : sizeof(chunk) / esz;
		if (read(ctx, entries + i * esz, chunk, n * esz))
			return -EINVAL;
		for (j = 0; j < n; j++) {
			const uint8_t *e = chunk + j * esz + (esz == 24 ? 8 : 0);
			uint64_t key = ls_py_get64(e), value = ls_py_get64(e + 8);

			/* a deleted entry keeps no value (3.11+) or a dummy key */
			if (!key || !value)
				continue;
			ret = fn(arg, key, value);
			if (ret)
				return ret;
		}
	}
	return 0;
}

struct find_key {
	const struct ls_py_layout *l;
	const struct ls_py_types *types;
	ls_py_read_fn read;
	void *ctx;
	const char *key;
	uint64_t value;
};

static bool is_str(const struct find_key *f, uint64_t obj)
{
	uint64_t type;

	return !read_ptr(f->read, f->ctx, obj + OB_TYPE, &type) && type == f->types->str;
}

static int find_key_fn(void *arg, uint64_t key, uint64_t value)
{
	struct find_key *f = arg;
	char s[32];

	if (!is_str(f, key) || ls_py_str(f->l, f->read, f->ctx, key, s, sizeof(s)) ||
	    strcmp(s, f->key))
		return 0;
	f->value = value;
	return 1;
}

/* The value of a str key in the dict at dict: 0 or -ENOENT, -EINVAL. */
static int dict_get(struct find_key *f, uint64_t dict)
{
	int ret = dict_each(f->l->minor, f->types->dict, f->read, f->ctx, dict, find_key_fn, f);

	if (ret < 0)
		return ret;
	return ret ? 0 : -ENOENT;
}

int ls_py_current_tasks_dict(const struct ls_py_layout *l, const struct ls_py_task_layout *tl,
			     const struct ls_py_types *types, ls_py_read_fn read, void *ctx,
			     uint64_t interp, uint64_t *out, uint64_t *task_type)
{
	struct find_key f = {.l = l, .types = types, .read = read, .ctx = ctx};
	uint64_t modules, md_dict, type, state = 0, tt = 0;
	int err;

	if (!types->dict || !types->str || !interp ||
	    read_ptr(read, ctx, interp + tl->interp_modules, &modules))
		return -EINVAL;
	f.key = "_asyncio";
	err = dict_get(&f, modules);
	if (err)
		return err;
	if (read_ptr(read, ctx, f.value + OB_TYPE, &type) ||
	    (types->module && type != types->module) ||
	    read_ptr(read, ctx, f.value + MODULE_MD_DICT, &md_dict))
		return -EINVAL;
	/* 3.12+ makes the Task type per module (heap type, tp_name "Task"): its state says which */
	if (tl->state_task_type != LS_PY_NO_FIELD &&
	    (read_ptr(read, ctx, f.value + MODULE_MD_STATE, &state) ||
	     read_ptr(read, ctx, state + tl->state_task_type, &tt) || !tt || tt % 8))
		return -EINVAL;
	f.key = "_current_tasks";
	err = dict_get(&f, md_dict);
	if (err)
		return err == -ENOENT ? -EINVAL : err;
	if (read_ptr(read, ctx, f.value + OB_TYPE, &type) || type != types->dict)
		return -EINVAL;
	*out = f.value;
	*task_type = tt;
	return 0;
}

struct collect {
	const struct ls_py_layout *l;
	const struct ls_py_task_layout *tl;
	const struct ls_py_types *types;
	ls_py_read_fn read;
	void *ctx;
	uint64_t *task_type;
	struct ls_py_task *out;
	unsigned n, max;
};

/* Is type _asyncio's C Task? 3.10 and 3.11 have one, static, of that name. */
static bool is_task_type(struct collect *c, uint64_t type)
{
	static const char want[] = "_asyncio.Task";
	char name[sizeof(want)];
	uint64_t tp_name;

	if (*c->task_type)
		return type == *c->task_type;
	if (read_ptr(c->read, c->ctx, type + TYPE_TP_NAME, &tp_name) || !tp_name ||
	    c->read(c->ctx, tp_name, name, sizeof(name)) || memcmp(name, want, sizeof(want)))
		return false;
	*c->task_type = type;
	return true;
}

/*
 * Is an object of this type a C Task, its subclasses included (they keep
 * TaskObj's layout)? The pure-Python Task derives from no C Task.
 */
static bool c_task(struct collect *c, uint64_t type)
{
	unsigned depth;

	for (depth = 0; type && depth < MAX_BASES; depth++) {
		if (is_task_type(c, type))
			return true;
		if (read_ptr(c->read, c->ctx, type + TYPE_TP_BASE, &type))
			return false;
	}
	return false;
}

/*
 * 3.12+ names a Task "Task-N" when asked, from the int it keeps: a small
 * positive int of 30-bit digits, its digit count in the tag's bits 3 and up.
 */
static int task_number(struct collect *c, uint64_t obj, char *out, size_t len)
{
	uint8_t b[LONG_DIGITS + 8];
	uint64_t tag = 0, ndigits, v;
	uint32_t d0, d1;

	if (c->read(c->ctx, obj, b, sizeof(b)))
		return -EINVAL;
	tag = ls_py_get64(b + 16);
	ndigits = tag >> 3;
	/* sign bits: 0 positive, 1 zero, 2 negative; counters start at 1 */
	if ((tag & 3) != 0 || ndigits < 1 || ndigits > 2)
		return -EINVAL;
	memcpy(&d0, b + LONG_DIGITS, 4);
	memcpy(&d1, b + LONG_DIGITS + 4, 4);
	if (d0 >> 30 || (ndigits == 2 && d1 >> 30))
		return -EINVAL;
	v = d0 | (ndigits == 2 ? (uint64_t)d1 << 30 : 0);
	snprintf(out, len, "Task-%llu", (unsigned long long)v);
	return 0;
}

static int collect_fn(void *arg, uint64_t loop, uint64_t task)
{
	struct collect *c = arg;
	uint8_t head[176];
	uint64_t type, coro, name, name_type, frame;
	struct ls_py_task *t;
	size_t len = (size_t)c->tl->task_name + 8;

	(void)loop;
	if (c->n >= c->max)
		return 1;
	if (len > sizeof(head) || task % 8 || c->read(c->ctx, task, head, len))
		return 0;
	type = ls_py_get64(head + OB_TYPE);
	coro = ls_py_get64(head + c->tl->task_coro);
	name = ls_py_get64(head + c->tl->task_name);
	if (!c_task(c, type) || !coro || coro % 8 || !name ||
	    read_ptr(c->read, c->ctx, name + OB_TYPE, &name_type))
		return 0;
	if (c->l->minor == 10) {
		if (read_ptr(c->read, c->ctx, coro + c->tl->coro_frame, &frame) || !frame)
			return 0;
	} else {
		frame = coro + c->tl->coro_frame;
	}
	t = &c->out[c->n];
	if (name_type == c->types->str) {
		if (ls_py_str(c->l, c->read, c->ctx, name, t->name, sizeof(t->name)))
			return 0;
	} else if (c->l->minor >= 12 && c->types->integer && name_type == c->types->integer) {
		if (task_number(c, name, t->name, sizeof(t->name)))
			return 0;
	} else {
		return 0;
	}
	if (!t->name[0])
		return 0;
	t->frame = frame;
	c->n++;
	return 0;
}

int ls_py_current_tasks(const struct ls_py_layout *l, const struct ls_py_task_layout *tl,
			const struct ls_py_types *types, ls_py_read_fn read, void *ctx,
			uint64_t addr, uint64_t *task_type, struct ls_py_task *out, unsigned max)
{
	struct collect c = {.l = l,
			    .tl = tl,
			    .types = types,
			    .read = read,
			    .ctx = ctx,
			    .task_type = task_type,
			    .out = out,
			    .max = max};
	int err;

	if (!types->dict || !types->str)
		return -EINVAL;
	err = dict_each(l->minor, types->dict, read, ctx, addr, collect_fn, &c);
	if (err < 0)
		return err;
	return (int)c.n;
}
