// SPDX-License-Identifier: BSD-2-Clause
/* test_linetab's fixture, a second unit (linetab_fixture.c). */
#include "linetab_fixture.h"

long lf_other(long n)
{
	long acc = 1;

	while (n-- > 0)
		acc = lf_mix(acc, n) | 1;
	return acc;
}
