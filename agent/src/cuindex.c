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

/* The bytes of the one uncompressed .debug_aranges (libdw inflated it in place). */
static int aranges_bytes(Elf *elf, Elf_Data **out, bool *msb)
{
	Elf_Scn *scn = NULL;
	Elf_Data *data = NULL;
	size_t shstrndx;
	GElf_Ehdr eh;

	if (!gelf_getehdr(elf, &eh) || eh.e_type == ET_REL || elf_getshdrstrndx(elf, &shstrndx))
		return -EINVAL;
	*msb = eh.e_ident[EI_DATA] == ELFDATA2MSB;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)) ||
		    strcmp(name, ".debug_aranges"))
			continue;
		if (data || sh.sh_type == SHT_NOBITS || (sh.sh_flags & SHF_COMPRESSED))
			return -EINVAL;
		data = elf_getdata(scn, NULL);
		if (!data || (!data->d_buf && data->d_size))
			return -EINVAL;
	}
	*out = data;
	return data ? 0 : -ENOENT;
}

/*
 * Each unit the sets name must start a unit of .debug_info, as libdw
 * reads them (it takes an offset inside a unit for that unit, and fails
 * the whole table on one past them): then the unit DIE follows its header.
 */
static int unit_dies(Dwarf *dw, const uint64_t *units, size_t n, uint64_t *dies)
{
	Dwarf_Off off = 0, next;
	size_t hsize, k = 0;

	while (k < n && dwarf_next_unit(dw, off, &next, &hsize, NULL, NULL, NULL, NULL, NULL,
					NULL) == 0) {
		if (units[k] < off || next <= off)
			return -EINVAL;
		if (units[k] == off) {
			/* libdwfl takes a unit DIE this close to the end for the end of the section */
			if (off + hsize + 4 >= next)
				return -EINVAL;
			dies[k++] = off + hsize;
		}
		off = next;
	}
	return k == n ? 0 : -EINVAL;
}

static void build(struct mod_index *m)
{
	const uint64_t *units;
	Elf_Data *data;
	size_t n;
	bool msb;

	if (!m->dw || aranges_bytes(dwarf_getelf(m->dw), &data, &msb) ||
	    ls_aranges__parse(data->d_buf, data->d_size, msb, &m->x))
		return;
	n = ls_aranges__units(m->x, &units);
	m->dies = malloc((n ? n : 1) * sizeof(*m->dies));
	if (!m->dies || unit_dies(m->dw, units, n, m->dies)) {
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
