// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <sys/mount.h>
#include <unistd.h>
#include "tracefs.h"

int ls_tracefs_ensure(void)
{
	/* libbpf looks in debugfs' tracing dir first, then in tracefs itself */
	if (!access("/sys/kernel/debug/tracing/events/syscalls", F_OK) ||
	    !access("/sys/kernel/tracing/events/syscalls", F_OK))
		return 0;
	if (!access("/sys/kernel/debug/tracing", F_OK))
		return -ENOENT; /* debugfs tracing without syscall events: not ours to fix */
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) && errno != EBUSY)
		return -errno;
	if (access("/sys/kernel/tracing/events/syscalls", F_OK))
		return -ENOENT; /* kernel built without CONFIG_FTRACE_SYSCALLS */
	return 0;
}
