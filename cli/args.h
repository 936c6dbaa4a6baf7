/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_ARGS_H
#define LOOPSTALL_ARGS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What the subcommands' option parsers (record_args.c, report_args.c, top_args.c) share. */

/* Ready getopt_long for a parse of a new command line, its errors left to args_getopt_error. */
void args_getopt_reset(void);
/* A process or thread id (what: "pid", "thread id"), 1 to INT_MAX; -EINVAL with err. */
int args_id(const char *what, const char *text, pid_t *out, char *err, size_t err_len);
/* The value of a duration option (--NAME), more than 0; -EINVAL with err. */
int args_duration(const char *option, const char *text, uint64_t *ns, char *err, size_t err_len);
/* An argument echoed in an error message: one line, whatever it holds (into buf). */
const char *args_printable(const char *arg, char *buf, size_t len);
/*
 * getopt_long's complaint c (':' a value missing, else an unknown option)
 * as one line into err, naming the option as the user typed it. Returns
 * -EINVAL.
 */
int args_getopt_error(int c, char *const *argv, char *err, size_t err_len);

#endif
