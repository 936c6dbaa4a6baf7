// SPDX-License-Identifier: BSD-2-Clause
/* A module's symbol table as libdwfl chose it, read raw (symraw_dw.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <gelf.h>
#include "symindex.h"
#include "symraw_dw.h"

int ls_symraw__module_each(Dwfl_Module *mod, ls_symraw_add_fn add, void *ctx)
{
	int n = dwfl_module_getsymtab(mod), k, err;

	for (k = 1; k < n; k++) {
		GElf_Sym sym = {0};
		GElf_Addr value;
		const char *name = dwfl_module_getsym_info(mod, k, &sym, &value, NULL, NULL, NULL);
		int type = GELF_ST_TYPE(sym.st_info);

		/* what addrinfo passes over, it never names */
		if (!name || !name[0] || sym.st_shndx == SHN_UNDEF || type == STT_SECTION ||
		    type == STT_FILE || type == STT_TLS)
			continue;
		err = add(ctx, value, sym.st_size, name);
		if (err)
			return err;
	}
	return 0;
}

/* The section's data as libelf holds it now (libdwfl inflated it, if it had to), of type. */
static Elf_Data *section_data(Elf_Scn *scn, Elf_Type type)
{
	GElf_Shdr shdr;
	Elf_Data *d;

	if (!scn || !gelf_getshdr(scn, &shdr) || (shdr.sh_flags & SHF_COMPRESSED))
		return NULL;
	d = elf_getdata(scn, NULL);
	return d && d->d_buf && d->d_type == type ? d : NULL;
}

/*
 * libdwfl takes a .gnu_debugdata table only from the main file, when the
 * file it took its symbols from has no SHT_SYMTAB: with none there, the
 * table libdwfl reads is its symbol file's.
 */
static bool has_debugdata(Elf *main_elf)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(main_elf, &shstrndx))
		return true;
	while ((scn = elf_nextscn(main_elf, scn))) {
		GElf_Shdr shdr;
		const char *name;

		if (!gelf_getshdr(scn, &shdr))
			return true;
		name = elf_strptr(main_elf, shstrndx, shdr.sh_name);
		if (!name || !strcmp(name, ".gnu_debugdata"))
			return true;
	}
	return false;
}

/* The one SHT_SYMTAB of elf and its one SHT_SYMTAB_SHNDX, if any: false when not so. */
static bool find_tables(Elf *elf, Elf_Scn **symtab, Elf_Scn **xndx)
{
	Elf_Scn *scn = NULL;
	unsigned n_symtab = 0, n_xndx = 0;

	*symtab = *xndx = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;

		if (!gelf_getshdr(scn, &shdr))
			return false;
		/* libdwfl passes over a table of no entry size */
		if (shdr.sh_type == SHT_SYMTAB && shdr.sh_entsize) {
			*symtab = scn;
			n_symtab++;
		} else if (shdr.sh_type == SHT_SYMTAB_SHNDX) {
			*xndx = scn;
			n_xndx++;
		}
	}
	/* several: which libdwfl pairs depends on their order, let it choose */
	return n_symtab == 1 && n_xndx <= 1;
}

static bool machine_plain(Elf *elf)
{
	GElf_Ehdr eh;

	/* libdwfl's backends mask (ARM) or resolve (PPC64 descriptors) other machines' values */
	return gelf_getehdr(elf, &eh) && (eh.e_type == ET_EXEC || eh.e_type == ET_DYN) &&
	       (eh.e_machine == EM_X86_64 || eh.e_machine == EM_AARCH64) &&
	       eh.e_ident[EI_CLASS] == ELFCLASS64;
}

/*
 * Whether libdwfl's table is this one: a corrupt string table makes it
 * fall back to .dynsym found through PT_DYNAMIC, though the file has a
 * .symtab. Its first, middle and last entries are these entries, their
 * names these very bytes (or past them, for both).
 */
