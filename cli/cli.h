/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_CLI_H
#define LOOPSTALL_CLI_H

#include <sys/types.h>

/* What the subcommands share (cli.c); their entry points are commands.h. */

/* One line on stderr, prefixed "loopstall: ". */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A command line cmd cannot parse (msg: why), one line on stderr; returns 2, the exit code. */
int cli_usage_error(const char *cmd, const char *msg);
/*
 * What `record` and `top` check before loading anything, each failure one
 * line on stderr: root, BTF, and that pid (0: none yet) is a live process
 * with a user space. 0 or -errno.
 */
int cli_preflight(pid_t pid);

#endif
