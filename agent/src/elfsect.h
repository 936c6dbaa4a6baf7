/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_ELFSECT_H
#define LOOPSTALL_ELFSECT_H

#include <gelf.h>

/*
 * The bytes of the named sections of elf, as libelf holds them now: the
 * agent's own readers of debug sections (linetab, aranges) take them after
 * libdw opened the file, which inflates the sections it reads in place.
 * data[i] is NULL for a section the file does not have. -EINVAL when one
 * is there but not as plain bytes (still compressed, NOBITS, data that
 * does not match its header) or there twice: the caller leaves the file
 * to libdw.
 */
int ls_elf_sections(Elf *elf, const char *const *names, unsigned n, Elf_Data **data);

#endif
