// SPDX-License-Identifier: BSD-2-Clause
/* The size-rotated JSON Lines writer (rotate.c), in a temporary directory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "bound.h"
#include "recfile.h"
#include "rotate.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/loopstall-rotate-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Size of DIR/name, -1 when it does not exist. */
static long file_size(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &st))
		return -1;
	return (long)st.st_size;
}

static char *read_file(const char *name)
{
	char path[128], *buf;
	long n = file_size(name);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_true(n >= 0);
	buf = calloc(1, (size_t)n + 1);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* 100-byte lines (99 + newline), numbered so their order can be checked. */
static void write_lines(struct ls_rotate *r, int from, int to)
{
	char line[100];
	int i;

	for (i = from; i < to; i++) {
		snprintf(line, sizeof(line), "{\"n\":%04d}%*s", i, 89, "");
		assert_int_equal(strlen(line), 99);
		assert_int_equal(ls_rotate__line(r, line), 0);
	}
}

static int first_number(const char *name)
{
	char *text = read_file(name);
	int n = atoi(text + 5);

	free(text);
	return n;
}

static void test_rotates_and_keeps(void **state)
{
	struct ls_rotate *r;

	(void)state;
	/* room for exactly 3 lines per file */
	assert_int_equal(ls_rotate__open(dir, "stalls.jsonl", 300, 2, &r), 0);
	write_lines(r, 0, 3);
	assert_int_equal(file_size("stalls.jsonl"), 300);
	assert_int_equal(file_size("stalls.jsonl.1"), -1);
	write_lines(r, 3, 4);
	assert_int_equal(file_size("stalls.jsonl"), 100);
	assert_int_equal(file_size("stalls.jsonl.1"), 300);
	write_lines(r, 4, 11);
	assert_int_equal(ls_rotate__close(r), 0);
	/* 11 lines: 9..10 current, 6..8 in .1, 3..5 in .2, 0..2 dropped */
	assert_int_equal(file_size("stalls.jsonl"), 200);
	assert_int_equal(file_size("stalls.jsonl.1"), 300);
	assert_int_equal(file_size("stalls.jsonl.2"), 300);
	assert_int_equal(file_size("stalls.jsonl.3"), -1);
	assert_int_equal(first_number("stalls.jsonl"), 9);
	assert_int_equal(first_number("stalls.jsonl.1"), 6);
	assert_int_equal(first_number("stalls.jsonl.2"), 3);

	/* reopening appends, and counts what the file already holds */
	assert_int_equal(ls_rotate__open(dir, "stalls.jsonl", 300, 2, &r), 0);
	write_lines(r, 11, 12);
	assert_int_equal(file_size("stalls.jsonl"), 300);
	write_lines(r, 12, 13);
	assert_int_equal(ls_rotate__close(r), 0);
	assert_int_equal(first_number("stalls.jsonl"), 12);
	assert_int_equal(first_number("stalls.jsonl.1"), 9);
}

static void test_keep_zero_and_big_lines(void **state)
{
	struct ls_rotate *r;
	char *big, *text;

	(void)state;
	assert_int_equal(ls_rotate__open(dir, "k0.jsonl", 300, 0, &r), 0);
	write_lines(r, 0, 4);
	assert_int_equal(file_size("k0.jsonl"), 100);
	assert_int_equal(file_size("k0.jsonl.1"), -1);
	/* a line longer than the limit is written whole, in a file of its own */
	big = malloc(1000);
	memset(big, 'x', 999);
	big[999] = '\0';
	assert_int_equal(ls_rotate__line(r, big), 0);
	assert_int_equal(file_size("k0.jsonl"), 1000);
	write_lines(r, 4, 5);
	assert_int_equal(file_size("k0.jsonl"), 100);
	text = read_file("k0.jsonl");
	assert_int_equal(text[99], '\n');
	free(text);
	free(big);
	assert_int_equal(ls_rotate__close(r), 0);
}

static void test_creates_directory_and_rejects_names(void **state)
{
	char sub[128];
	struct ls_rotate *r;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/out", dir);
	assert_int_equal(ls_rotate__open(sub, "s.jsonl", 1024, 1, &r), 0);
	assert_int_equal(ls_rotate__line(r, "{}"), 0);
	assert_int_equal(ls_rotate__close(r), 0);
	assert_int_equal(file_size("out/s.jsonl"), 3);
	assert_int_equal(ls_rotate__open(dir, "a/b", 1024, 1, &r), -EINVAL);
	assert_int_equal(ls_rotate__open(dir, "", 1024, 1, &r), -EINVAL);
	snprintf(sub, sizeof(sub), "%s/missing/deeper", dir);
	assert_int_equal(ls_rotate__open(sub, "s.jsonl", 1024, 1, &r), -ENOENT);
	assert_int_equal(ls_rotate__close(NULL), 0);
}

/* A stall whose one syscall stack is stack number k (of 3), 12 frames deep. */
static char *stall_with_stack(unsigned i, unsigned k)
{
	char *line = malloc(8192);
	size_t n;
	unsigned f;

	n = (size_t)snprintf(line, 8192,
			     "{\"type\":\"stall\",\"schema_version\":1,\"pid\":7,\"tid\":7,"
			     "\"start_unix_ns\":%u000000,\"duration_ms\":60,"
			     "\"cause\":\"blocking_syscall\","
			     "\"syscalls\":[{\"name\":\"read\",\"count\":1,\"total_ms\":60,"
			     "\"stack\":[",
			     i + 1);
	for (f = 0; f < 12; f++)
		n += (size_t)snprintf(line + n, 8192 - n,
				      "%s{\"addr\":\"0x%x\",\"symbol\":\"stack%u_frame%u\","
				      "\"module\":\"/usr/lib/libexample.so\",\"file\":null,"
				      "\"line\":null}",
				      f ? "," : "", 0x1000 + f, k, f);
	snprintf(line + n, 8192 - n, "]}],\"cpu_stacks\":[],\"advice\":\"\"}");
	return line;
}

/*
 * Bounded records across rotations: each file holds the stack records its
 * stalls refer to (written again after each rotation), so every file reads
 * alone with every stack resolved; no line is over the bound.
 */
static void test_bounded_rotation(void **state)
{
	static const char *const names[] = { "b.jsonl", "b.jsonl.1", "b.jsonl.2" };
	struct ls_rotate *r;
	struct ls_bound *b;
	struct recording *rec;
	struct rf_error err;
	char path[128], *line;
	unsigned i, n_files = 0, stalls = 0;
	FILE *f;

	(void)state;
	assert_int_equal(ls_rotate__open(dir, "b.jsonl", 4096, 2, &r), 0);
	assert_int_equal(ls_bound__new(1024, &b), 0);
	for (i = 0; i < 12; i++) {
		line = stall_with_stack(i, i % 3);
		assert_true(strlen(line) > 1024);
		assert_int_equal(ls_rotate__bounded(r, b, line), 0);
		free(line);
	}
	assert_int_equal(ls_rotate__bounded(r, b, "[]"), -EINVAL);
	assert_int_equal(ls_rotate__close(r), 0);
	ls_bound__free(b);

	for (i = 0; i < 3; i++) {
		char *text, *l, *save = NULL;
		size_t k;

		if (file_size(names[i]) < 0)
			continue;
		n_files++;
		text = read_file(names[i]);
		for (l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			assert_true(strlen(l) + 1 <= 1024);
		free(text);
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		f = fopen(path, "r");
		assert_non_null(f);
		assert_int_equal(recording__read(f, &rec, &err), 0);
		fclose(f);
		assert_int_equal(rec->unresolved_stack_refs, 0);
		for (k = 0; k < rec->n_stalls; k++) {
			const struct rf_stack *st = &rec->stalls[k].syscalls[0].stack;
			unsigned want = (unsigned)(rec->stalls[k].start_unix_ns / 1000000 - 1) % 3;
			char sym[32];

			assert_int_equal(st->n + st->frames_cut, 12);
			snprintf(sym, sizeof(sym), "stack%u_frame0", want);
			assert_string_equal(st->frames[0].symbol, sym);
			assert_true(st->frames_cut > 0);
		}
		stalls += (unsigned)rec->n_stalls;
		recording__free(rec);
	}
	/* 3 files of 4 KiB: the oldest records were rotated away, but rotation did happen */
	assert_int_equal(n_files, 3);
	assert_true(stalls >= 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rotates_and_keeps),
		cmocka_unit_test(test_keep_zero_and_big_lines),
		cmocka_unit_test(test_creates_directory_and_rejects_names),
		cmocka_unit_test(test_bounded_rotation),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
