/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_CLI_H
#define LOOPSTALL_CLI_H

/* One line on stderr, prefixed "loopstall: ". */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_record(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_top(int argc, char **argv);

#endif
