/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_TOP_ARGS_H
#define LOOPSTALL_TOP_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct top_args {
	pid_t pid;
	uint64_t threshold_ns;
	bool verbose;
	bool help;
};

/*
 * Parse `loopstall top` arguments (argv[0] "top"). On error returns -EINVAL
 * with one line (no newline) in err. Pure: no I/O.
 */
int top_args_parse(int argc, char **argv, struct top_args *args, char *err, size_t err_len);

#endif
