// SPDX-License-Identifier: BSD-2-Clause
#include <stddef.h>
#include "syscalls.h"

const char *ls_syscall_name(unsigned nr)
{
	if (nr >= ls_syscall_table_size)
		return NULL;
	return ls_syscall_table[nr];
}
