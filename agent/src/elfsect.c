// SPDX-License-Identifier: BSD-2-Clause
/* Named sections' bytes as libelf holds them (elfsect.h). */
#include <errno.h>
#include <string.h>
#include "elfsect.h"

int ls_elf_sections(Elf *elf, const char *const *names, unsigned n, Elf_Data **data)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	unsigned i;

	memset(data, 0, n * sizeof(*data));
	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		return -EINVAL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		for (i = 0; i < n && strcmp(name, names[i]); i++)
			;
		if (i == n)
			continue;
		if (data[i] || sh.sh_type == SHT_NOBITS || (sh.sh_flags & SHF_COMPRESSED))
			return -EINVAL;
		data[i] = elf_getdata(scn, NULL);
		if (!data[i] || data[i]->d_size != sh.sh_size ||
		    (!data[i]->d_buf && data[i]->d_size))
			return -EINVAL;
	}
	return 0;
}
