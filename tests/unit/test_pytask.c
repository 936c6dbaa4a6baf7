// SPDX-License-Identifier: BSD-2-Clause
/*
 * asyncio's running Tasks read from another process (pytask.c), on the
 * memory images of tests/fuzz/corpus/pytask (written by tests/fuzz/seeds.py
 * with each version's layout): the Task's name and its coroutine's frame
 * are found through sys.modules (subclasses of the C Task too), and images
 * that are not what they claim (a Task of another type, split or hostile
 * dicts, a sys.modules of another type) name no Task.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "pytask.h"

#define BASE 0x100000ull
#define HDR 26

struct image {
	uint8_t data[65536];
	size_t size;
	int minor;
	uint64_t interp, dict, frame;
	struct ls_py_types types;
};

static int read_image(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct image *m = ctx;

	if (addr < BASE || addr - BASE > m->size || m->size - (addr - BASE) < len)
		return -EFAULT;
	memcpy(buf, m->data + (addr - BASE), len);
	return 0;
}

static void load(struct image *m, const char *name)
{
	uint8_t hdr[HDR];
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", LS_PYTASK_CORPUS, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(hdr, 1, HDR, f), HDR);
	m->size = fread(m->data, 1, sizeof(m->data), f);
	fclose(f);
	m->minor = 10 + hdr[0];
	memcpy(&m->interp, hdr + 1, 8);
	memcpy(&m->dict, hdr + 9, 8);
	memcpy(&m->frame, hdr + 18, 8);
	m->interp += BASE;
	m->dict += BASE;
	m->types =
	    (struct ls_py_types){BASE + 8, BASE + 16, BASE + 24, (hdr[17] & 1) ? BASE + 32 : 0};
}

/* What the agent does: the dict from sys.modules, then its Tasks. n Tasks or -errno. */
static int read_tasks(struct image *m, int *lookup, struct ls_py_task *tasks)
{
	const struct ls_py_layout *l = ls_py_layout(m->minor);
	const struct ls_py_task_layout *tl = ls_py_task_layout(m->minor);
	uint64_t dict = 0, task_type = 0;

	assert_non_null(l);
	assert_non_null(tl);
	*lookup =
	    ls_py_current_tasks_dict(l, tl, &m->types, read_image, m, m->interp, &dict, &task_type);
	if (*lookup)
		return *lookup;
	assert_true(dict == m->dict);
	/* 3.12+ takes the Task type from the module; 3.10 and 3.11 by its name */
	assert_true(m->minor >= 12 ? task_type != 0 : task_type == 0);
	return ls_py_current_tasks(l, tl, &m->types, read_image, m, dict, &task_type, tasks,
				   LS_PY_TASKS_MAX);
}

static void expect_task(const char *file, const char *name)
{
	static struct image m;
	struct ls_py_task tasks[LS_PY_TASKS_MAX];
	int lookup;

	load(&m, file);
	assert_int_equal(read_tasks(&m, &lookup, tasks), 1);
	assert_string_equal(tasks[0].name, name);
	assert_true(tasks[0].frame == m.frame);
}

static void expect_none(const char *file, int lookup_err, int n)
{
	static struct image m;
	struct ls_py_task tasks[LS_PY_TASKS_MAX];
	int lookup;

	load(&m, file);
	assert_int_equal(read_tasks(&m, &lookup, tasks), n);
	assert_int_equal(lookup, lookup_err);
}

static void test_named_each_version(void **state)
{
	(void)state;
	expect_task("named_310", "fetch-7");
	expect_task("named_311", "fetch-7");
	expect_task("named_312", "fetch-7");
	expect_task("named_313", "fetch-7");
	/* sys.modules found without PyModule_Type (a stripped build may lack it) */
	expect_task("no_module_type_310", "fetch-7");
}

static void test_default_name_from_int(void **state)
{
	(void)state;
	/* 3.12+ keep N and format "Task-N" when asked */
	expect_task("number_312", "Task-7");
	expect_task("number_313", "Task-7");
}

static void test_wide_name_as_utf8(void **state)
{
	(void)state;
	expect_task("unicode_name_311", "r\xc3\xa9q-\xe4\xb8\x80");
}

static void test_not_a_c_task(void **state)
{
	(void)state;
	/* a type of another name, not derived from it (the pure-Python Task): no name */
	expect_none("other_type_311", 0, 0);
}

static void test_subclass(void **state)
{
	(void)state;
	/* class MyTask(asyncio.Task): the C Task's layout, named */
	expect_task("subclass_311", "fetch-7");
	expect_task("subclass_313", "fetch-7");
}

static void test_hostile_dicts(void **state)
{
	(void)state;
	expect_none("split_312", -EINVAL, -EINVAL);
	expect_none("huge_nentries_313", -EINVAL, -EINVAL);
	expect_none("bad_kind_311", -EINVAL, -EINVAL);
	expect_none("modules_not_dict_312", -EINVAL, -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_named_each_version),
	    cmocka_unit_test(test_default_name_from_int),
	    cmocka_unit_test(test_wide_name_as_utf8),
	    cmocka_unit_test(test_not_a_c_task),
	    cmocka_unit_test(test_subclass),
	    cmocka_unit_test(test_hostile_dicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
