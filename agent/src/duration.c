// SPDX-License-Identifier: BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "duration.h"

int ls_parse_duration(const char *text, uint64_t *ns)
{
	static const struct {
		const char *suffix;
		double scale;
	} units[] = {
	    {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"", 1e6},
	};
	double value, scaled;
	char *end;
	size_t i;

	if (!text || !*text || isspace((unsigned char)*text))
		return -EINVAL;
	/* strtod would also take "inf", "nan" and hex; only plain decimals are durations */
	if (!isdigit((unsigned char)text[0]) && text[0] != '.')
		return -EINVAL;
	for (i = 0; text[i] && (isdigit((unsigned char)text[i]) || text[i] == '.'); i++)
		;
	errno = 0;
	value = strtod(text, &end);
	if (end == text || end != text + i)
		return -EINVAL;
	if (errno == ERANGE && value > 1.0)
		return -ERANGE;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		scaled = value * units[i].scale;
		if (!isfinite(scaled) || scaled >= 18446744073709551615.0)
			return -ERANGE;
		*ns = (uint64_t)(scaled + 0.5);
		return 0;
	}
	return -EINVAL;
}
