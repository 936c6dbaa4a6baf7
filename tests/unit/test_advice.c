// SPDX-License-Identifier: BSD-2-Clause
/* ls_advice(): the remedy written into each stall record, per cause. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "stall.h"

#define MS 1000000ull
#define START (9000 * MS)

static void stall_init(struct ls_stall *s, enum ls_cause cause, uint64_t dur)
{
	memset(s, 0, sizeof(*s));
	s->pid = s->tid = 77;
	memcpy(s->comm, "svc", 4);
	s->start_ns = START;
	s->end_ns = START + dur;
	s->threshold_ns = 50 * MS;
	s->cause = cause;
}

static struct ls_syscall_use *add_call(struct ls_stall *s, int nr, const char *name, int fd,
				       const char *target, uint32_t count, uint64_t total)
{
	struct ls_syscall_use *u = &s->syscalls[s->n_syscalls++];

	u->nr = nr;
	u->name = name;
	u->fd = fd;
	snprintf(u->target, sizeof(u->target), "%s", target);
	u->count = count;
	u->total_ns = total;
	u->max_ns = total;
	return u;
}

static void assert_contains(const char *text, const char *part)
{
	if (!strstr(text, part))
		fail_msg("\"%s\" does not mention \"%s\"", text, part);
}

static void assert_lacks(const char *text, const char *part)
{
	if (strstr(text, part))
		fail_msg("\"%s\" should not mention \"%s\"", text, part);
}

static void test_sleep(void **state)
{
	struct ls_stall s;
	char buf[512];

	(void)state;
	stall_init(&s, LS_CAUSE_BLOCKING_SYSCALL, 300 * MS);
	add_call(&s, 230, "clock_nanosleep", -1, "", 1, 299 * MS);
	ls_advice(&s, buf, sizeof(buf));
	assert_contains(buf, "clock_nanosleep");
	assert_contains(buf, "299.0 ms");
	assert_contains(buf, "timer");
	assert_contains(buf, "asyncio.sleep");
}

static void test_socket(void **state)
{
	struct ls_stall s;
	char buf[512];

	(void)state;
	stall_init(&s, LS_CAUSE_BLOCKING_SYSCALL, 200 * MS);
	add_call(&s, 45, "recvfrom", 5, "socket:TCP 127.0.0.1:40000->127.0.0.1:6379", 1, 180 * MS);
	ls_advice(&s, buf, sizeof(buf));
	assert_contains(buf, "recvfrom");
	assert_contains(buf, "180.0 ms");
	assert_contains(buf, "socket:TCP 127.0.0.1:40000->127.0.0.1:6379");
	assert_contains(buf, "non-blocking");
	assert_lacks(buf, "timer");
}

static void test_file(void **state)
{
	struct ls_stall s;
	char buf[512];

	(void)state;
	stall_init(&s, LS_CAUSE_BLOCKING_SYSCALL, 200 * MS);
	add_call(&s, 0, "read", 8, "/var/lib/app/data.db", 12, 150 * MS);
	ls_advice(&s, buf, sizeof(buf));
	assert_contains(buf, "read");
	assert_contains(buf, "/var/lib/app/data.db");
	assert_contains(buf, "thread pool");
	assert_lacks(buf, "non-blocking");
}

static void test_other_blocking(void **state)
{
	struct ls_stall s;
	char buf[512];

	(void)state;
	/* no target known: the call and how often it ran */
	stall_init(&s, LS_CAUSE_BLOCKING_SYSCALL, 200 * MS);
	add_call(&s, 0, "read", 3, "", 3, 150 * MS);
	ls_advice(&s, buf, sizeof(buf));
	assert_contains(buf, "read");
	assert_contains(buf, "(3 calls)");
	assert_contains(buf, "thread pool");

	s.syscalls[0].count = 1;
	ls_advice(&s, buf, sizeof(buf));
	assert_contains(buf, "(1 call)");

	/* a pipe is neither a socket nor a file */
	snprintf(s.syscalls[0].target, sizeof(s.syscalls[0].target), "pipe");
	ls_advice(&s, buf, sizeof(buf));
	assert_contains(buf, "(1 call)");
	assert_lacks(buf, "file");
}

/*
 * A lock taken through a file (flock) waits for the lock's holder, not for
 * the disk: the advice said "Regular-file I/O always blocks" before it
 * shared the doctor's classes, which call it a lock.
 */
static void test_lock_on_a_file(void **state)
{
	struct ls_stall s;
	char buf[512];

	(void)state;
	stall_init(&s, LS_CAUSE_BLOCKING_SYSCALL, 200 * MS);
	add_call(&s, 73, "flock", 4, "/var/lock/app.lock", 1, 150 * MS);
	s.syscalls[0].target_kind = LS_TK_FILE;
	ls_advice(&s, buf, sizeof(buf));
	assert_int_equal(ls_stall_wait(&s), LS_WAIT_LOCK);
	assert_contains(buf, "flock on /var/lock/app.lock (1 call)");
	assert_contains(buf, "contended locks");
	assert_lacks(buf, "Regular-file");
}

