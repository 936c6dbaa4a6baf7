/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Well-formed UTF-8 (RFC 3629), for the two writers of JSON Lines records:
 * libprobe's (libprobe/src/jsonl.c) and the record module's (jsonout.c).
 * Header-only: libprobe includes it and links nothing of the record module
 * (cJSON has no place in a preloaded library). Names come from the traced
 * program and may hold any bytes: both pass valid sequences through and
 * write U+FFFD for the rest, so their records read the same.
 */
#ifndef LPROBE_UTF8_H
#define LPROBE_UTF8_H

#include <stddef.h>

/*
 * Length of the valid UTF-8 sequence at p (1..4), or 0: overlong forms,
 * UTF-16 surrogates and code points past U+10FFFF are not valid. Reads no
 * further than the first byte that is not a continuation byte, so never
 * past the string's terminating NUL.
 */
static inline size_t utf8_seq_len(const unsigned char *p)
{
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
		return 0;
	return n;
}

#endif
