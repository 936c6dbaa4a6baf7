// SPDX-License-Identifier: BSD-2-Clause
#include <time.h>
#include "clock.h"

static uint64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t ls_now_ns(void)
{
	return read_ns(CLOCK_MONOTONIC);
}

int64_t ls_mono_to_unix_ns(uint64_t mono_ns)
{
	/*
	 * One offset for the whole run, so records about the same stall
	 * (stall_begin, stall) carry the same start_unix_ns.
	 */
	static int64_t offset;

	if (!offset)
		offset = (int64_t)read_ns(CLOCK_REALTIME) - (int64_t)read_ns(CLOCK_MONOTONIC);
	return (int64_t)mono_ns + offset;
}
