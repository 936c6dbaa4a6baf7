// SPDX-License-Identifier: BSD-2-Clause
/*
 * syscall_class.c: one table for the agent's advice (syscalls by number)
 * and the doctor (by name): both must agree, and every kind of wait must
 * have its words.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <cmocka.h>
#include "syscall_class.h"
#include "syscalls.h"

#define CALL(name, cls)                                                                            \
	{                                                                                          \
		SYS_##name, #name, cls                                                             \
	}

/* Written out here, apart from the table: an entry lost from it fails the test. */
static const struct {
	long nr;
	const char *name;
	enum ls_sc_class cls;
} expected[] = {
    CALL(nanosleep, LS_SC_SLEEP),
    CALL(clock_nanosleep, LS_SC_SLEEP),
    CALL(pause, LS_SC_SLEEP),
    CALL(futex, LS_SC_LOCK),
    CALL(futex_waitv, LS_SC_LOCK),
    CALL(flock, LS_SC_LOCK),
    CALL(semop, LS_SC_LOCK),
    CALL(semtimedop, LS_SC_LOCK),
    CALL(msgrcv, LS_SC_LOCK),
    CALL(wait4, LS_SC_CHILD),
    CALL(waitid, LS_SC_CHILD),
    CALL(open, LS_SC_FILE),
    CALL(openat, LS_SC_FILE),
    CALL(openat2, LS_SC_FILE),
    CALL(creat, LS_SC_FILE),
    CALL(stat, LS_SC_FILE),
    CALL(lstat, LS_SC_FILE),
    CALL(newfstatat, LS_SC_FILE),
    CALL(statx, LS_SC_FILE),
    CALL(access, LS_SC_FILE),
    CALL(faccessat, LS_SC_FILE),
    CALL(faccessat2, LS_SC_FILE),
    CALL(fsync, LS_SC_FILE),
    CALL(fdatasync, LS_SC_FILE),
    CALL(sync, LS_SC_FILE),
    CALL(syncfs, LS_SC_FILE),
    CALL(sync_file_range, LS_SC_FILE),
    CALL(unlink, LS_SC_FILE),
    CALL(unlinkat, LS_SC_FILE),
    CALL(rename, LS_SC_FILE),
    CALL(renameat, LS_SC_FILE),
    CALL(renameat2, LS_SC_FILE),
    CALL(mkdir, LS_SC_FILE),
    CALL(mkdirat, LS_SC_FILE),
    CALL(rmdir, LS_SC_FILE),
    CALL(getdents64, LS_SC_FILE),
    CALL(truncate, LS_SC_FILE),
    CALL(ftruncate, LS_SC_FILE),
    CALL(fallocate, LS_SC_FILE),
    CALL(copy_file_range, LS_SC_FILE),
    CALL(readlink, LS_SC_FILE),
    CALL(readlinkat, LS_SC_FILE),
    CALL(chmod, LS_SC_FILE),
    CALL(fchmodat, LS_SC_FILE),
    CALL(chown, LS_SC_FILE),
    CALL(fchownat, LS_SC_FILE),
    CALL(utimensat, LS_SC_FILE),
    CALL(io_submit, LS_SC_FILE),
    CALL(io_getevents, LS_SC_FILE),
    CALL(connect, LS_SC_SOCKET),
    CALL(accept, LS_SC_SOCKET),
    CALL(accept4, LS_SC_SOCKET),
    CALL(recvfrom, LS_SC_SOCKET),
    CALL(recvmsg, LS_SC_SOCKET),
    CALL(recvmmsg, LS_SC_SOCKET),
    CALL(sendto, LS_SC_SOCKET),
    CALL(sendmsg, LS_SC_SOCKET),
    CALL(sendmmsg, LS_SC_SOCKET),
    /* calls whose target tells what they wait for */
    CALL(read, LS_SC_OTHER),
    CALL(write, LS_SC_OTHER),
    CALL(ioctl, LS_SC_OTHER),
    CALL(epoll_wait, LS_SC_OTHER),
    CALL(select, LS_SC_OTHER),
    CALL(fcntl, LS_SC_OTHER),
};

