/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_CUINDEX_H
#define LOOPSTALL_CUINDEX_H

#include <elfutils/libdwfl.h>

/*
 * dwfl_module_addrdie's compile unit from the module's own
 * .debug_aranges (aranges.h), indexed at its first address: the same
 * unit DIE libdwfl gives (elfutils 0.188), without its first-call cost.
 * Where the index is not certain, or the module has no usable section,
 * libdwfl answers. An index lives until its module's Dwfl ends (__drop).
 */
struct ls_cuindex;

struct ls_cuindex *ls_cuindex__new(void);
void ls_cuindex__free(struct ls_cuindex *c);
/* mod's Dwfl ends: its index goes (a new module may reuse the address). */
void ls_cuindex__drop(struct ls_cuindex *c, Dwfl_Module *mod);
unsigned ls_cuindex__count(const struct ls_cuindex *c);

/*
 * As dwfl_module_addrdie(mod, addr, bias); the unit DIE is written to mem
 * (or libdwfl's own is returned). c NULL: libdwfl alone.
 */
Dwarf_Die *ls_cuindex__addrdie(struct ls_cuindex *c, Dwfl_Module *mod, Dwarf_Addr addr,
			       Dwarf_Addr *bias, Dwarf_Die *mem);

/* How the last __addrdie was answered, for tests: 1 the index, 0 libdwfl. */
int ls_cuindex__last_from_index(const struct ls_cuindex *c);

#endif
