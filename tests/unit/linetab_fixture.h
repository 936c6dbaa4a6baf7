/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LINETAB_FIXTURE_H
#define LINETAB_FIXTURE_H

/* inlined into its callers: call sites name this file (DW_AT_call_file) */
static inline long lf_mix(long acc, long i)
{
	return (acc ^ i) * 31 + (i >> 3);
}

long lf_other(long n);

#endif
