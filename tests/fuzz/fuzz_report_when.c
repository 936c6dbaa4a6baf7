// SPDX-License-Identifier: BSD-2-Clause
/*
 * Times for report --since/--until (report_filter.c) as people type them,
 * and /proc/PID/status's NSpid line (perfmap.c), which a process cannot
 * forge but whose parser is fed bytes: a clean accept or refuse, accepted
 * values in range.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "perfmap.h"
#include "report_filter.h"

#define NOW 1796667600000000000ll

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	int64_t t = -1;
	pid_t pid = -1;
	int err;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	err = report_parse_when(text, NOW, &t);
	if (err && err != -EINVAL)
		abort();
	if (!err && t < 0)
		abort();
	err = ls_perfmap__nspid((const char *)data, size, &pid);
	if (err && err != -EINVAL)
		abort();
	if (!err && pid < 1)
		abort();
	free(text);
	return 0;
}