static bool same_table(Dwfl_Module *mod, const Elf_Data *syms, const Elf_Data *str, int n)
{
	int at[3] = {1, n / 2, n - 1}, i;

	for (i = 0; i < 3; i++) {
		const Elf64_Sym *raw;
		GElf_Sym sym = {0};
		GElf_Addr value;
		const char *name;

		if (at[i] < 1 || (size_t)at[i] >= syms->d_size / sizeof(Elf64_Sym))
			return false;
		raw = (const Elf64_Sym *)syms->d_buf + at[i];
		name = dwfl_module_getsym_info(mod, at[i], &sym, &value, NULL, NULL, NULL);
		/* libdwfl refuses a name past its string table, having read the entry */
		if (name ? name != (const char *)str->d_buf + raw->st_name
			 : raw->st_name < str->d_size)
			return false;
		if (sym.st_name != raw->st_name || sym.st_info != raw->st_info ||
		    sym.st_shndx != raw->st_shndx || sym.st_value != raw->st_value ||
		    sym.st_size != raw->st_size)
			return false;
	}
	return true;
}

int ls_symraw__module(Dwfl_Module *mod, ls_symraw_add_fn add, void *ctx)
{
	struct ls_symraw_table t = {0};
	Elf_Data *syms, *str, *xndx = NULL;
	Elf_Scn *symscn, *xndxscn;
	Elf *main_elf, *elf = NULL;
	GElf_Addr main_bias, bias = 0, value;
	GElf_Shdr shdr;
	GElf_Sym sym;
	uint8_t *alloc;
	size_t shnum, i;
	int n, err;

	/* libdwfl loads its table first; entry 0 says from which file and at what bias */
	n = dwfl_module_getsymtab(mod);
	if (n <= 0 || !dwfl_module_getsym_info(mod, 0, &sym, &value, NULL, &elf, &bias) || !elf)
		return -ENOTSUP;
	main_elf = dwfl_module_getelf(mod, &main_bias);
	if (!main_elf || !machine_plain(main_elf) || !machine_plain(elf) ||
	    (elf != main_elf && has_debugdata(main_elf)) || !find_tables(elf, &symscn, &xndxscn) ||
	    !gelf_getshdr(symscn, &shdr) || elf_getshdrnum(elf, &shnum))
		return -ENOTSUP;
	syms = section_data(symscn, ELF_T_SYM);
	str = section_data(elf_getscn(elf, shdr.sh_link), ELF_T_BYTE);
	if (xndxscn)
		xndx = section_data(xndxscn, ELF_T_WORD);
	/* libdwfl counts the entries the section header says */
	if (!syms || !str || (xndxscn && !xndx) || !str->d_size ||
	    ((const char *)str->d_buf)[str->d_size - 1] ||
	    (uint64_t)n != shdr.sh_size / shdr.sh_entsize || !same_table(mod, syms, str, n))
		return -ENOTSUP;
	alloc = malloc(shnum ? shnum : 1);
	if (!alloc)
		return -ENOMEM;
	for (i = 0; i < shnum; i++) {
		GElf_Shdr s;

		/* as libdwfl: a section without a header counts as allocated */
		alloc[i] = !gelf_getshdr(elf_getscn(elf, i), &s) || (s.sh_flags & SHF_ALLOC);
	}
	t.syms = syms->d_buf;
	/* gelf_getsymshndx refuses entries past the data */
	t.n = (size_t)n < syms->d_size / sizeof(Elf64_Sym) ? (size_t)n
							   : syms->d_size / sizeof(Elf64_Sym);
	if (xndx) {
		t.xndx = xndx->d_buf;
		t.n_xndx = xndx->d_size / sizeof(uint32_t);
	}
	t.strtab = str->d_buf;
	t.strtab_size = str->d_size;
	t.alloc = alloc;
	t.n_sections = shnum;
	t.bias = bias;
	err = ls_symraw__walk(&t, add, ctx);
	free(alloc);
	return err;
}

static int index_add(void *x, uint64_t value, uint64_t size, const char *name)
{
	return ls_symindex__add(x, value, size, name);
}

int ls_symraw__index(Dwfl_Module *mod, struct ls_symindex *x)
{
	int err = ls_symraw__module(mod, index_add, x);

	return err == -ENOTSUP ? ls_symraw__module_each(mod, index_add, x) : err;
}
