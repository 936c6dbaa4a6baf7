// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report_args.h"

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
		{ "format", required_argument, NULL, 'f' },
		{ "top", required_argument, NULL, 'n' },
		{ "width", required_argument, NULL, 'w' },
		{ "color", required_argument, NULL, 'c' },
		{ "colour", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, color;

	memset(args, 0, sizeof(*args));
	args->top = doctor ? DOCTOR_DEFAULT_TOP : REPORT_DEFAULT_TOP;
	optind = 0; /* 0, not 1: glibc then also forgets a half-parsed cluster */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (doctor) {
				snprintf(err, err_len, "unknown option '%s'", argv[optind - 1]);
				return -EINVAL;
			}
			if (parse_format(optarg, &args->format)) {
				snprintf(err, err_len,
					 "unknown format '%s' (text, json, folded or markdown)", optarg);
				return -EINVAL;
			}
			break;
		case 'n':
			if (parse_int(optarg, 1, 100000, &args->top)) {
				snprintf(err, err_len, "invalid --top '%s' (a number from 1)", optarg);
				return -EINVAL;
			}
			break;
		case 'w':
			if (parse_int(optarg, OUT_MIN_WIDTH, OUT_MAX_WIDTH, &args->width)) {
				snprintf(err, err_len, "invalid --width '%s' (%d to %d columns)", optarg,
					 OUT_MIN_WIDTH, OUT_MAX_WIDTH);
				return -EINVAL;
			}
			break;
		case 'c':
			color = out_parse_color(optarg);
			if (color < 0) {
				snprintf(err, err_len, "invalid --color '%s' (auto, always or never)",
					 optarg);
				return -EINVAL;
			}
			args->color = (enum out_color)color;
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
	if (optind >= argc) {
		snprintf(err, err_len, "no FILE given (a JSON Lines file from 'loopstall record')");
		return -EINVAL;
	}
	if (optind + 1 < argc) {
		snprintf(err, err_len, "unexpected argument '%s' (one FILE at a time)",
			 argv[optind + 1]);
		return -EINVAL;
	}
	args->file = argv[optind];
	return 0;
}
