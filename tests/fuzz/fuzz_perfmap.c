// SPDX-License-Identifier: BSD-2-Clause
/*
 * /tmp/perf-PID.map text (perfmap.c) is written by the traced process.
 * Parse anything, look up addresses taken from the input and around every
 * entry, and check that what a lookup returns is a string inside the map.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "perfmap.h"

static void check_name(const char *name)
{
	/* a name is NUL-terminated and at most PERFMAP_MAX_NAME (1024) long */
	if (name && strnlen(name, 1025) > 1024)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ls_perfmap *m = ls_perfmap__parse((const char *)data, size);
	uint64_t addr;
	size_t i;

	if (!m)
		return 0;
	if (ls_perfmap__count(m) > size)
		abort(); /* at most one entry per line */
	check_name(ls_perfmap__lookup(m, 0));
	check_name(ls_perfmap__lookup(m, UINT64_MAX));
	/* every 8 bytes of the input as an address, and its neighbours */
	for (i = 0; i + 8 <= size && i < 512; i += 8) {
		memcpy(&addr, data + i, 8);
		check_name(ls_perfmap__lookup(m, addr));
		check_name(ls_perfmap__lookup(m, addr - 1));
		check_name(ls_perfmap__lookup(m, addr + 1));
	}
	ls_perfmap__free(m);
	ls_perfmap__free(NULL);
	return 0;
}
