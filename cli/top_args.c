// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "duration.h"
#include "record_args.h"
#include "top_args.h"

int top_args_parse(int argc, char **argv, struct top_args *args, char *err, size_t err_len)
{
	static const struct option longopts[] = {
	    {"pid", required_argument, NULL, 'p'},
	    {"threshold", required_argument, NULL, 'T'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	memset(args, 0, sizeof(*args));
	args->threshold_ns = LS_DEFAULT_THRESHOLD_NS;
	args_getopt_reset();
	while ((c = getopt_long(argc, argv, ":p:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (args_id("pid", optarg, &args->pid, err, err_len))
				return -EINVAL;
			break;
		case 'T':
			if (args_duration("threshold", optarg, &args->threshold_ns, err, err_len))
				return -EINVAL;
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
		snprintf(err, err_len, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!args->pid) {
		snprintf(err, err_len, "nothing to watch: give -p PID");
		return -EINVAL;
	}
	return 0;
}
