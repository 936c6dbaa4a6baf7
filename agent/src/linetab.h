/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_LINETAB_H
#define LOOPSTALL_LINETAB_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/*
 * The rows of one compile unit's DWARF line table (.debug_line, DWARF 2
 * to 5) that answer for a function's addresses, read straight from the
 * section.
 *
 * Why not dwarf_getsrclines: libdw decodes the unit's whole program into
 * one allocation per row, then sorts it, and libdwfl indexes it again.
 * Debian's python3 is built with LTO: a unit holds 10,000 to 22,000 rows,
 * and the first stall on a fresh machine spent ~18 ms of its ~30 ms there
 * for the units its frames fell in. This reader runs the program once and
 * keeps only the rows the function needs, with no allocation per row.
 * libdw 0.188 decodes the whole program for dwarf_getsrcfiles too: the
 * files DW_AT_call_file names come from the same read.
 *
 * The rows are exactly the ones unwind.c's func_rows takes from libdw's
 * sorted table:
 * for each range [lo, hi), from the last row at or below lo (ties going to
 * the later row in libdw's order: by address, an end of sequence before a
 * row at the same address, then program order; the table's first row when
 * none is at or below lo) to the last row at or below hi - 1; their union,
 * in that order. File names are composed as libdw does (directory, '/',
 * name, unless the name is absolute). Anything libdw would refuse, or this
 * reader does not handle (string forms that need the unit's string
 * offsets, a supplementary file, fields libdw stores in narrower
 * bitfields), is an error: the caller asks libdw then.
 *
 * Pure logic: the section bytes are untrusted and every read is bounded.
 * The host's byte order is assumed; the caller checks the file's.
 */
struct ls_linetab_src {
	const uint8_t *line; /* .debug_line */
	size_t line_size;
	const uint8_t *line_str; /* .debug_line_str (DW_FORM_line_strp), may be NULL */
	size_t line_str_size;
	const uint8_t *str; /* .debug_str (DW_FORM_strp), may be NULL */
	size_t str_size;
};

struct ls_linetab_range {
	uint64_t lo, hi; /* [lo, hi), lo < hi */
};

struct ls_linetab_row {
	uint64_t addr;
	const char *file; /* as dwarf_linesrc's (NULL past the table); one pointer per file */
	int line;
	bool end_sequence;
};

/* What one read of a unit's program kept: the rows (above) and its files. */
struct ls_linetab;

/*
 * Runs the program at offset of .debug_line for ranges (n <= 64).
 * comp_dir: the unit's DW_AT_comp_dir (directory 0 before DWARF 5), or
 * NULL. address_size: the unit's. 0 and *out, -ENOENT (the program has
 * no row), -EINVAL (malformed, or not handled: above), -E2BIG (more than
 * 64 ranges), -ENOMEM. *out points into src's sections: they must
 * outlive it.
 */
int ls_linetab__read(const struct ls_linetab_src *src, uint64_t offset, const char *comp_dir,
		     unsigned address_size, const struct ls_linetab_range *ranges, size_t n,
		     struct ls_linetab **out);
void ls_linetab__free(struct ls_linetab *t);
size_t ls_linetab__nrows(const struct ls_linetab *t);
/* Row i, in libdw's order; its file's name lives as long as t. -ENOMEM composing it. */
int ls_linetab__row(struct ls_linetab *t, size_t i, struct ls_linetab_row *row);
/*
 * File i of the unit as dwarf_filesrc names it from dwarf_getsrcfiles
 * (DW_AT_call_file's index), or NULL past the table (or out of memory
 * composing it). Lives as long as t.
 */
const char *ls_linetab__file(struct ls_linetab *t, uint64_t i);

#endif
