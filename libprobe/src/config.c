// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "runtime.h"

void lpi_config_defaults(struct lpi_config *c)
{
	memset(c, 0, sizeof(*c));
	c->heartbeat_ns = LPI_DEFAULT_HEARTBEAT_MS * 1000000ull;
	c->threshold_ns = LPI_DEFAULT_THRESHOLD_MS * 1000000ull;
	c->ring_len = LPI_DEFAULT_RING;
	c->max_loops = LPI_DEFAULT_MAX_LOOPS;
	c->shm = true;
	c->auto_attach = true;
}

int lpi_parse_uint(const char *s, uint32_t max, uint32_t *out)
{
	unsigned long long v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max)
			return -ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

int lpi_expand_path(const char *pattern, int pid, char *out, unsigned long len)
{
	unsigned long n = 0;
	int w;

	for (; *pattern; pattern++) {
		if (pattern[0] == '%' && (pattern[1] == 'p' || pattern[1] == '%')) {
			if (pattern[1] == 'p')
				w = snprintf(out + n, len - n, "%d", pid);
			else
				w = snprintf(out + n, len - n, "%%");
			pattern++;
			if (w < 0 || (unsigned long)w >= len - n)
				return -ENAMETOOLONG;
			n += (unsigned long)w;
			continue;
		}
		if (n + 1 >= len)
			return -ENAMETOOLONG;
		out[n++] = *pattern;
	}
	if (n >= len)
		return -ENAMETOOLONG;
	out[n] = '\0';
	return 0;
}

unsigned int lpi_config_from_env(struct lpi_config *c, char *(*get)(const char *name))
{
	unsigned int bad = 0;
	const char *s;
	uint32_t v;

	s = get("LPROBE_HEARTBEAT_MS");
	if (s) {
		if (!lpi_parse_uint(s, LPI_MAX_MS, &v))
			c->heartbeat_ns = v * 1000000ull;
		else
			bad |= 1u << 0;
	}
	s = get("LPROBE_THRESHOLD_MS");
	if (s) {
		if (!lpi_parse_uint(s, LPI_MAX_MS, &v) && v > 0)
			c->threshold_ns = v * 1000000ull;
		else
			bad |= 1u << 1;
	}
	s = get("LPROBE_RING");
	if (s) {
		/* a power of two, so an index masks into the ring */
		if (!lpi_parse_uint(s, 65536, &v) && v >= 64 && !(v & (v - 1)))
			c->ring_len = v;
		else
			bad |= 1u << 2;
	}
	s = get("LPROBE_MAX_LOOPS");
	if (s) {
		if (!lpi_parse_uint(s, 64, &v) && v > 0)
			c->max_loops = v;
		else
			bad |= 1u << 3;
	}
	s = get("LPROBE_SHM");
	if (s)
		c->shm = strcmp(s, "0") != 0;
	s = get("LPROBE_ATTACH");
	if (s)
		c->auto_attach = strcmp(s, "0") != 0;
	s = get("LPROBE_OUTPUT");
	if (s && *s) {
		if (strlen(s) < sizeof(c->output)) {
			strcpy(c->output, s);
			c->output_gen++;
		} else {
			bad |= 1u << 4;
		}
	}
	return bad;
}