#define N_EXPECTED (sizeof(expected) / sizeof(expected[0]))

/* The advice finds a class by number, the doctor by name: the same answer. */
static void test_number_and_name_agree(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N_EXPECTED; i++) {
		const char *name = ls_syscall_name((unsigned)expected[i].nr);

		if (!name || strcmp(name, expected[i].name))
			fail_msg("syscall %ld is %s, not %s", expected[i].nr,
				 name ? name : "unknown", expected[i].name);
		if (ls_sc_class_of_name(expected[i].name) != expected[i].cls)
			fail_msg("%s by name: class %d, not %d", expected[i].name,
				 ls_sc_class_of_name(expected[i].name), expected[i].cls);
		if (ls_sc_class_of_nr((unsigned)expected[i].nr) != expected[i].cls)
			fail_msg("%s by number: class %d, not %d", expected[i].name,
				 ls_sc_class_of_nr((unsigned)expected[i].nr), expected[i].cls);
	}
}

/* Every row of the table is a real syscall here, and one this test knows. */
static void test_table_rows(void **state)
{
	enum ls_sc_class cls;
	const char *name;
	size_t i, j, classified = 0;

	(void)state;
	for (i = 0; (name = ls_sc_entry(i, &cls)); i++) {
		for (j = 0; j < N_EXPECTED; j++)
			if (!strcmp(expected[j].name, name))
				break;
		if (j == N_EXPECTED)
			fail_msg("table row %s is not in the test's list", name);
		assert_int_equal(cls, expected[j].cls);
		assert_int_not_equal(cls, LS_SC_OTHER);
	}
	for (j = 0; j < N_EXPECTED; j++)
		classified += expected[j].cls != LS_SC_OTHER;
	assert_int_equal(i, classified);
	assert_int_equal(ls_sc_class_of_name(NULL), LS_SC_OTHER);
	assert_int_equal(ls_sc_class_of_name("no_such_call"), LS_SC_OTHER);
	assert_int_equal(ls_sc_class_of_nr(400), LS_SC_OTHER); /* a hole in x86_64's numbering */
	assert_int_equal(ls_sc_class_of_nr((unsigned)-1), LS_SC_OTHER);
}

static void test_wait_of_call(void **state)
{
	(void)state;
	/* the class comes first: a lock taken through a file is a lock */
	assert_int_equal(ls_wait_of_call("flock", LS_TK_FILE, "/var/lock/x"), LS_WAIT_LOCK);
	assert_int_equal(ls_wait_of_call("clock_nanosleep", LS_TK_NONE, ""), LS_WAIT_SLEEP);
	assert_int_equal(ls_wait_of_call("wait4", LS_TK_NONE, NULL), LS_WAIT_CHILD);
	/* then the target: a FIFO at a path is no file */
	assert_int_equal(ls_wait_of_call("openat", LS_TK_FIFO, "/tmp/in.fifo"), LS_WAIT_PIPE);
	assert_int_equal(ls_wait_of_call("read", LS_TK_DIR, "/tmp"), LS_WAIT_FILE);
	assert_int_equal(ls_wait_of_call("read", LS_TK_DEVICE, "/dev/ttyS0"), LS_WAIT_DEVICE);
	assert_int_equal(ls_wait_of_call("read", LS_TK_EVENTFD, "anon_inode:[eventfd]"),
			 LS_WAIT_EVENT);
	assert_int_equal(ls_wait_of_call("read", LS_TK_OTHER, "/x"), LS_WAIT_SYSCALL);
	/* without a kind, from the target's text */
	assert_int_equal(ls_wait_of_call("read", LS_TK_NONE, "pipe"), LS_WAIT_PIPE);
	assert_int_equal(ls_wait_of_call("read", LS_TK_NONE, "pipe:[4021]"), LS_WAIT_PIPE);
	assert_int_equal(ls_wait_of_call("write", LS_TK_NONE, "/var/log/x"), LS_WAIT_FILE);
	assert_int_equal(ls_wait_of_call("read", LS_TK_NONE, "anon_inode:[timerfd]"),
			 LS_WAIT_EVENT);
	assert_int_equal(ls_wait_of_call("read", LS_TK_NONE, "weird"), LS_WAIT_SYSCALL);
	assert_int_equal(
	    ls_wait_of_call("recvfrom", LS_TK_NONE, "socket:TCP 1.2.3.4:5->6.7.8.9:80"),
	    LS_WAIT_SOCKET);
	/* with neither, from the call's name */
	assert_int_equal(ls_wait_of_call("fsync", LS_TK_NONE, NULL), LS_WAIT_FILE);
	assert_int_equal(ls_wait_of_call("connect", LS_TK_NONE, ""), LS_WAIT_SOCKET);
	assert_int_equal(ls_wait_of_call("read", LS_TK_NONE, ""), LS_WAIT_SYSCALL);
	assert_int_equal(ls_wait_of_call(NULL, LS_TK_NONE, NULL), LS_WAIT_SYSCALL);
}

