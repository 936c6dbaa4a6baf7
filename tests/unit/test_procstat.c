// SPDX-License-Identifier: BSD-2-Clause
/*
 * /proc/PID/stat (agent/src/procstat.c): kernel threads and zombies told apart
 * from processes loopstall can trace, whatever the process named itself;
 * and the names in /proc/PID/comm and /proc/PID/task/TID/comm.
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
#include "procstat.h"

/* Lines as kernel 6.18 writes them (the fields after flags cut short). */
#define KTHREADD "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 19 0\n"
#define KWORKER "45 (kworker/u8:2-events_unbound) I 2 0 0 0 -1 69238880 0 0 0 0\n"
#define REDIS "1234 (redis-server) S 1 1234 1234 0 -1 4194560 211 0 0 0 12 7\n"

static void test_kernel_threads(void **state)
{
	struct ls_procstat st;

	(void)state;
	assert_int_equal(ls_procstat_parse(KTHREADD, &st), 0);
	assert_int_equal(st.pid, 2);
	assert_string_equal(st.comm, "kthreadd");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.ppid, 0);
	assert_int_equal(st.flags, 2129984);
	assert_true(ls_procstat_kthread(&st));
	assert_false(ls_procstat_dead(&st));
	/* a worker's name is longer than a comm, and it idles in state I */
	assert_int_equal(ls_procstat_parse(KWORKER, &st), 0);
	assert_string_equal(st.comm, "kworker/u8:2-events_unbound");
	assert_int_equal(st.state, 'I');
	assert_int_equal(st.ppid, 2);
	assert_true(ls_procstat_kthread(&st));
}

static void test_user_processes(void **state)
{
	struct ls_procstat st;

	(void)state;
	assert_int_equal(ls_procstat_parse(REDIS, &st), 0);
	assert_int_equal(st.pid, 1234);
	assert_string_equal(st.comm, "redis-server");
	assert_int_equal(st.ppid, 1);
	assert_false(ls_procstat_kthread(&st));
	assert_false(ls_procstat_dead(&st));
	assert_int_equal(st.majflt, 0);
	/* minflt cminflt majflt follow flags */
	assert_int_equal(
	    ls_procstat_parse("1234 (redis-server) S 1 1234 1234 0 -1 4194560 211 3 17 0 12 7\n",
			      &st),
	    0);
	assert_int_equal(st.majflt, 17);
	/* on a terminal tpgid is a pid; the line may end right after flags */
	assert_int_equal(ls_procstat_parse("7 (bash) R 6 7 7 34816 7 4194304", &st), 0);
	assert_int_equal(st.flags, 4194304);
	assert_int_equal(st.majflt, 0);
	assert_false(ls_procstat_kthread(&st));
	assert_int_equal(ls_procstat_parse("8 (python3) Z 7 7 7 0 -1 4227084 0\n", &st), 0);
	assert_true(ls_procstat_dead(&st));
	assert_int_equal(ls_procstat_parse("8 (python3) X 7 7 7 0 -1 4227084 0\n", &st), 0);
	assert_true(ls_procstat_dead(&st));
}

/*
 * A process names itself (prctl PR_SET_NAME): spaces, parentheses and a fake
 * field list must not make it a kernel thread, nor a kernel thread a process.
 */
