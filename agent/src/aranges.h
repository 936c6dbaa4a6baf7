/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_ARANGES_H
#define LOOPSTALL_ARANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A module's .debug_aranges sorted by address, to find the compile unit
 * of a PC without libdwfl's first dwfl_module_addrdie (libdw's
 * dwarf_getaranges allocates per entry, then libdwfl builds its own
 * table: ~3 ms for python3.11's 2,390 entries).
 *
 * It answers as elfutils 0.188's libdwfl does: entries sorted by
 * address, the unit of the last entry starting at or below the address
 * (gaps belong to the unit before), nothing below the first entry or
 * past the end of the last one (that end included). Where libdwfl's
 * answer would depend on qsort's order of equal addresses (two units
 * starting at the same address) it gives no answer: ask libdwfl.
 *
 * The section is untrusted: every read is bounded, and anything libdw
 * would read otherwise than the DWARF standard says (a set not ending
 * with its terminator exactly at its length, a version other than 2, a
 * segment selector) refuses the whole section.
 */
struct ls_aranges;

/* msb: the file is big-endian. 0, -EINVAL (malformed), -ENOMEM. */
int ls_aranges__parse(const void *buf, size_t size, bool msb, struct ls_aranges **out);
void ls_aranges__free(struct ls_aranges *x);

/* The distinct .debug_info unit offsets the sets name, ascending; how many. */
size_t ls_aranges__units(const struct ls_aranges *x, const uint64_t **units);
size_t ls_aranges__entries(const struct ls_aranges *x);

/*
 * dies[k]: the unit DIE offset of each of __units, from the unit headers
 * of .debug_info (info, size bytes) read as libdw reads them; a unit
 * offset that does not start a unit refuses. 0 or -EINVAL.
 */
int ls_aranges__unit_dies(const struct ls_aranges *x, const void *info, size_t size,
			  uint64_t abbrev_size, bool msb, uint64_t *dies);

enum ls_aranges_answer {
	LS_ARANGES_ASK,	 /* libdwfl's answer is not certain here: ask it */
	LS_ARANGES_NONE, /* libdwfl finds no unit */
	LS_ARANGES_UNIT, /* *unit (header offset in .debug_info), index *k in __units */
};

/* addr: a DWARF address (libdwfl's address less the module's DWARF bias). */
enum ls_aranges_answer ls_aranges__find(const struct ls_aranges *x, uint64_t addr, uint64_t *unit,
					size_t *k);

#endif
