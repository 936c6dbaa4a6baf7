/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_SYMRAW_DW_H
#define LOOPSTALL_SYMRAW_DW_H

#include <elfutils/libdwfl.h>
#include "symraw.h"

/*
 * The symbols of mod that dwfl_module_addrinfo weighs (see
 * ls_symraw__walk), in the table's order, each with the value, size and
 * name dwfl_module_getsym_info gives it.
 *
 * ls_symraw__module reads libdwfl's table straight from its Elf data
 * where that provably gives the same: one SHT_SYMTAB in the file libdwfl
 * took its symbols from (not .dynsym, not a .gnu_debugdata table beside
 * it), a 64-bit ET_EXEC/ET_DYN module of a machine whose symbol values
 * libdwfl neither masks nor resolves (x86-64, AArch64), sections not left
 * compressed, names ending inside the string table, and the table's count
 * and three of its entries libdwfl's own. Elsewhere -ENOTSUP, having added
 * nothing; else 0 or add's error.
 *
 * ls_symraw__module_each asks dwfl_module_getsym_info symbol by symbol:
 * any module, ~5x slower (python3.11's table: 0.68 ms, against 0.13).
 * 0 or add's error.
 */
int ls_symraw__module(Dwfl_Module *mod, ls_symraw_add_fn add, void *ctx);
int ls_symraw__module_each(Dwfl_Module *mod, ls_symraw_add_fn add, void *ctx);

struct ls_symindex;
/* Those symbols added to x (not sealed): the raw read where it may, else each. 0 or -ENOMEM. */
int ls_symraw__index(Dwfl_Module *mod, struct ls_symindex *x);

#endif
