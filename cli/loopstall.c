// SPDX-License-Identifier: BSD-2-Clause
/* The loopstall command: dispatches to its subcommands. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "procstat.h"

#ifndef LOOPSTALL_VERSION
#define LOOPSTALL_VERSION "unknown"
#endif

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("loopstall: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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

static void usage(FILE *f)
{
	fprintf(f,
		"usage: loopstall COMMAND [ARGS]\n"
		"  record   attach to a process (or start one) and write its loop stalls as JSON "
		"Lines\n"
		"  report   summarize a recording: stalls by cause, top culprits, worst stalls\n"
		"  doctor   explain a recording: a verdict and a remedy per culprit\n"
		"  top      a live view of a process's loop threads and their stalls\n"
		"  demo     run the bundled libev demo service under record and show its stalls\n"
		"  version  print the version\n"
		"'loopstall COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} commands[] = {
	    {"record", cmd_record}, {"demo", cmd_demo}, {"report", cmd_report},
	    {"doctor", cmd_doctor}, {"top", cmd_top},
	};
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("loopstall %s\n", LOOPSTALL_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	cli_error("unknown command '%s' (see 'loopstall --help')", argv[1]);
	return 2;
}
