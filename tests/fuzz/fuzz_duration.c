// SPDX-License-Identifier: BSD-2-Clause
/*
 * Durations (duration.c) as users type them: --threshold, --duration,
 * loopstalld's config. Anything in, a clean accept or refuse out; accepted
 * values obey the units.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "duration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *unit;
	uint64_t ns = 0, ms = 0;
	int err;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	err = ls_parse_duration(text, &ns);
	if (err && err != -EINVAL && err != -ERANGE)
		abort();
	/* a bare number is milliseconds: "N" and "Nms" agree */
	if (!err && size < 64 && !memchr(data, 0, size) && size &&
	    (text[size - 1] >= '0' && text[size - 1] <= '9')) {
		unit = malloc(size + 3);
		if (unit) {
			memcpy(unit, text, size);
			memcpy(unit + size, "ms", 3);
			if (ls_parse_duration(unit, &ms) || ms != ns)
				abort();
			free(unit);
		}
	}
	free(text);
	return 0;
}