static void test_hostile_comm(void **state)
{
	struct ls_procstat st;

	(void)state;
	assert_int_equal(ls_procstat_parse("300 (a b) S 1 300 300 0 -1 4194560 0\n", &st), 0);
	assert_string_equal(st.comm, "a b");
	assert_false(ls_procstat_kthread(&st));
	/* "x) S 0 0 0 0 -1 2129984 (" as a comm: only the last ')' closes it */
	assert_int_equal(ls_procstat_parse("301 (x) S 0 0 0 0 -1 2129984 () R 1 301 301 0 -1 "
					   "4194560 0\n",
					   &st),
			 0);
	assert_string_equal(st.comm, "x) S 0 0 0 0 -1 2129984 (");
	assert_int_equal(st.state, 'R');
	assert_int_equal(st.ppid, 1);
	assert_false(ls_procstat_kthread(&st));
	assert_int_equal(ls_procstat_parse("302 ()) S 1 302 302 0 -1 4194560 0\n", &st), 0);
	assert_string_equal(st.comm, ")");
	assert_int_equal(ls_procstat_parse("303 () S 1 303 303 0 -1 4194560 0\n", &st), 0);
	assert_string_equal(st.comm, "");
	assert_int_equal(ls_procstat_parse("304 (a\nb) S 1 304 304 0 -1 4194560 0\n", &st), 0);
	assert_string_equal(st.comm, "a\nb");
	/* a name longer than the buffer is cut, not overrun */
	assert_int_equal(
	    ls_procstat_parse("305 (aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa) S 1 1 1 0 -1 0\n",
			      &st),
	    0);
	assert_int_equal(strlen(st.comm), sizeof(st.comm) - 1);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
	    "",
	    "\n",
	    "kthreadd",
	    "(kthreadd) S 0 0 0 0 -1 2129984",
	    "-2 (kthreadd) S 0 0 0 0 -1 2129984",
	    "0 (x) S 0 0 0 0 -1 2129984",
	    "2 kthreadd S 0 0 0 0 -1 2129984",
	    "2 (kthreadd S 0 0 0 0 -1 2129984",
	    "2  (kthreadd) S 0 0 0 0 -1 2129984",
	    "2 (kthreadd)S 0 0 0 0 -1 2129984",
	    "2 (kthreadd) 5 0 0 0 0 -1 2129984",
	    "2 (kthreadd) S 0 0 0 0 -1",	    /* no flags */
	    "2 (kthreadd) S 0 0 0 0 -1 ",	    /* no flags */
	    "2 (kthreadd) S 0 0 0 0 -1 -2129984",   /* negative flags */
	    "2 (kthreadd) S -1 0 0 0 -1 2129984",   /* negative ppid */
	    "2 (kthreadd) S 0 0 0 0 -1 2129984x",   /* junk in a number */
	    "2 (kthreadd) S 0 0 0 0 -1 4294967296", /* flags beyond 32 bits */
	    "2 (kthreadd) S 0  0 0 0 -1 2129984",
	    "99999999999 (x) S 0 0 0 0 -1 0",
	    "2 (kthreadd) S 0 0 0 0 -1 99999999999999999999",
	};
	struct ls_procstat st;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ls_procstat_parse(bad[i], &st) != -EINVAL)
			fail_msg("accepted: '%s'", bad[i]);
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_read(void **state)
{
	char root[] = "/tmp/loopstall-procstat-XXXXXX", dir[64], cmd[96];
	struct ls_procstat st;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/2", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	put(dir, "stat", KTHREADD);
	snprintf(dir, sizeof(dir), "%s/9", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	put(dir, "stat", "garbage\n");

	assert_int_equal(ls_procstat_read(root, 2, &st), 0);
	assert_true(ls_procstat_kthread(&st));
	assert_int_equal(ls_procstat_read(root, 3, &st), -ESRCH);
	assert_int_equal(ls_procstat_read(root, 9, &st), -EINVAL);
	/* the real one: this process is no kernel thread */
	assert_int_equal(ls_procstat_read("/proc", getpid(), &st), 0);
	assert_int_equal(st.pid, getpid());
	assert_int_equal(st.ppid, getppid());
	assert_false(ls_procstat_kthread(&st));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

/* comm files as the kernel writes them: the name and a newline, at most 15 bytes of name. */
static void test_comm(void **state)
{
	char root[] = "/tmp/loopstall-proccomm-XXXXXX", dir[96], cmd[96], comm[16];

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/7", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	put(dir, "comm", "redis-server\n");
	snprintf(dir, sizeof(dir), "%s/7/task", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/7/task/8", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	put(dir, "comm", "io_thd_1\n");
	snprintf(dir, sizeof(dir), "%s/9", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	/* longer than a comm: only 15 bytes are read, whatever the file holds */
	put(dir, "comm", "abcdefghijklmnopqrstuvwxyz\n");

	assert_int_equal(ls_proc_comm(root, 7, 0, comm), 0);
	assert_string_equal(comm, "redis-server");
	assert_int_equal(ls_proc_comm(root, 7, 8, comm), 0);
	assert_string_equal(comm, "io_thd_1");
	assert_int_equal(ls_proc_comm(root, 9, 0, comm), 0);
	assert_string_equal(comm, "abcdefghijklmno");
	memcpy(comm, "stale", 6);
	assert_int_equal(ls_proc_comm(root, 7, 99, comm), -ESRCH);
	assert_string_equal(comm, "");
	assert_int_equal(ls_proc_comm(root, 3, 0, comm), -ESRCH);
	/* the real one: this thread's name, by process and by task */
	assert_int_equal(ls_proc_comm("/proc", getpid(), getpid(), comm), 0);
	assert_string_equal(comm, "test_procstat");
	assert_int_equal(ls_proc_comm("/proc", getpid(), 0, comm), 0);
	assert_string_equal(comm, "test_procstat");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kernel_threads), cmocka_unit_test(test_user_processes),
	    cmocka_unit_test(test_hostile_comm),   cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_read),	   cmocka_unit_test(test_comm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
