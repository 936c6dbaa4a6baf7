// SPDX-License-Identifier: BSD-2-Clause
/*
 * perfmap.c against a target whose root is not ours (a container): its
 * /tmp is a symlink, absolute or with "..", to a path that exists both in
 * its tree and in ours. The map read must be the one in the target's tree
 * (openat2 RESOLVE_IN_ROOT), never ours: resolved through
 * /proc/PID/root/tmp, the symlink would be followed from our root. Needs
 * root (chroot); exits 77 (skipped) without it unless CI=true.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "perfmap.h"

static char host_dir[] = "/var/tmp/loopstall-pm-XXXXXX";
static char root_dir[] = "/tmp/loopstall-root-XXXXXX";

static void write_map(const char *dir_prefix, const char *dir, pid_t pid, const char *name)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s/perf-%d.map", dir_prefix, dir, (int)pid);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "1000 10 %s\n", name);
	fclose(f);
}

static void unlink_map(const char *dir_prefix, const char *dir, pid_t pid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s%s/perf-%d.map", dir_prefix, dir, (int)pid);
	unlink(path);
}

/* A child whose root is root_dir, waiting to be killed. */
static pid_t start_jailed(void)
{
	int ready[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		int null = open("/dev/null", O_RDWR);

		/* a failed assertion in the parent must not leave us, or its output pipe, behind */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (chroot(root_dir) || chdir("/"))
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void check_symlinked_tmp(const char *link_target)
{
	char link[PATH_MAX], name[64];
	struct ls_perfmap *m = NULL;
	const char *got;
	pid_t pid;
	int err;

	snprintf(link, sizeof(link), "%s/tmp", root_dir);
	unlink(link);
	assert_int_equal(symlink(link_target, link), 0);
	pid = start_jailed();
	write_map("", host_dir, pid, "host_file");
	write_map(root_dir, host_dir, pid, "container_file");
	err = ls_perfmap__load(pid, &m);
	got = err ? NULL : ls_perfmap__lookup(m, 0x1008);
	snprintf(name, sizeof(name), "%s", got ? got : "(none)");
	ls_perfmap__free(m);
	unlink_map("", host_dir, pid);
	unlink_map(root_dir, host_dir, pid);
	stop(pid);
	print_message("  /tmp -> %s: %s (load %d)\n", link_target, name, err);
	assert_int_equal(err, 0);
	assert_string_equal(name, "container_file");
}

static void test_absolute_symlink(void **state)
{
	(void)state;
	check_symlinked_tmp(host_dir);
}

static void test_dotdot_symlink(void **state)
{
	char rel[PATH_MAX];

	(void)state;
	/* from root_dir/tmp: up past the container's root, then down the host's path */
	snprintf(rel, sizeof(rel), "../../../../../..%s", host_dir);
	check_symlinked_tmp(rel);
}

static int setup(void **state)
{
	char path[PATH_MAX];

	(void)state;
	if (!mkdtemp(host_dir) || !mkdtemp(root_dir))
		return -1;
	/* the same path inside the container's tree */
	snprintf(path, sizeof(path), "%s/var", root_dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/var/tmp", root_dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s%s", root_dir, host_dir);
	return mkdir(path, 0755);
}

static int teardown(void **state)
{
	char path[PATH_MAX];

	(void)state;
	snprintf(path, sizeof(path), "%s%s", root_dir, host_dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/var/tmp", root_dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/var", root_dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/tmp", root_dir);
	unlink(path);
	rmdir(root_dir);
	rmdir(host_dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absolute_symlink),
		cmocka_unit_test(test_dotdot_symlink),
	};
	const char *ci = getenv("CI");

	if (geteuid() != 0) {
		fprintf(stderr, "test_perfmap_root: needs root (chroot)\n");
		return ci && !strcmp(ci, "true") ? 1 : 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
