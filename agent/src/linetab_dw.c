// SPDX-License-Identifier: BSD-2-Clause
/* linetab.h on a unit libdw opened (linetab_dw.h). */
#include <dwarf.h>
#include <errno.h>
#include <gelf.h>
#include "elfsect.h"
#include "linetab_dw.h"

int ls_linetab__unit(Dwarf_Die *die, const struct ls_linetab_range *ranges, size_t n,
		     struct ls_linetab **out)
{
	static const char *const names[] = {".debug_line", ".debug_line_str", ".debug_str"};
	struct ls_linetab_src src = {0};
	uint8_t address_size, unit_type;
	Dwarf_Attribute attr;
	Dwarf_Word stmt_list;
	Elf_Data *data[3];
	Dwarf_Die cudie;
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
	    __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__ || ls_elf_sections(elf, names, 3, data) ||
	    !data[0])
		return -EINVAL;
	src.line = data[0]->d_buf;
	src.line_size = data[0]->d_size;
	/* optional: a form that needs a missing one makes ls_linetab__read refuse */
	if (data[1]) {
		src.line_str = data[1]->d_buf;
		src.line_str_size = data[1]->d_size;
	}
	if (data[2]) {
		src.str = data[2]->d_buf;
		src.str_size = data[2]->d_size;
	}
	return ls_linetab__read(&src, stmt_list,
				dwarf_formstring(dwarf_attr(&cudie, DW_AT_comp_dir, &attr)),
				address_size, ranges, n, out);
}
