// SPDX-License-Identifier: BSD-2-Clause
/* What every subcommand of loopstall shares: its error line and its checks before attaching. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include "cli.h"
#include "procstat.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("loopstall: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *msg)
{
	cli_error("%s: %s (see 'loopstall %s --help')", cmd, msg, cmd);
	return 2;
}

int cli_preflight(pid_t pid)
{
	struct ls_procstat st;

	if (geteuid() != 0) {
		cli_error("must run as root (loading BPF programs needs CAP_BPF and CAP_PERFMON)");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		cli_error("this kernel has no BTF (/sys/kernel/btf/vmlinux is missing); "
			  "loopstall needs CONFIG_DEBUG_INFO_BTF=y");
		return -ENOTSUP;
	}
	if (pid && kill(pid, 0) && errno == ESRCH) {
		cli_error("pid %d: no such process", pid);
		return -ESRCH;
	}
	/* a kernel thread never enters user space: nothing to trace, nothing to unwind */
	if (pid && !ls_procstat_read("/proc", pid, &st) && ls_procstat_kthread(&st)) {
		cli_error("pid %d is a kernel thread (%s); only user-space processes can be traced",
			  pid, st.comm);
		return -EPERM;
	}
	return 0;
}