/* A lookup asks port 53; a server listening on port 53 is no lookup. */
static void test_dns(void **state)
{
	(void)state;
	assert_true(ls_target_is_dns("dns:udp 127.0.0.53:53"));
	assert_true(ls_target_is_dns("socket:UDP 10.0.0.5:40000->10.0.0.1:53"));
	assert_false(ls_target_is_dns("socket:UDP 10.0.0.1:53"));
	assert_false(ls_target_is_dns("socket:TCP 10.0.0.1:53->10.0.0.5:40000"));
	assert_false(ls_target_is_dns("socket:TCP 10.0.0.1:4000->10.0.0.5:530"));
	assert_false(ls_target_is_dns("/srv/:53"));
	assert_false(ls_target_is_dns(NULL));
	assert_int_equal(ls_wait_of_call("recvfrom", LS_TK_SOCKET, "dns:udp 127.0.0.53:53"),
			 LS_WAIT_DNS);
	assert_int_equal(ls_wait_of_call("recvfrom", LS_TK_SOCKET, "socket:UDP 10.0.0.1:53"),
			 LS_WAIT_SOCKET);
}

/* Every kind has a remedy in every runtime's idiom; the advice's gaps are the ones meant. */
static void test_remedies(void **state)
{
	unsigned k, rt;

	(void)state;
	for (k = 0; k < LS_WAIT_COUNT; k++) {
		for (rt = 0; rt < LS_RUNTIME_COUNT; rt++) {
			const char *r = ls_wait_remedy((enum ls_wait)k, (enum ls_runtime)rt);

			assert_non_null(r);
			assert_true(strlen(r) > 20);
		}
		if (k == LS_WAIT_CHILD || k == LS_WAIT_UNKNOWN)
			assert_null(ls_wait_advice((enum ls_wait)k));
		else
			assert_non_null(ls_wait_advice((enum ls_wait)k));
	}
	/* the runtime's own idiom */
	assert_non_null(strstr(ls_wait_remedy(LS_WAIT_SLEEP, LS_RUNTIME_PYTHON), "asyncio.sleep"));
	assert_non_null(strstr(ls_wait_remedy(LS_WAIT_SLEEP, LS_RUNTIME_NODE), "setTimeout"));
	assert_non_null(strstr(ls_wait_remedy(LS_WAIT_SLEEP, LS_RUNTIME_NATIVE), "ev_timer_start"));
	/* kinds without words of their own speak as another blocking call */
	assert_string_equal(ls_wait_remedy(LS_WAIT_DEVICE, LS_RUNTIME_NODE),
			    ls_wait_remedy(LS_WAIT_SYSCALL, LS_RUNTIME_NODE));
	assert_string_equal(ls_wait_remedy(LS_WAIT_COUNT, LS_RUNTIME_COUNT),
			    ls_wait_remedy(LS_WAIT_UNKNOWN, LS_RUNTIME_NATIVE));
	assert_null(ls_wait_advice(LS_WAIT_COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_number_and_name_agree),
	    cmocka_unit_test(test_table_rows),
	    cmocka_unit_test(test_wait_of_call),
	    cmocka_unit_test(test_dns),
	    cmocka_unit_test(test_remedies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
