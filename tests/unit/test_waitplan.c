// SPDX-License-Identifier: BSD-2-Clause
/* waitplan.c: which wait calls a thread is in, from /proc, and which calls stay hooked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <cmocka.h>
#include "waitplan.h"

#define MS 1000000ull
#define BIT(w) (1u << (w))

static enum ls_thread_state parse(const char *line, int *wait)
{
	*wait = -1;
	return ls_wait_parse_proc(line, wait);
}

static void test_proc_lines(void **state)
{
	int wait;

	(void)state;
	/* lines as the kernel prints them: nr in decimal, arguments, sp and pc in hex */
	assert_int_equal(parse("232 0x3 0x55d92b9606b0 0x3ff 0x32 0x0 0x0 0x7ffff38b9388 "
			       "0x7faf5d126ef3\n",
			       &wait),
			 LS_THREAD_WAITING);
	assert_int_equal(wait, LT_WAIT_EPOLL_WAIT);
	assert_int_equal(parse("7 0x7ffd10 0x1 0x64 0x0 0x0 0x0 0x7ffd00 0x7f01\n", &wait),
			 LS_THREAD_WAITING);
	assert_int_equal(wait, LT_WAIT_POLL);
	assert_int_equal(parse("281 0x4 0x10 0x40 0xffffffff 0x0 0x8 0x7ffd00 0x7f01\n", &wait),
			 LS_THREAD_WAITING);
	assert_int_equal(wait, LT_WAIT_EPOLL_PWAIT);
	/* a read is no wait; nor is a thread blocked outside a call, or running */
	assert_int_equal(parse("0 0x3 0x7fffe0d5a770 0x1000 0x8 0x0 0x0 0x7ffd 0x7f01\n", &wait),
			 LS_THREAD_BLOCKED);
	assert_int_equal(wait, -1);
	assert_int_equal(parse("-1 0x7ffd00 0x7f01\n", &wait), LS_THREAD_BLOCKED);
	assert_int_equal(parse("running\n", &wait), LS_THREAD_RUNNING);
	assert_int_equal(parse("", &wait), LS_THREAD_RUNNING);
	/* cut short: not enough arguments to judge */
	assert_int_equal(parse("232 0x3", &wait), LS_THREAD_BLOCKED);
}

static void test_select_and_io_uring(void **state)
{
	uint64_t args[6] = {0};
	int wait = -1;

	(void)state;
	/* select(0, NULL, NULL, NULL, &tv) is a sleep, not a loop's wait */
	assert_false(ls_wait_is_loop(23, args, &wait));
	args[0] = 5;
	assert_true(ls_wait_is_loop(23, args, &wait));
	assert_int_equal(wait, LT_WAIT_SELECT);
	assert_true(ls_wait_is_loop(270, args, &wait));
	assert_int_equal(wait, LT_WAIT_PSELECT6);
	/* io_uring_enter waits only with GETEVENTS and a minimum to complete */
	memset(args, 0, sizeof(args));
	args[2] = 1;
	assert_false(ls_wait_is_loop(426, args, &wait));
	args[3] = 1;
	assert_true(ls_wait_is_loop(426, args, &wait));
	assert_int_equal(wait, LT_WAIT_IO_URING_ENTER);
	args[2] = 0x100000000ull; /* min_complete is 32 bits: this is 0 */
	assert_false(ls_wait_is_loop(426, args, &wait));
	/* LT_WAIT_NRS, shared with BPF, holds libc's numbers */
	assert_int_equal(ls_wait_index(SYS_epoll_wait), LT_WAIT_EPOLL_WAIT);
	assert_int_equal(ls_wait_index(SYS_epoll_pwait), LT_WAIT_EPOLL_PWAIT);
	assert_int_equal(ls_wait_index(SYS_epoll_pwait2), LT_WAIT_EPOLL_PWAIT2);
	assert_int_equal(ls_wait_index(SYS_poll), LT_WAIT_POLL);
	assert_int_equal(ls_wait_index(SYS_ppoll), LT_WAIT_PPOLL);
	assert_int_equal(ls_wait_index(SYS_select), LT_WAIT_SELECT);
	assert_int_equal(ls_wait_index(SYS_pselect6), LT_WAIT_PSELECT6);
	assert_int_equal(ls_wait_index(SYS_io_uring_enter), LT_WAIT_IO_URING_ENTER);
	assert_int_equal(ls_wait_index(232), LT_WAIT_EPOLL_WAIT);
	assert_int_equal(ls_wait_index(441), LT_WAIT_EPOLL_PWAIT2);
	assert_int_equal(ls_wait_index(0), -1);
}

