// SPDX-License-Identifier: BSD-2-Clause
/* A PC's compile unit from .debug_aranges, as libdwfl names it (cuindex.h). */
#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <elfutils/libdw.h>
#include "aranges.h"
#include "cuindex.h"
#include "elfsect.h"

/* Modules indexed at once: beyond, libdwfl alone. */
#define MAX_MODULES 64

struct mod_index {
	Dwfl_Module *mod;
	Dwarf *dw;
	Dwarf_Addr bias;
	struct ls_aranges *x; /* NULL: not usable, libdwfl alone */
	uint64_t *dies;	      /* the unit DIE offset of each of x's units */
};

struct ls_cuindex {
	struct mod_index m[MAX_MODULES];
	unsigned n;
	int last_from_index;
};

struct ls_cuindex *ls_cuindex__new(void)
{
	return calloc(1, sizeof(struct ls_cuindex));
}

static void mod_index_free(struct mod_index *m)
{
	ls_aranges__free(m->x);
	free(m->dies);
}

void ls_cuindex__free(struct ls_cuindex *c)
{
	unsigned i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		mod_index_free(&c->m[i]);
	free(c);
}

void ls_cuindex__drop(struct ls_cuindex *c, Dwfl_Module *mod)
{
	unsigned i;

	for (i = 0; c && i < c->n; i++) {
		if (c->m[i].mod == mod) {
			mod_index_free(&c->m[i]);
			c->m[i] = c->m[--c->n];
			return;
		}
	}
}

unsigned ls_cuindex__count(const struct ls_cuindex *c)
{
	return c ? c->n : 0;
}

int ls_cuindex__last_from_index(const struct ls_cuindex *c)
{
	return c ? c->last_from_index : 0;
}

/* The index's three sections, plain and present, of a file not relocatable; its byte order. */
static int sections(Elf *elf, Elf_Data **data, bool *msb)
{
	static const char *const names[] = {".debug_aranges", ".debug_info", ".debug_abbrev"};
	GElf_Ehdr eh;
	int err;

	if (!elf || !gelf_getehdr(elf, &eh) || eh.e_type == ET_REL)
		return -EINVAL;
	*msb = eh.e_ident[EI_DATA] == ELFDATA2MSB;
	if ((err = ls_elf_sections(elf, names, 3, data)))
		return err;
	return data[0] && data[1] && data[2] ? 0 : -ENOENT;
}

static void build(struct mod_index *m)
{
	Elf_Data *data[3];
	const uint64_t *units;
	size_t n;
	bool msb;

	if (!m->dw || sections(dwarf_getelf(m->dw), data, &msb) ||
	    ls_aranges__parse(data[0]->d_buf, data[0]->d_size, msb, &m->x))
		return;
	n = ls_aranges__units(m->x, &units);
	m->dies = malloc((n ? n : 1) * sizeof(*m->dies));
	if (!m->dies || ls_aranges__unit_dies(m->x, data[1]->d_buf, data[1]->d_size,
					      data[2]->d_size, msb, m->dies)) {
		mod_index_free(m);
		m->x = NULL;
		m->dies = NULL;
	}
}

static struct mod_index *mod_index_get(struct ls_cuindex *c, Dwfl_Module *mod)
{
	struct mod_index *m;
	unsigned i;

	for (i = 0; i < c->n; i++)
		if (c->m[i].mod == mod)
			return &c->m[i];
	if (c->n == MAX_MODULES)
		return NULL;
	m = &c->m[c->n++];
	*m = (struct mod_index){.mod = mod};
	m->dw = dwfl_module_getdwarf(mod, &m->bias);
	build(m);
	return m;
}

Dwarf_Die *ls_cuindex__addrdie(struct ls_cuindex *c, Dwfl_Module *mod, Dwarf_Addr addr,
			       Dwarf_Addr *bias, Dwarf_Die *mem)
{
	struct mod_index *m = c ? mod_index_get(c, mod) : NULL;
	uint64_t unit;
	size_t k;

	if (c)
		c->last_from_index = 0;
	if (!m || !m->x)
		return dwfl_module_addrdie(mod, addr, bias);
	switch (ls_aranges__find(m->x, addr - m->bias, &unit, &k)) {
	case LS_ARANGES_NONE:
		c->last_from_index = 1;
		*bias = m->bias;
		return NULL;
	case LS_ARANGES_UNIT:
		if (!dwarf_offdie(m->dw, m->dies[k], mem))
			break;
		c->last_from_index = 1;
		*bias = m->bias;
		return mem;
	case LS_ARANGES_ASK:
		break;
	}
	return dwfl_module_addrdie(mod, addr, bias);
}
