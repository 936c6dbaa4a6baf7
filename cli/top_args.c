// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "duration.h"
#include "record_args.h"
#include "top_args.h"

int top_args_parse(int argc, char **argv, struct top_args *args, char *err, size_t err_len)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "threshold", required_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long v;
	int c;

	memset(args, 0, sizeof(*args));
	args->threshold_ns = LS_DEFAULT_THRESHOLD_NS;
	optind = 0; /* 0, not 1: glibc then also forgets a half-parsed cluster */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v <= 0 || v > INT_MAX) {
				snprintf(err, err_len, "invalid pid '%s'", optarg);
				return -EINVAL;
			}
			args->pid = (pid_t)v;
			break;
		case 'T':
			if (ls_parse_duration(optarg, &args->threshold_ns) || !args->threshold_ns) {
				snprintf(err, err_len,
					 "invalid duration '%s' for --threshold (use e.g. 50ms, 1.5s)",
					 optarg);
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
			snprintf(err, err_len, "option '%s' needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			if (optopt)
				snprintf(err, err_len, "unknown option '-%c'", optopt);
			else
				snprintf(err, err_len, "unknown option '%s'", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(err, err_len, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!args->pid) {
		snprintf(err, err_len, "nothing to watch: give -p PID");
		return -EINVAL;
	}
	return 0;
}
