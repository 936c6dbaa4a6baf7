// SPDX-License-Identifier: BSD-2-Clause
/*
 * How loopstalld finds processes to attach (daemon/loopstalld_scan.c) on a
 * fake /proc: comm always read, the executable only when asked, kernel
 * threads told apart, zombies and vanished processes not attachable; and
 * the match patterns of the configuration applied to what it finds.
 */
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
#include "config.h"
#include "loopstalld.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A process directory: comm, stat state, and exe (NULL: a kernel thread, PF_KTHREAD). */
static void proc(int pid, const char *comm, char state, const char *exe)
{
	char rel[128], text[160];

	snprintf(rel, sizeof(rel), "%s/%d", root, pid);
	assert_int_equal(mkdir(rel, 0755), 0);
	snprintf(rel, sizeof(rel), "%d/comm", pid);
	snprintf(text, sizeof(text), "%s\n", comm);
	put(rel, text);
	snprintf(rel, sizeof(rel), "%d/stat", pid);
	/* comm in stat is in parentheses and may hold ") " itself */
	snprintf(text, sizeof(text), "%d (%s) %c %d 1 1 0 -1 %s\n", pid, comm, state, exe ? 1 : 0,
		 exe ? "4194560" : "2129984");
	put(rel, text);
	if (exe) {
		snprintf(rel, sizeof(rel), "%s/%d/exe", root, pid);
		assert_int_equal(symlink(exe, rel), 0);
	}
}

static int setup(void **state)
{
	char gone[128];

	(void)state;
	snprintf(root, sizeof(root), "/tmp/loopstall-proc-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	proc(1, "systemd", 'S', "/usr/lib/systemd/systemd");
	proc(2, "kthreadd", 'S', NULL);
	/* a kernel thread whose name looks like a program a rule matches */
	proc(3, "redis-server", 'I', NULL);
	proc(120, "redis-server", 'S', "/usr/bin/redis-server");
	proc(121, "loopstall-demo-", 'S', "/opt/x/loopstall-demo-service");
	proc(122, "python3", 'Z', "/usr/bin/python3.11");
	proc(123, "a) b", 'R', "/usr/bin/odd (deleted)");
	proc(500, "loopstalld", 'S', "/usr/sbin/loopstalld");
	put("self", "not a pid");
	put("uptime", "1.0 2.0\n");
	/* a pid directory whose process is gone: no comm to read */
	snprintf(gone, sizeof(gone), "%s/777", root);
	return mkdir(gone, 0755);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

struct seen {
	struct lsd_proc procs[16];
	int n;
	bool want_exe;
};

static bool need_exe(void *ctx, const struct lsd_proc *p)
{
	struct seen *s = ctx;

	(void)p;
	return s->want_exe;
}

static int collect(void *ctx, const struct lsd_proc *p)
{
	struct seen *s = ctx;

	assert_true(s->n < 16);
	s->procs[s->n++] = *p;
	return 0;
}

static const struct lsd_proc *by_pid(const struct seen *s, pid_t pid)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	return NULL;
}

static void test_scan(void **state)
{
	struct seen s = { .want_exe = true };
	const struct lsd_proc *p;

	(void)state;
	assert_int_equal(lsd_scan(root, 500, need_exe, false, collect, &s), 0);
	/* 1 2 3 120 121 122 123; not 500 (skipped: loopstalld itself), 777 (gone), files */
	assert_int_equal(s.n, 7);
	assert_null(by_pid(&s, 500));
	assert_null(by_pid(&s, 777));
	p = by_pid(&s, 121);
	assert_non_null(p);
	assert_string_equal(p->comm, "loopstall-demo-");
	assert_string_equal(p->exe, "loopstall-demo-service");
	assert_true(p->exe_read);
	assert_false(p->kthread);
	p = by_pid(&s, 2);
	assert_string_equal(p->exe, "");
	assert_true(p->kthread);
	/* a replaced executable keeps its name */
	assert_string_equal(by_pid(&s, 123)->exe, "odd");
	assert_string_equal(by_pid(&s, 123)->comm, "a) b");

	/* not asked for: the exe is not read */
	memset(&s, 0, sizeof(s));
	assert_int_equal(lsd_scan(root, 0, need_exe, false, collect, &s), 0);
	assert_int_equal(s.n, 8);
	assert_false(by_pid(&s, 120)->exe_read);
	assert_string_equal(by_pid(&s, 120)->exe, "");
	assert_int_equal(lsd_scan("/nonexistent-proc", 0, NULL, false, collect, &s), -ENOENT);
}

static void test_exited_and_comm(void **state)
{
	struct lsd_proc p;
	char comm[16];

	(void)state;
	assert_int_equal(lsd_proc_traceable(root, 120), 0);
	assert_int_equal(lsd_proc_traceable(root, 123), 0);
	assert_int_equal(lsd_proc_traceable(root, 122), -ESRCH); /* zombie */
	assert_int_equal(lsd_proc_traceable(root, 777), -ESRCH); /* gone */
	assert_int_equal(lsd_proc_traceable(root, 9999), -ESRCH);
	assert_int_equal(lsd_proc_traceable(root, 2), -EPERM); /* kernel threads */
	assert_int_equal(lsd_proc_traceable(root, 3), -EPERM);
	assert_int_equal(lsd_proc_read(root, 121, &p), 0);
	assert_string_equal(p.comm, "loopstall-demo-");
	assert_string_equal(p.exe, "loopstall-demo-service");
	assert_int_equal(lsd_proc_read(root, 777, &p), -ESRCH);
	lsd_proc_comm(root, 120, comm);
	assert_string_equal(comm, "redis-server");
	lsd_proc_comm(root, 9999, comm);
	assert_string_equal(comm, "");
}

/* What loopstalld does with a scan: the first matching pattern, by comm or exe. */
static void test_match_scan(void **state)
{
	struct seen s = { .want_exe = true };
	struct ls_config *c;
	const struct ls_target_spec *m;
	char err[128];
	int i, attached = 0;

	(void)state;
	assert_int_equal(ls_config__new(&c), 0);
	assert_int_equal(ls_config__parse(c,
					  "match = db=redis-*\n"
					  "match = loopstall-demo-service\n"
					  "match = python3*\n"
					  "match = kthread*\n",
					  "t", err, sizeof(err)),
			 0);
	assert_int_equal(lsd_scan(root, 500, need_exe, false, collect, &s), 0);
	for (i = 0; i < s.n; i++) {
		const struct lsd_proc *p = &s.procs[i];

		m = ls_config__match(c, p->comm, p->exe[0] ? p->exe : NULL);
		if (!m || lsd_proc_traceable(root, p->pid))
			continue;
		attached++;
		if (p->pid == 120)
			assert_string_equal(m->label, "db");
		else
			assert_int_equal(p->pid, 121);
	}
	/* redis and the demo; not the zombie, not the kernel threads (one named redis-server) */
	assert_int_equal(attached, 2);
	ls_config__free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_exited_and_comm),
		cmocka_unit_test(test_match_scan),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
