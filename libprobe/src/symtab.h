/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The region's symbol table (lprobe_shm.h): names for callback addresses
 * and await points, written by the reporter thread only, append-only. An
 * entry's key is stored last, after its text, so a reader that finds the
 * key finds everything else in place.
 */
#ifndef LPROBE_SYMTAB_H
#define LPROBE_SYMTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "region.h"

/* The entry for key, or NULL; *found tells a match from the free slot returned. */
struct lps_sym *lpi_symtab_find(const struct lpi_region *r, uint64_t key, bool *found);
/*
 * Add key with its texts (either may be empty). Returns its entry (the
 * existing one when key is there already), or NULL when the table is full.
 * Texts that do not fit the string table are left out, the key still added.
 */
struct lps_sym *lpi_symtab_add(struct lpi_region *r, uint64_t key, const char *name,
			       const char *module, uint16_t flags);
/* Writes key's texts into name and module (NUL-terminated; empty: none); may be slow. */
typedef int lpi_symtab_namer(uint64_t key, char *name, size_t name_len, char *module,
			     size_t module_len);
/* lpi_symtab_add, with texts from namer, called only when key is not in the table yet. */
struct lps_sym *lpi_symtab_add_named(struct lpi_region *r, uint64_t key, uint16_t flags,
				     lpi_symtab_namer *namer);
/* An entry's name (module: its module) copied into buf; NULL when it has none. */
const char *lpi_symtab_text(const struct lpi_region *r, const struct lps_sym *e, bool module,
			    char *buf, size_t len);
/* Entries in use (the reporter's own count). */
uint32_t lpi_symtab_count(const struct lpi_region *r);

#endif
