/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_RECORD_ARGS_H
#define LOOPSTALL_RECORD_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LS_DEFAULT_THRESHOLD_NS (50ull * 1000 * 1000)
/* Stack copies are made in 512-byte chunks, up to the record's 32 KiB. */
#define LS_STACK_BYTES_MIN 512u
#define LS_STACK_BYTES_MAX 32768u

struct record_args {
	pid_t pid; /* -p; 0 when a command is given */
	pid_t tid; /* -t; 0: every thread */
	uint64_t threshold_ns;
	uint64_t duration_ns; /* 0: until the target exits or a signal */
	const char *output;   /* NULL: stdout */
	uint32_t stack_bytes; /* user stack copied per stack; 0: the agent's default */
	uint32_t ring_bytes;  /* kernel-to-agent ring buffer; 0: the agent's default */
	uint64_t max_line;    /* --max-line: bounded record lines; 0: as long as they are */
	bool no_stacks;
	bool all_waits; /* hook every wait call, not only those the target's loops use */
	char **command; /* after "--"; NULL with -p */
	bool verbose;
	bool help;
};

/*
 * Parse `loopstall record` arguments (argv[0] is "record"). On error returns
 * -EINVAL with one line (no newline) in err. Pure: no I/O.
 */
int record_args_parse(int argc, char **argv, struct record_args *args, char *err, size_t err_len);

#endif
