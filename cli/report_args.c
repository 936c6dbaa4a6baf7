// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "args.h"
#include "report_args.h"
#include "report_filter.h"

static int parse_int(const char *text, int lo, int hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < lo || v > hi)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int parse_format(const char *text, enum report_format *out)
{
	static const char *const names[] = {
	    [REPORT_TEXT] = "text",
	    [REPORT_JSON] = "json",
	    [REPORT_FOLDED] = "folded",
	    [REPORT_MARKDOWN] = "markdown",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(text, names[i])) {
			*out = (enum report_format)i;
			return 0;
		}
	/* "md" is what people type */
	if (!strcmp(text, "md")) {
		*out = REPORT_MARKDOWN;
		return 0;
	}
	return -EINVAL;
}

int report_args_parse(int argc, char **argv, bool doctor, struct report_args *args, char *err,
		      size_t err_len)
{
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"top", required_argument, NULL, 'n'},
	    {"width", required_argument, NULL, 'w'},
	    {"color", required_argument, NULL, 'c'},
	    {"colour", required_argument, NULL, 'c'},
	    {"since", required_argument, NULL, 'S'},
	    {"until", required_argument, NULL, 'U'},
	    {"pid", required_argument, NULL, 'p'},
	    {"target", required_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct rf_filter filter;
	struct timespec now;
	int c, color, i;
	pid_t pid;

	memset(args, 0, sizeof(*args));
	args->top = doctor ? DOCTOR_DEFAULT_TOP : REPORT_DEFAULT_TOP;
	args_getopt_reset();
	while ((c = getopt_long(argc, argv, ":f:n:p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'S':
			args->since = optarg;
			break;
		case 'U':
			args->until = optarg;
			break;
		case 'p':
			if (args_id("--pid", optarg, &pid, err, err_len))
				return -EINVAL;
			args->pid = (uint32_t)pid;
			break;
		case 'T':
			if (!*optarg) {
				snprintf(err, err_len,
					 "empty --target (a target's name, or its comm)");
				return -EINVAL;
			}
			args->target = optarg;
			break;
		case 'f':
			if (doctor) {
				snprintf(err, err_len, "unknown option '%s'", argv[optind - 1]);
				return -EINVAL;
			}
			if (parse_format(optarg, &args->format)) {
				snprintf(err, err_len,
					 "unknown format '%s' (text, json, folded or markdown)",
					 optarg);
				return -EINVAL;
			}
			break;
		case 'n':
			if (parse_int(optarg, 1, 100000, &args->top)) {
				snprintf(err, err_len, "invalid --top '%s' (a number from 1)",
					 optarg);
				return -EINVAL;
			}
			break;
		case 'w':
			if (parse_int(optarg, OUT_MIN_WIDTH, OUT_MAX_WIDTH, &args->width)) {
				snprintf(err, err_len, "invalid --width '%s' (%d to %d columns)",
					 optarg, OUT_MIN_WIDTH, OUT_MAX_WIDTH);
				return -EINVAL;
			}
			break;
		case 'c':
			color = out_parse_color(optarg);
			if (color < 0) {
				snprintf(err, err_len,
					 "invalid --color '%s' (auto, always or never)", optarg);
				return -EINVAL;
			}
			args->color = (enum out_color)color;
			break;
		case 'h':
			args->help = true;
			return 0;
		default:
			return args_getopt_error(c, argv, err, err_len);
		}
	}
	if (optind >= argc) {
		snprintf(err, err_len, "no FILE given (a JSON Lines file from 'loopstall record')");
		return -EINVAL;
	}
	for (i = optind; i < argc && argc - optind > 1; i++)
		if (!strcmp(argv[i], "-")) {
			snprintf(err, err_len, "'-' (stdin) cannot be read with other files");
			return -EINVAL;
		}
	args->file = argv[optind];
	args->files = &argv[optind];
	args->n_files = (size_t)(argc - optind);
	/* a time that does not parse is bad input now, not once the files are read */
	clock_gettime(CLOCK_REALTIME, &now);
	return report_args_filter(args, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, &filter,
				  err, err_len);
}

/* --since or --until (option), when given: text as unix ns into *out; -EINVAL with err when bad. */
static int parse_bound(const char *option, const char *text, int64_t now_unix_ns, int64_t *out,
		       char *err, size_t err_len)
{
	if (!text || !report_parse_when(text, now_unix_ns, out))
		return 0;
	snprintf(
	    err, err_len,
	    "invalid --%s '%s' (a duration ago like 5m or 2h, an RFC 3339 time, or a unix time)",
	    option, text);
	return -EINVAL;
}

int report_args_filter(const struct report_args *args, int64_t now_unix_ns,
		       struct rf_filter *filter, char *err, size_t err_len)
{
	memset(filter, 0, sizeof(*filter));
	filter->pid = args->pid;
	filter->target = args->target;
	if (parse_bound("since", args->since, now_unix_ns, &filter->since_unix_ns, err, err_len) ||
	    parse_bound("until", args->until, now_unix_ns, &filter->until_unix_ns, err, err_len))
		return -EINVAL;
	if (filter->since_unix_ns && filter->until_unix_ns &&
	    filter->since_unix_ns >= filter->until_unix_ns) {
		snprintf(err, err_len, "--since '%s' is not before --until '%s'", args->since,
			 args->until);
		return -EINVAL;
	}
	return 0;
}
