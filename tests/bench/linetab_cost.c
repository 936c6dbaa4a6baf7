// SPDX-License-Identifier: BSD-2-Clause
/*
 * What a new function's line rows cost the agent (unwind.c unit_lines),
 * both ways, for every unit of a file: libdw's dwarf_getsrclines (the
 * unit's whole program decoded, one allocation per row, sorted; what
 * func_rows and 0.188's dwarf_getsrcfiles pay at a unit's first function)
 * and the agent's reader (linetab.h: the program run once, the rows of one
 * range kept). The range is a 256-byte one in the middle of the unit's
 * rows, as a function's. Thread CPU time, each round on a fresh Dwarf (libdw
 * keeps a unit's lines once read), the two ways in alternating order, the
 * first touch of the file's pages included in neither (an untimed pass
 * first); medians over rounds of the whole file's total.
 *
 *     build/tests/linetab_cost [FILE [ROUNDS]]
 *
 * FILE defaults to python3.11's debug file (python3.11-dbg), found by the
 * build-id of /usr/bin/python3.11 (libdw inflates its sections in memory
 * first, untimed).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <gelf.h>
#include "cpu_time.h"
#include "linetab_dw.h"

#define MAX_ROUNDS 100

/* python3.11's debug file by its build-id; NULL when python3.11-dbg is not there. */
static const char *default_file(void)
{
	static char path[512];
	const unsigned char *id;
	const void *bits;
	char hex[128];
	ssize_t len, i;
	Elf *elf;
	int fd;

	fd = open("/usr/bin/python3.11", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	len = elf ? dwelf_elf_gnu_build_id(elf, &bits) : -1;
	id = bits;
	for (i = 0; len > 1 && len <= 60 && i < len; i++)
		sprintf(hex + 2 * i, "%02x", id[i]);
	elf_end(elf);
	close(fd);
	if (len <= 1 || len > 60)
		return NULL;
	snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%.2s/%s.debug", hex, hex + 2);
	return path;
}

struct pass {
	uint64_t ns;
	size_t units, rows, refused;
};

/* One way over every unit with lines of a fresh Dwarf. */
static int one_pass(const char *path, bool ours, struct pass *p)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf *dw;
	int fd;

	memset(p, 0, sizeof(*p));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dw = dwarf_begin(fd, DWARF_C_READ);
	if (!dw) {
		close(fd);
		return -EINVAL;
	}
	while (!dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL)) {
		Dwarf_Off unit = off;
		Dwarf_Die cu;
		Dwarf_Lines *lines;
		size_t nlines;
		uint64_t t0;

		off = next;
		if (!dwarf_offdie(dw, unit + hsize, &cu))
			continue;
		if (ours) {
			/* the middle of the unit's code: its stmt_list's rows, as a function's */
			Dwarf_Addr low = 0, high = 0;
			struct ls_linetab_range r;
			struct ls_linetab *lt;
			int err;

			if (dwarf_lowpc(&cu, &low) || dwarf_highpc(&cu, &high) || high <= low)
				low = 0x1000, high = 0x2000;
			r.lo = low + (high - low) / 2;
			r.hi = r.lo + 256;
			t0 = bench_cpu_ns();
			err = ls_linetab__unit(&cu, &r, 1, &lt);
			p->ns += bench_cpu_ns() - t0;
			if (!err) {
				p->rows += ls_linetab__nrows(lt);
				ls_linetab__free(lt);
				p->units++;
			} else if (err != -ENOENT) {
				p->refused++;
			}
		} else {
			t0 = bench_cpu_ns();
			if (!dwarf_getsrclines(&cu, &lines, &nlines)) {
				p->rows += nlines;
				p->units++;
			}
			p->ns += bench_cpu_ns() - t0;
		}
	}
	dwarf_end(dw);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 2 ? atoi(argv[2]) : 10, r;
	uint64_t libdw[MAX_ROUNDS], ours[MAX_ROUNDS];
	double libdw_ns, ours_ns;
	struct pass lp, op;
	const char *path;

	elf_version(EV_CURRENT);
	path = argc > 1 ? argv[1] : default_file();

	if (!path || access(path, R_OK)) {
		fprintf(stderr, "linetab_cost: no file (python3.11-dbg's debug file?): %s\n",
			path ? path : "-");
		return 1;
	}
	if (rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "linetab_cost: rounds must be 1..%d\n", MAX_ROUNDS);
		return 1;
	}
	/* untimed: the file's pages into memory, both ways' code warm */
	if (one_pass(path, false, &lp) || one_pass(path, true, &op)) {
		fprintf(stderr, "linetab_cost: %s: no DWARF libdw can read\n", path);
		return 1;
	}
	for (r = 0; r < rounds; r++) {
		if (r % 2) {
			one_pass(path, true, &op);
			one_pass(path, false, &lp);
		} else {
			one_pass(path, false, &lp);
			one_pass(path, true, &op);
		}
		libdw[r] = lp.ns;
		ours[r] = op.ns;
	}
	libdw_ns = (double)bench_median(libdw, rounds);
	ours_ns = (double)bench_median(ours, rounds);
	printf("%s: %zu units with lines, %zu rows\n", path, lp.units, lp.rows);
	printf("  dwarf_getsrclines, every unit          %8.2f ms (%.1f ns a row)\n",
	       libdw_ns / 1e6, libdw_ns / (double)lp.rows);
	printf("  linetab, a 256-byte range in each unit %8.2f ms (%.1f ns a row), %zu rows "
	       "kept, %zu units refused\n",
	       ours_ns / 1e6, ours_ns / (double)lp.rows, op.rows, op.refused);
	return 0;
}
