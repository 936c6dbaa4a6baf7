/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_COMMANDS_H
#define LOOPSTALL_COMMANDS_H

/*
 * loopstall's subcommands, which loopstall.c dispatches to, each in its own
 * file: argv[0] is the subcommand's name; the return value is the exit code.
 */
int cmd_record(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_top(int argc, char **argv);

#endif
