// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static int parse_id(const char *text, pid_t *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v <= 0 || v > INT_MAX)
		return -EINVAL;
	*out = (pid_t)v;
	return 0;
}

#define SHORT_OPTS "+:p:t:o:vh"

/*
 * Whether optopt, after a missing value, names a short option the user
 * typed: for a long option it holds that option's internal value instead.
 */
static bool is_short(int c)
{
	return c > 0 && c != ':' && c != '+' && strchr(SHORT_OPTS, c);
}

/* An argument echoed in an error message: one line, whatever it holds. */
static const char *printable(const char *arg, char *buf, size_t len)
{
	size_t i;

	for (i = 0; arg[i] && i + 1 < len; i++)
		buf[i] = (unsigned char)arg[i] < 0x20 || arg[i] == 0x7f ? '?' : arg[i];
	buf[i] = '\0';
	return buf;
}

#define P(arg) printable((arg), shown, sizeof(shown))

int record_args_parse(int argc, char **argv, struct record_args *args, char *err, size_t err_len)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "tid", required_argument, NULL, 't' },
		{ "threshold", required_argument, NULL, 'T' },
		{ "duration", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "stack-bytes", required_argument, NULL, 'S' },
		{ "no-stacks", no_argument, NULL, 'N' },
		{ "all-waits", no_argument, NULL, 'W' },
		{ "ring-size", required_argument, NULL, 'R' },
		{ "max-line", required_argument, NULL, 'L' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char shown[128];
	int c;

	memset(args, 0, sizeof(*args));
	args->threshold_ns = LS_DEFAULT_THRESHOLD_NS;
	/* '+' stops at the first non-option, so the command's own flags stay its own */
	optind = 0; /* 0, not 1: glibc then also forgets a half-parsed "-hv" cluster */
	opterr = 0;
	while ((c = getopt_long(argc, argv, SHORT_OPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_id(optarg, &args->pid)) {
				snprintf(err, err_len, "invalid pid '%s'", P(optarg));
				return -EINVAL;
			}
			break;
		case 't':
			if (parse_id(optarg, &args->tid)) {
				snprintf(err, err_len, "invalid thread id '%s'", P(optarg));
				return -EINVAL;
			}
			break;
		case 'T':
		case 'd': {
			uint64_t *dst = c == 'T' ? &args->threshold_ns : &args->duration_ns;

			if (ls_parse_duration(optarg, dst) || *dst == 0) {
				snprintf(err, err_len,
					 "invalid duration '%s' for --%s (use e.g. 50ms, 1.5s, 2m)",
					 P(optarg), c == 'T' ? "threshold" : "duration");
				return -EINVAL;
			}
			break;
		}
		case 'o':
			args->output = optarg;
			break;
		case 'S':
			if (parse_stack_bytes(optarg, &args->stack_bytes)) {
				snprintf(err, err_len,
					 "invalid --stack-bytes '%s' (a multiple of 512 from 512 to 32k)",
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
			if (ls_parse_size(optarg, &args->max_line) || args->max_line < LS_BOUND_MIN ||
			    args->max_line > (64ull << 20)) {
				snprintf(err, err_len,
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
		case ':':
			if (is_short(optopt))
				snprintf(err, err_len, "option '-%c' needs a value", optopt);
			else
				snprintf(err, err_len, "option '%s' needs a value", P(argv[optind - 1]));
			return -EINVAL;
		default:
			/* inside a cluster ("-xv") optind has not moved: name the letter */
			if (optopt)
				snprintf(err, err_len, "unknown option '-%c'", optopt);
			else
				snprintf(err, err_len, "unknown option '%s'", P(argv[optind - 1]));
			return -EINVAL;
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
