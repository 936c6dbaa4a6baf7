// SPDX-License-Identifier: BSD-2-Clause
/* writer.c: JSON Lines output files, flushed per record and opened safely. */
#include <errno.h>
#include <fcntl.h>
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
#include "writer.h"

struct tmp {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/loopstall-unit-XXXXXX");
	if (!mkdtemp(t->dir)) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s/out.jsonl", t->dir);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;
	char path[160];

	unlink(t->path);
	snprintf(path, sizeof(path), "%s/target", t->dir);
	unlink(path);
	rmdir(t->dir);
	free(t);
	return 0;
}

/* The file's current content, read through a separate descriptor. */
static char *slurp(const char *path)
{
	static char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

static void test_lines_flushed(void **state)
{
	struct tmp *t = *state;
	struct ls_writer *w = NULL;

	assert_int_equal(ls_writer__open(t->path, &w), 0);
	assert_non_null(w);
	assert_string_equal(slurp(t->path), "");
	assert_int_equal(ls_writer__line(w, "{\"type\":\"stall\"}"), 0);
	/* on disk while the writer is still open: a crash loses nothing written */
	assert_string_equal(slurp(t->path), "{\"type\":\"stall\"}\n");
	assert_int_equal(ls_writer__line(w, "{\"type\":\"summary\"}"), 0);
	assert_string_equal(slurp(t->path), "{\"type\":\"stall\"}\n{\"type\":\"summary\"}\n");
	assert_int_equal(ls_writer__close(w), 0);
	assert_string_equal(slurp(t->path), "{\"type\":\"stall\"}\n{\"type\":\"summary\"}\n");
}

static void test_mode_and_truncate(void **state)
{
	struct tmp *t = *state;
	struct ls_writer *w = NULL;
	struct stat st;
	mode_t old_umask = umask(022);
	int fd;

	assert_int_equal(ls_writer__open(t->path, &w), 0);
	umask(old_umask);
	assert_int_equal(stat(t->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(ls_writer__close(w), 0);

	/* an existing file is replaced, not appended to */
	fd = open(t->path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "old content\n", 12), 12);
	close(fd);
	assert_int_equal(ls_writer__open(t->path, &w), 0);
	assert_int_equal(ls_writer__line(w, "new"), 0);
	assert_int_equal(ls_writer__close(w), 0);
	assert_string_equal(slurp(t->path), "new\n");
}

static void test_no_symlink(void **state)
{
	struct tmp *t = *state;
	struct ls_writer *w = NULL;
	char target[160];
	int fd;

	/* a symlink planted at the output path must not redirect the write */
	snprintf(target, sizeof(target), "%s/target", t->dir);
	fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "precious\n", 9), 9);
	close(fd);
	assert_int_equal(symlink(target, t->path), 0);
	assert_int_equal(ls_writer__open(t->path, &w), -ELOOP);
	assert_null(w);
	assert_string_equal(slurp(target), "precious\n");
}

static void test_open_errors(void **state)
{
	struct tmp *t = *state;
	struct ls_writer *w = NULL;
	char path[160];

	snprintf(path, sizeof(path), "%s/no/such/dir.jsonl", t->dir);
	assert_int_equal(ls_writer__open(path, &w), -ENOENT);
	assert_int_equal(ls_writer__open(t->dir, &w), -EISDIR);
	assert_null(w);
	assert_int_equal(ls_writer__close(NULL), 0);
}

static void test_write_error(void **state)
{
	struct ls_writer *w = NULL;
	int err;

	(void)state;
	if (access("/dev/full", W_OK))
		skip();
	assert_int_equal(ls_writer__open("/dev/full", &w), 0);
	err = ls_writer__line(w, "{\"type\":\"stall\"}");
	assert_int_equal(err, -ENOSPC);
	/* the error sticks: later lines report it too */
	assert_int_equal(ls_writer__line(w, "x"), -ENOSPC);
	assert_int_equal(ls_writer__close(w), -ENOSPC);
}

static void test_stdout(void **state)
{
	struct tmp *t = *state;
	struct ls_writer *w = NULL;
	int saved, fd;

	/* point fd 1 at a file so the record does not land in the test log */
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(t->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
	close(fd);

	assert_int_equal(ls_writer__open("-", &w), 0);
	assert_int_equal(ls_writer__line(w, "one"), 0);
	assert_string_equal(slurp(t->path), "one\n");
	assert_int_equal(ls_writer__close(w), 0);
	assert_int_equal(ls_writer__open(NULL, &w), 0);
	assert_int_equal(ls_writer__line(w, "two"), 0);
	assert_int_equal(ls_writer__close(w), 0);
	/* closing a stdout writer leaves stdout usable */
	assert_true(fputs("three\n", stdout) >= 0);
	assert_int_equal(fflush(stdout), 0);

	dup2(saved, STDOUT_FILENO);
	close(saved);
	assert_string_equal(slurp(t->path), "one\ntwo\nthree\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lines_flushed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_and_truncate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test_setup_teardown(test_stdout, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
