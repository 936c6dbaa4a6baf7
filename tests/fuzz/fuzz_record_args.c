// SPDX-License-Identifier: BSD-2-Clause
/*
 * `loopstall record` argument parsing (record_args.c): the input, split at
 * NUL bytes, is argv after "record". Bad input must come back as -EINVAL
 * with one line of message (it may quote an argument: a newline in an
 * argument is the caller's); good input must make sense.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "record_args.h"

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_ARGS + 2], *copy, *p, err[256];
	struct record_args args;
	int argc = 0, ret;
	bool newline_given;

	if (size > 4096)
		return 0;
	copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[argc++] = "record";
	for (p = copy; p <= copy + size && argc < MAX_ARGS + 1; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	memset(err, 0, sizeof(err));
	ret = record_args_parse(argc, argv, &args, err, sizeof(err));
	newline_given = memchr(data, '\n', size) != NULL;
	if (ret) {
		if (ret != -EINVAL || !err[0] || (strchr(err, '\n') && !newline_given))
			abort();
	} else if (!args.help) {
		/* a command or a pid, never both or neither; a thread only with a pid */
		if (!args.pid == !args.command || (args.tid && !args.pid) || !args.threshold_ns)
			abort();
		if (args.stack_bytes && (args.stack_bytes < LS_STACK_BYTES_MIN ||
					 args.stack_bytes > LS_STACK_BYTES_MAX))
			abort();
	}
	free(copy);
	return 0;
}
