// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_linetab's fixture: built with -gdwarf-3 and -gdwarf-4 (older line
 * table headers than the DWARF 5 the project is built with), with
 * functions inlined from a header, a cold split part and several units.
 */
#include <stdio.h>
#include <stdlib.h>
#include "linetab_fixture.h"

static __attribute__((noinline)) long spin(long n)
{
	long acc = 0, i;

	for (i = 0; i < n; i++)
		acc += lf_mix(acc, i);
	if (acc == 42)
		/* unlikely: gcc moves it to a .text.unlikely part, a second range */
		abort();
	return acc;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10;

	printf("%ld %ld\n", spin(n), lf_other(n));
	return 0;
}
