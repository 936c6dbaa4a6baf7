// SPDX-License-Identifier: BSD-2-Clause
#include <string.h>
#include "syscalls.h"

const char *ls_syscall_name(unsigned nr)
{
	if (nr >= ls_syscall_table_size)
		return NULL;
	return ls_syscall_table[nr];
}

static bool name_in(unsigned nr, const char *const *names)
{
	const char *name = ls_syscall_name(nr);

	if (!name)
		return false;
	for (; *names; names++)
		if (!strcmp(name, *names))
			return true;
	return false;
}

bool ls_syscall_is_lock_wait(unsigned nr)
{
	/* by name, so the list holds on every architecture's numbering */
	static const char *const locks[] = {"futex",	  "futex_waitv", "flock", "semop",
					    "semtimedop", "msgrcv",	 NULL};

	return name_in(nr, locks);
}

bool ls_syscall_is_sleep(unsigned nr)
{
	static const char *const sleeps[] = {"nanosleep", "clock_nanosleep", "pause", NULL};

	return name_in(nr, sleeps);
}
