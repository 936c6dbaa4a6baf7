/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_LINETAB_DW_H
#define LOOPSTALL_LINETAB_DW_H

#include <elfutils/libdw.h>
#include "linetab.h"

/*
 * ls_linetab__read for the unit of a DIE libdw opened: its .debug_line
 * offset, comp_dir and address size from the unit, the sections from the
 * unit's file as libdw holds them (inflated when they were compressed).
 * -EINVAL when the unit is one to leave to libdw: a split or type unit,
 * a big-endian file, a section still compressed or absent, or whatever
 * ls_linetab__read refuses. Else what ls_linetab__read returns.
 */
int ls_linetab__unit(Dwarf_Die *die, const struct ls_linetab_range *ranges, size_t n,
		     struct ls_linetab **out);

#endif
