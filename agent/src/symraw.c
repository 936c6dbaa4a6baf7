// SPDX-License-Identifier: BSD-2-Clause
/* A raw symbol table, valued as libdwfl values it (symraw.h). */
#include <errno.h>
#include <stdbool.h>
#include "symraw.h"

static bool in_alloc_section(const struct ls_symraw_table *t, uint32_t shndx)
{
	/* libdwfl: no section header there counts as allocated */
	return shndx >= t->n_sections || t->alloc[shndx];
}

int ls_symraw__walk(const struct ls_symraw_table *t, ls_symraw_add_fn add, void *ctx)
{
	size_t k;

	if (!t || !t->syms || !t->strtab || !t->strtab_size || t->strtab[t->strtab_size - 1] ||
	    (t->n_sections && !t->alloc))
		return -EINVAL;
	for (k = 1; k < t->n; k++) {
		const Elf64_Sym *s = &t->syms[k];
		unsigned type = ELF64_ST_TYPE(s->st_info);
		uint32_t shndx = s->st_shndx;
		bool alloc = true;
		uint64_t value = s->st_value;
		int err;

		/* gelf_getsymshndx fails every entry the index table does not reach */
		if (t->xndx && k >= t->n_xndx)
			continue;
		if (s->st_shndx == SHN_XINDEX)
			shndx = t->xndx ? t->xndx[k] : 0;
		if (s->st_name >= t->strtab_size || !t->strtab[s->st_name])
			continue;
		if (s->st_shndx == SHN_UNDEF || type == STT_SECTION || type == STT_FILE ||
		    type == STT_TLS)
			continue;
		/* the reserved indexes other than SHN_XINDEX name no section */
		if (s->st_shndx == SHN_XINDEX || s->st_shndx < SHN_LORESERVE)
			alloc = in_alloc_section(t, shndx);
		/* absolute and common values stay as they are, as do non-allocated sections' */
		if (alloc && s->st_shndx != SHN_ABS && s->st_shndx != SHN_COMMON)
			value += t->bias;
		err = add(ctx, value, s->st_size, t->strtab + s->st_name);
		if (err)
			return err;
	}
	return 0;
}
