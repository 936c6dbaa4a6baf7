// SPDX-License-Identifier: BSD-2-Clause
/*
 * What building a module's symbol index costs the agent (unwind.c
 * symindex_get), both ways: dwfl_module_getsym_info per symbol (the loop
 * it falls back to) and the raw table read (symraw_dw.h), each followed by
 * the index's sort; and each way's walk alone (a counting callback; the
 * round's first touch of the table's pages goes to the way that walks
 * first). Timed in this thread's CPU time, after libdwfl loaded the table
 * (timed apart: both ways pay it), on a fresh Dwfl per round, the two ways
 * in alternating order; medians.
 *
 *     build/tests/symraw_cost [FILE [ROUNDS]]
 *
 * FILE defaults to /usr/bin/python3.11, whose symbols libdwfl reads from
 * python3.11-dbg's file when it is installed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <elfutils/libdwfl.h>
#include "cpu_time.h"
#include "symindex.h"
#include "symraw_dw.h"

#define MAX_ROUNDS 1000

static int index_add(void *x, uint64_t value, uint64_t size, const char *name)
{
	return ls_symindex__add(x, value, size, name);
}

static int count(void *n, uint64_t value, uint64_t size, const char *name)
{
	(void)value, (void)size, (void)name;
	++*(size_t *)n;
	return 0;
}

/* One way's walk alone, then its index, sealed: their CPU times, or 0 with a message. */
static uint64_t build(Dwfl_Module *mod, bool raw, uint64_t *walk)
{
	struct ls_symindex *x = ls_symindex__new();
	uint64_t t0, t;
	size_t n = 0;
	int err;

	if (!x)
		return 0;
	t0 = bench_cpu_ns();
	err = raw ? ls_symraw__module(mod, count, &n) : ls_symraw__module_each(mod, count, &n);
	*walk = bench_cpu_ns() - t0;
	t0 = bench_cpu_ns();
	if (!err)
		err = raw ? ls_symraw__module(mod, index_add, x)
			  : ls_symraw__module_each(mod, index_add, x);
	if (!err)
		err = ls_symindex__seal(x);
	t = bench_cpu_ns() - t0;
	ls_symindex__free(x);
	if (err) {
		fprintf(stderr, "symraw_cost: %s: %s\n", raw ? "raw read" : "loop",
			err == -ENOTSUP ? "not a table the raw read takes" : strerror(-err));
		return 0;
	}
	return t;
}

int main(int argc, char **argv)
{
	static const Dwfl_Callbacks cb = {.find_elf = dwfl_build_id_find_elf,
					  .find_debuginfo = dwfl_standard_find_debuginfo,
					  .section_address = dwfl_offline_section_address};
	const char *file = argc > 1 ? argv[1] : "/usr/bin/python3.11";
	long rounds = argc > 2 ? strtol(argv[2], NULL, 10) : 50;
	static uint64_t load[MAX_ROUNDS], each[MAX_ROUNDS], raw[MAX_ROUNDS];
	static uint64_t each_walk[MAX_ROUNDS], raw_walk[MAX_ROUNDS];
	int r, n = 0;

	if (rounds <= 0 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: symraw_cost [FILE [ROUNDS (1-%d)]]\n", MAX_ROUNDS);
		return 2;
	}
	for (r = 0; r < rounds; r++) {
		Dwfl *dwfl = dwfl_begin(&cb);
		Dwfl_Module *mod = dwfl ? dwfl_report_elf(dwfl, file, file, -1, 0, false) : NULL;
		uint64_t t0;
		bool raw_first = r & 1;

		if (!mod) {
			fprintf(stderr, "symraw_cost: %s: %s\n", file, dwfl_errmsg(-1));
			dwfl_end(dwfl);
			return 1;
		}
		dwfl_report_end(dwfl, NULL, NULL);
		t0 = bench_cpu_ns();
		n = dwfl_module_getsymtab(mod);
		load[r] = bench_cpu_ns() - t0;
		if (raw_first)
			raw[r] = build(mod, true, &raw_walk[r]);
		each[r] = build(mod, false, &each_walk[r]);
		if (!raw_first)
			raw[r] = build(mod, true, &raw_walk[r]);
		dwfl_end(dwfl);
		if (!each[r] || !raw[r])
			return 1;
	}
	printf("%s: %d symbols in libdwfl's table, %ld rounds, medians of CPU time\n", file, n,
	       rounds);
	printf("  libdwfl loads the table:          %8.3f ms\n",
	       bench_median(load, (int)rounds) / 1e6);
	printf("  dwfl_module_getsym_info walk:     %8.3f ms, index %8.3f ms\n",
	       bench_median(each_walk, (int)rounds) / 1e6, bench_median(each, (int)rounds) / 1e6);
	printf("  raw table walk:                   %8.3f ms, index %8.3f ms\n",
	       bench_median(raw_walk, (int)rounds) / 1e6, bench_median(raw, (int)rounds) / 1e6);
	return 0;
}
