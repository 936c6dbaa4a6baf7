// SPDX-License-Identifier: BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "agent.h"
#include "size.h"

int ls_parse_size(const char *text, uint64_t *bytes)
{
	unsigned long long n, mult = 1;
	char *end;

	if (!isdigit((unsigned char)*text))
		return -EINVAL;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno)
		return -ERANGE;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K':
			mult = 1ull << 10;
			break;
		case 'M':
			mult = 1ull << 20;
			break;
		case 'G':
			mult = 1ull << 30;
			break;
		default:
			return -EINVAL;
		}
		end++;
		/* "16M", "16MB", "16MiB" all mean the same */
		if (!strcasecmp(end, "b") || !strcasecmp(end, "ib"))
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (n > UINT64_MAX / mult)
		return -ERANGE;
	*bytes = n * mult;
	return 0;
}

int ls_parse_ring_size(const char *text, uint32_t *bytes)
{
	uint64_t n;

	if (ls_parse_size(text, &n) || n < LS_RING_BYTES_MIN || n > LS_RING_BYTES_MAX ||
	    (n & (n - 1)))
		return -EINVAL;
	*bytes = (uint32_t)n;
	return 0;
}
