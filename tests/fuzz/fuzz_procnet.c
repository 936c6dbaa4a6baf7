// SPDX-License-Identifier: BSD-2-Clause
/*
 * Rows of /proc/PID/net/{tcp,tcp6,udp,udp6,unix} (fdtarget.c): the unix
 * table carries socket paths the traced process chose. The first byte picks
 * the parser and the output buffer sizes; the rest is the row.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fdtarget.h"

#define MAX_ROW 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long inode = 0;
	size_t out_len;
	char *row, *a, *b;
	uint8_t sel;

	if (!size || size > MAX_ROW)
		return 0;
	sel = data[0];
	/* rows come from fgets: NUL-terminated, possibly cut anywhere */
	row = malloc(size);
	if (!row)
		return 0;
	memcpy(row, data + 1, size - 1);
	row[size - 1] = '\0';
	/* small and odd output sizes: truncation must stay inside them */
	out_len = 1 + (sel >> 2) % 96;
	a = malloc(out_len);
	b = malloc(out_len);
	if (a && b) {
		switch (sel & 3) {
		case 0:
		case 1:
			if (!ls_parse_inet_row(row, sel & 1, &inode, a, out_len, b, out_len) &&
			    (strnlen(a, out_len) == out_len || strnlen(b, out_len) == out_len))
				abort();
			break;
		default:
			if (!ls_parse_unix_row(row, &inode, a, out_len) &&
			    strnlen(a, out_len) == out_len)
				abort();
			if (ls_parse_unix_row(row, &inode, a, 0) != -22)
				abort(); /* no room at all is an error, not a write */
			break;
		}
	}
	free(a);
	free(b);
	free(row);
	return 0;
}
