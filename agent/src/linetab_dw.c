// SPDX-License-Identifier: BSD-2-Clause
/* linetab.h on a unit libdw opened (linetab_dw.h). */
#include <dwarf.h>
#include <errno.h>
#include <string.h>
#include <gelf.h>
#include "linetab_dw.h"

/* A section by name, when its bytes are there as they are (not compressed, not NOBITS). */
static bool raw_section(Elf *elf, size_t shstrndx, const char *name, const uint8_t **buf,
			size_t *size)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		const char *sname;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &shdr) ||
		    !(sname = elf_strptr(elf, shstrndx, shdr.sh_name)) || strcmp(sname, name))
			continue;
		/* libdw inflates the sections it reads in place (elf_compress): until then, no */
		if (shdr.sh_type == SHT_NOBITS || (shdr.sh_flags & SHF_COMPRESSED))
			return false;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf || data->d_size != shdr.sh_size)
			return false;
		*buf = data->d_buf;
		*size = data->d_size;
		return true;
	}
	return false;
}

int ls_linetab__unit(Dwarf_Die *die, const struct ls_linetab_range *ranges, size_t n,
		     struct ls_linetab **out)
{
	struct ls_linetab_src src = {0};
	uint8_t address_size, unit_type;
	Dwarf_Attribute attr;
	Dwarf_Word stmt_list;
	Dwarf_Die cudie;
	size_t shstrndx;
	GElf_Ehdr ehdr;
	Dwarf *dw;
	Elf *elf;

	*out = NULL;
	/* split units take their lines from the skeleton (libdw knows how) */
	if (!dwarf_diecu(die, &cudie, &address_size, NULL) ||
	    dwarf_cu_info(cudie.cu, NULL, &unit_type, NULL, NULL, NULL, NULL, NULL) ||
	    (unit_type != DW_UT_compile && unit_type != DW_UT_partial) ||
	    dwarf_formudata(dwarf_attr(&cudie, DW_AT_stmt_list, &attr), &stmt_list))
		return -EINVAL;
	dw = dwarf_cu_getdwarf(cudie.cu);
	elf = dw ? dwarf_getelf(dw) : NULL;
	/* the reader reads little-endian, the host's order on every platform the agent runs on */
	if (!elf || !gelf_getehdr(elf, &ehdr) || ehdr.e_ident[EI_DATA] != ELFDATA2LSB ||
	    __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__ || elf_getshdrstrndx(elf, &shstrndx) ||
	    !raw_section(elf, shstrndx, ".debug_line", &src.line, &src.line_size))
		return -EINVAL;
	/* optional: a form that needs a missing one makes ls_linetab__read refuse */
	raw_section(elf, shstrndx, ".debug_line_str", &src.line_str, &src.line_str_size);
	raw_section(elf, shstrndx, ".debug_str", &src.str, &src.str_size);
	return ls_linetab__read(&src, stmt_list,
				dwarf_formstring(dwarf_attr(&cudie, DW_AT_comp_dir, &attr)),
				address_size, ranges, n, out);
}
