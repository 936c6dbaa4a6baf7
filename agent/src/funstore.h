/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_FUNSTORE_H
#define LOOPSTALL_FUNSTORE_H

#include <stddef.h>
#include <stdint.h>
#include "funcache.h"

/*
 * What the symbolizer learned of one module (funcache.h: its ELF symbols'
 * ranges, its functions with their inlined instances and line rows), as
 * one buffer a later run decodes instead of reading the module's symbol
 * table and DWARF again. unwind.c keeps it in the debug-info cache as
 * BUILDID.funcs (debugcache.h), written by the idle finisher.
 *
 * The buffer is untrusted when read back (a disk, another version, a
 * hand-made file): every count and index is bounded by the bytes left,
 * a hash covers the whole body, and decoding is all or nothing.
 *
 * Layout (host byte order; the cache is the machine's own): a header
 * (magic, version, build-id, symbol-table size, body length, body hash),
 * then a string table, the ELF symbol ranges, and the functions, each
 * with its instances, rows and the ranges it answers for.
 */

#define LS_FUNSTORE_MAX (64u << 20)

/* The maps a module's store fills, keyed by module (the values as unwind.c keeps them). */
struct ls_funstore_maps {
	struct ls_rangemap *elf_syms; /* ELF symbols' ranges: the symbol (a string) */
	struct ls_rangemap *funcs;    /* functions' ranges: struct ls_func */
	/*
	 * Single addresses DWARF names no function for (libdw gave up on the
	 * unit, or has no unit there): a struct ls_func with no symbol and
	 * the address's line as its one row, so they need no DWARF either.
	 */
	struct ls_rangemap *bare;
};

/*
 * Everything the maps hold for module `key` into *buf (malloc'd, *len
 * bytes). n_symtab: the size of the module's symbol table, which a
 * reader must find again (the same build-id with or without its debug
 * file names different symbols). 0 or -errno (-E2BIG past LS_FUNSTORE_MAX).
 */
int ls_funstore_encode(const struct ls_funstore_maps *maps, uint64_t key, const unsigned char *id,
		       size_t id_len, uint32_t n_symtab, void **buf, size_t *len);

struct ls_funstore_sink {
	/* a string of the buffer, made to live as long as the maps (interned) */
	const char *(*intern)(void *ctx, const char *s);
	/* each function made, now the caller's to free (also when decoding fails later) */
	int (*adopt)(void *ctx, struct ls_func *f);
	void *ctx;
};

/*
 * Add the buffer's ranges to the maps under `key` when it is a whole,
 * unaltered store of build-id id with a symbol table of n_symtab
 * entries. A range the maps hold already stays theirs. 0; -EINVAL
 * (foreign, truncated, corrupt: nothing added), -ENOMEM.
 */
int ls_funstore_decode(const void *buf, size_t len, const unsigned char *id, size_t id_len,
		       uint32_t n_symtab, uint64_t key, const struct ls_funstore_maps *maps,
		       const struct ls_funstore_sink *sink);

/* The body's checksum, as the header carries it (for tests that write their own bodies). */
uint64_t ls_funstore_body_hash(const void *body, size_t len);

#endif