static void test_cpu(void **state)
{
	struct ls_stall s;
	char buf[512];

	(void)state;
	stall_init(&s, LS_CAUSE_CPU, 250 * MS);
	s.on_cpu_ns = 240 * MS;
	ls_advice(&s, buf, sizeof(buf));
	assert_contains(buf, "240.0 ms");
	assert_contains(buf, "250.0 ms");
	assert_contains(buf, "yield");
}

static void test_lock(void **state)
{
	struct ls_stall s;
	char buf[512];

	(void)state;
	stall_init(&s, LS_CAUSE_LOCK_WAIT, 250 * MS);
	add_call(&s, 202, "futex", -1, "", 2, 230 * MS);
	ls_advice(&s, buf, sizeof(buf));
	assert_contains(buf, "230.0 ms");
	assert_contains(buf, "futex");
	assert_contains(buf, "lock");
}

static void test_preempted(void **state)
{
	struct ls_stall s;
	char buf[512];

	(void)state;
	stall_init(&s, LS_CAUSE_PREEMPTED, 250 * MS);
	s.runq_ns = 200 * MS;
	s.nivcsw = 17;
	ls_advice(&s, buf, sizeof(buf));
	assert_contains(buf, "200.0 ms");
	assert_contains(buf, "17 involuntary");
	assert_contains(buf, "cpu.max");
}

static void test_page_fault(void **state)
{
	struct ls_stall s;
	char buf[512];

	(void)state;
	stall_init(&s, LS_CAUSE_PAGE_FAULT, 250 * MS);
	s.fault_ns = 210 * MS;
	s.major_faults = 812;
	ls_advice(&s, buf, sizeof(buf));
	assert_contains(buf, "210.0 ms");
	assert_contains(buf, "812 major page faults");
	assert_contains(buf, "swap");
}

static void test_mixed_and_unknown(void **state)
{
	struct ls_stall s;
	char buf[512];

	(void)state;
	stall_init(&s, LS_CAUSE_MIXED, 300 * MS);
	s.on_cpu_ns = 100 * MS;
	s.off_cpu_ns = 110 * MS;
	s.runq_ns = 90 * MS;
	ls_advice(&s, buf, sizeof(buf));
	assert_contains(buf, "100.0 ms on CPU");
	assert_contains(buf, "110.0 ms blocked");
	assert_contains(buf, "90.0 ms waiting");

	stall_init(&s, LS_CAUSE_UNKNOWN, 75 * MS);
	ls_advice(&s, buf, sizeof(buf));
	assert_contains(buf, "75.0 ms");
	assert_contains(buf, "could not be attributed");

	/* blocking without any recorded call has nothing to name */
	stall_init(&s, LS_CAUSE_BLOCKING_SYSCALL, 80 * MS);
	ls_advice(&s, buf, sizeof(buf));
	assert_contains(buf, "80.0 ms");
	assert_contains(buf, "could not be attributed");
}

static void test_small_buffer(void **state)
{
	static const enum ls_cause causes[] = {
	    LS_CAUSE_BLOCKING_SYSCALL, LS_CAUSE_CPU,   LS_CAUSE_LOCK_WAIT, LS_CAUSE_PREEMPTED,
	    LS_CAUSE_PAGE_FAULT,       LS_CAUSE_MIXED, LS_CAUSE_UNKNOWN,
	};
	char buf[64];
	struct ls_stall s;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(causes) / sizeof(causes[0]); i++) {
		stall_init(&s, causes[i], 300 * MS);
		add_call(&s, 0, "read", 3, "/a/very/long/path/that/cannot/fit", 1, 250 * MS);
		memset(buf, '#', sizeof(buf));
		ls_advice(&s, buf, 16);
		assert_int_equal(strlen(buf), 15);
		for (j = 16; j < sizeof(buf); j++)
			assert_int_equal(buf[j], '#');

		/* len 1 leaves room only for the NUL */
		memset(buf, '#', sizeof(buf));
		ls_advice(&s, buf, 1);
		assert_int_equal(buf[0], '\0');
		assert_int_equal(buf[1], '#');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sleep),
	    cmocka_unit_test(test_socket),
	    cmocka_unit_test(test_file),
	    cmocka_unit_test(test_other_blocking),
	    cmocka_unit_test(test_lock_on_a_file),
	    cmocka_unit_test(test_cpu),
	    cmocka_unit_test(test_lock),
	    cmocka_unit_test(test_preempted),
	    cmocka_unit_test(test_page_fault),
	    cmocka_unit_test(test_mixed_and_unknown),
	    cmocka_unit_test(test_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
