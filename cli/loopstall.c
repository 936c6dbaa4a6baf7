// SPDX-License-Identifier: BSD-2-Clause
/* The loopstall command: dispatches to its subcommands. */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "commands.h"

#ifndef LOOPSTALL_VERSION
#define LOOPSTALL_VERSION "unknown"
#endif

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
