// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A plugin that plugin_late.c loads with dlopen() only after the agent has
 * attached, from a copy it then deletes: the stall's stack must still name
 * these functions with file:line (test_stack_late_library.py).
 */
#include <unistd.h>

static volatile unsigned long sink;

__attribute__((noinline, noclone)) static int plugin_load_data(unsigned ms)
{
	int err = usleep(ms * 1000);

	sink += (unsigned long)err + 1;
	return err;
}

__attribute__((visibility("default"), noinline)) int plugin_block(unsigned ms)
{
	int err = plugin_load_data(ms);

	sink += (unsigned long)err + 2;
	return err;
}
