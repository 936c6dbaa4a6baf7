/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_SYMRAW_H
#define LOOPSTALL_SYMRAW_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A module's symbol table walked as the raw Elf64_Sym array libelf holds,
 * giving each symbol the value dwfl_module_getsym_info gives it, without
 * its per-symbol gelf_getsymshndx (a lock, a copy, a section-header look-up:
 * ~3 ms for python3.11's 41,000 symbols, more than the rest of a
 * module's symbol index). symraw_dw.h says when a module's table is one
 * this may read; this part is pure.
 */
struct ls_symraw_table {
	const Elf64_Sym *syms;
	size_t n; /* entries libelf hands out: those past it fail there */
	/* SHT_SYMTAB_SHNDX, NULL when the file has none */
	const uint32_t *xndx;
	size_t n_xndx;
	/* the string table, its last byte a NUL (names end inside it) */
	const char *strtab;
	size_t strtab_size;
	/* alloc[i]: section i is SHF_ALLOC; an index past them is treated as allocated */
	const uint8_t *alloc;
	size_t n_sections;
	/* added to the value of a symbol in an allocated section (libdwfl's bias) */
	uint64_t bias;
};

/* One symbol: 0 to go on, else a negative errno that ends the walk. */
typedef int (*ls_symraw_add_fn)(void *ctx, uint64_t value, uint64_t size, const char *name);

/*
 * add, in table order from entry 1, each symbol dwfl_module_addrinfo may
 * name: named, defined, not a section, file or TLS symbol; and not one
 * libelf refuses (an extended index past SHT_SYMTAB_SHNDX, a name past the
 * string table). 0, -EINVAL (no table), or add's error.
 */
int ls_symraw__walk(const struct ls_symraw_table *t, ls_symraw_add_fn add, void *ctx);

#endif
