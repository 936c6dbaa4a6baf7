// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "duration.h"

void args_getopt_reset(void)
{
	optind = 0; /* 0, not 1: glibc then also forgets a half-parsed "-hv" cluster */
	opterr = 0;
}

int args_id(const char *what, const char *text, pid_t *out, char *err, size_t err_len)
{
	char shown[128];
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v <= 0 || v > INT_MAX) {
		snprintf(err, err_len, "invalid %s '%s'", what,
			 args_printable(text, shown, sizeof(shown)));
		return -EINVAL;
	}
	*out = (pid_t)v;
	return 0;
}

int args_duration(const char *option, const char *text, uint64_t *ns, char *err, size_t err_len)
{
	char shown[128];

	if (!ls_parse_duration(text, ns) && *ns)
		return 0;
	snprintf(err, err_len, "invalid duration '%s' for --%s (use e.g. 50ms, 1.5s, 2m)",
		 args_printable(text, shown, sizeof(shown)), option);
	return -EINVAL;
}

const char *args_printable(const char *arg, char *buf, size_t len)
{
	size_t i;

	for (i = 0; arg[i] && i + 1 < len; i++)
		buf[i] = (unsigned char)arg[i] < 0x20 || arg[i] == 0x7f ? '?' : arg[i];
	buf[i] = '\0';
	return buf;
}

int args_getopt_error(int c, char *const *argv, char *err, size_t err_len)
{
	const char *last = argv[optind - 1];
	char shown[128];

	/* a value is missing at the end: of "--name", or of the last letter of "-p"/"-vp" */
	if (c == ':' && !strncmp(last, "--", 2))
		snprintf(err, err_len, "option '%s' needs a value",
			 args_printable(last, shown, sizeof(shown)));
	else if (c == ':')
		snprintf(err, err_len, "option '-%c' needs a value", optopt);
	/* inside a cluster ("-xv") optind has not moved: name the letter */
	else if (optopt)
		snprintf(err, err_len, "unknown option '-%c'", optopt);
	else
		snprintf(err, err_len, "unknown option '%s'",
			 args_printable(last, shown, sizeof(shown)));
	return -EINVAL;
}
