// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "bound.h"
#include "duration.h"
#include "record_args.h"
#include "size.h"

/* "16384", "16k", "16K": a size in bytes, a multiple of the copy chunk. */
static int parse_stack_bytes(const char *text, uint32_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || text[0] == '-')
		return -EINVAL;
	if (*end == 'k' || *end == 'K') {
		v *= 1024;
		end++;
	}
	if (*end || v < LS_STACK_BYTES_MIN || v > LS_STACK_BYTES_MAX || v % LS_STACK_BYTES_MIN)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

#define P(arg) args_printable((arg), shown, sizeof(shown))

int record_args_parse(int argc, char **argv, struct record_args *args, char *err, size_t err_len)
{
	static const struct option longopts[] = {
	    {"pid", required_argument, NULL, 'p'},
	    {"tid", required_argument, NULL, 't'},
	    {"threshold", required_argument, NULL, 'T'},
	    {"duration", required_argument, NULL, 'd'},
	    {"output", required_argument, NULL, 'o'},
	    {"stack-bytes", required_argument, NULL, 'S'},
	    {"no-stacks", no_argument, NULL, 'N'},
	    {"all-waits", no_argument, NULL, 'W'},
	    {"ring-size", required_argument, NULL, 'R'},
	    {"max-line", required_argument, NULL, 'L'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char shown[128];
	int c;

	memset(args, 0, sizeof(*args));
	args->threshold_ns = LS_DEFAULT_THRESHOLD_NS;
	/* '+' stops at the first non-option, so the command's own flags stay its own */
	args_getopt_reset();
	while ((c = getopt_long(argc, argv, "+:p:t:o:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (args_id("pid", optarg, &args->pid, err, err_len))
				return -EINVAL;
			break;
		case 't':
			if (args_id("thread id", optarg, &args->tid, err, err_len))
				return -EINVAL;
			break;
		case 'T':
			if (args_duration("threshold", optarg, &args->threshold_ns, err, err_len))
				return -EINVAL;
			break;
		case 'd':
			if (args_duration("duration", optarg, &args->duration_ns, err, err_len))
				return -EINVAL;
			break;
		case 'o':
			args->output = optarg;
			break;
		case 'S':
			if (parse_stack_bytes(optarg, &args->stack_bytes)) {
				snprintf(err, err_len,
					 "invalid --stack-bytes '%s' (a multiple of 512 from 512 "
					 "to 32k)",
					 P(optarg));
				return -EINVAL;
			}
			break;
		case 'N':
			args->no_stacks = true;
			break;
		case 'W':
			args->all_waits = true;
			break;
		case 'R':
			if (ls_parse_ring_size(optarg, &args->ring_bytes)) {
				snprintf(err, err_len,
					 "invalid --ring-size '%s' (a power of two from 4K to 1G, "
					 "e.g. 256K, 4M)",
					 P(optarg));
				return -EINVAL;
			}
			break;
		case 'L':
			if (ls_parse_size(optarg, &args->max_line) ||
			    args->max_line < LS_BOUND_MIN || args->max_line > (64ull << 20)) {
				snprintf(
				    err, err_len,
				    "invalid --max-line '%s' (a size from 1K to 64M, e.g. 16K)",
				    P(optarg));
				return -EINVAL;
			}
			break;
		case 'v':
			args->verbose = true;
			break;
		case 'h':
			args->help = true;
			return 0;
		default:
			return args_getopt_error(c, argv, err, err_len);
		}
	}
	if (optind < argc) {
		/* getopt permutes nothing with '+': a leftover must follow "--" */
		if (strcmp(argv[optind - 1], "--")) {
			snprintf(err, err_len, "unexpected argument '%s' (a command goes after --)",
				 P(argv[optind]));
			return -EINVAL;
		}
		args->command = &argv[optind];
	}
	if (args->pid && args->command) {
		snprintf(err, err_len, "give either -p PID or -- COMMAND, not both");
		return -EINVAL;
	}
	if (!args->pid && !args->command) {
		snprintf(err, err_len, "nothing to record: give -p PID or -- COMMAND");
		return -EINVAL;
	}
	if (args->tid && !args->pid) {
		snprintf(err, err_len, "-t TID needs -p PID");
		return -EINVAL;
	}
	return 0;
}
