// SPDX-License-Identifier: BSD-2-Clause
/* The generated syscall-name table (what each call waits for: test_syscall_class.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <cmocka.h>
#include "syscalls.h"

static void test_names(void **state)
{
	(void)state;
	/* x86_64 numbers, as the BPF side reports them in orig_ax */
	assert_string_equal(ls_syscall_name(0), "read");
	assert_string_equal(ls_syscall_name(1), "write");
	assert_string_equal(ls_syscall_name(202), "futex");
	assert_string_equal(ls_syscall_name(230), "clock_nanosleep");
	assert_string_equal(ls_syscall_name(232), "epoll_wait");
	/* the table follows the build machine's headers */
	assert_string_equal(ls_syscall_name(SYS_nanosleep), "nanosleep");
	assert_string_equal(ls_syscall_name(SYS_epoll_pwait), "epoll_pwait");
	assert_string_equal(ls_syscall_name(SYS_io_uring_enter), "io_uring_enter");
}

static void test_unknown_numbers(void **state)
{
	(void)state;
	assert_null(ls_syscall_name(ls_syscall_table_size));
	assert_null(ls_syscall_name(ls_syscall_table_size + 1000));
	assert_null(ls_syscall_name(0xffff));
	assert_null(ls_syscall_name(0xfffe));
	assert_null(ls_syscall_name((unsigned)-1));
	/* x86_64 leaves 335..423 unassigned: holes in the table are NULL too */
	assert_null(ls_syscall_name(400));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_unknown_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