static void test_plan(void **state)
{
	struct ls_wait_plan p = {0};

	(void)state;
	/* nothing seen: every call, so the first loop is not missed */
	assert_int_equal(ls_wait_plan_want(&p, 0), LT_WAIT_ALL);
	p.seen = BIT(LT_WAIT_EPOLL_WAIT);
	assert_int_equal(ls_wait_plan_want(&p, 0), BIT(LT_WAIT_EPOLL_WAIT));
	/* a thread's call was unknown at 1 s: everything until 1.5 s */
	ls_wait_plan_learn(&p, LT_WAIT_ALL, 1000 * MS);
	assert_int_equal(ls_wait_plan_want(&p, 1000 * MS), LT_WAIT_ALL);
	assert_int_equal(ls_wait_plan_want(&p, 1499 * MS), LT_WAIT_ALL);
	p.seen |= BIT(LT_WAIT_POLL);
	assert_int_equal(ls_wait_plan_want(&p, 1500 * MS),
			 BIT(LT_WAIT_EPOLL_WAIT) | BIT(LT_WAIT_POLL));
	/* a target went at 2 s: what was hooked stays so while the rest show theirs */
	p.seen = 0;
	ls_wait_plan_learn(&p, BIT(LT_WAIT_EPOLL_WAIT) | BIT(LT_WAIT_POLL), 2000 * MS);
	p.seen = BIT(LT_WAIT_POLL);
	assert_int_equal(ls_wait_plan_want(&p, 2200 * MS),
			 BIT(LT_WAIT_EPOLL_WAIT) | BIT(LT_WAIT_POLL));
	/* windows that overlap add up, and the later one sets the end */
	ls_wait_plan_learn(&p, BIT(LT_WAIT_SELECT), 2300 * MS);
	assert_int_equal(ls_wait_plan_want(&p, 2700 * MS),
			 BIT(LT_WAIT_EPOLL_WAIT) | BIT(LT_WAIT_POLL) | BIT(LT_WAIT_SELECT));
	assert_int_equal(ls_wait_plan_want(&p, 2800 * MS), BIT(LT_WAIT_POLL));
	/* a window after one ended starts afresh */
	ls_wait_plan_learn(&p, BIT(LT_WAIT_PPOLL), 3000 * MS);
	assert_int_equal(ls_wait_plan_want(&p, 3000 * MS), BIT(LT_WAIT_POLL) | BIT(LT_WAIT_PPOLL));
	/* bits past the calls there are mean nothing */
	p.seen = 1u << 31;
	assert_int_equal(ls_wait_plan_want(&p, 9000 * MS), LT_WAIT_ALL);
	/* --all-waits */
	p.seen = BIT(LT_WAIT_POLL);
	p.all = true;
	assert_int_equal(ls_wait_plan_want(&p, 9000 * MS), LT_WAIT_ALL);
}

static void test_names(void **state)
{
	char buf[128], tiny[12];

	(void)state;
	assert_string_equal(
	    ls_wait_names(BIT(LT_WAIT_EPOLL_WAIT) | BIT(LT_WAIT_POLL), buf, sizeof(buf)),
	    "epoll_wait,poll");
	assert_string_equal(ls_wait_names(0, buf, sizeof(buf)), "");
	assert_string_equal(ls_wait_names(LT_WAIT_ALL, buf, sizeof(buf)),
			    "epoll_wait,epoll_pwait,epoll_pwait2,poll,ppoll,select,pselect6,"
			    "io_uring_enter");
	/* too small: cut at a name, never overrun */
	assert_string_equal(ls_wait_names(LT_WAIT_ALL, tiny, sizeof(tiny)), "epoll_wait");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_proc_lines),
	    cmocka_unit_test(test_select_and_io_uring),
	    cmocka_unit_test(test_plan),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
