/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_SYMINDEX_H
#define LOOPSTALL_SYMINDEX_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A module's ELF symbols sorted by address, to name a function without
 * dwfl_module_addrinfo's linear scan of the whole table (python3's has
 * 40,000 symbols, scanned once per new function: ~10 ms of a first stall).
 *
 * It answers only where libdwfl's choice cannot depend on the table's
 * order: exactly one sized symbol holds the address, and no sizeless one
 * sits at it. Elsewhere (aliases, labels) it says so, and the caller asks
 * libdwfl as before. Pure logic: the caller adds the symbols libdwfl
 * would consider (named, defined, not a section, file or TLS symbol).
 */
struct ls_symindex;

struct ls_symindex *ls_symindex__new(void);
void ls_symindex__free(struct ls_symindex *x);
/* name must live as long as the index. 0, -EINVAL (after __seal), -ENOMEM. */
int ls_symindex__add(struct ls_symindex *x, uint64_t value, uint64_t size, const char *name);
/* Sort what was added; lookups need it. 0 or -ENOMEM. */
int ls_symindex__seal(struct ls_symindex *x);

struct ls_symindex_hit {
	const char *name;
	uint64_t value, size;
};

/* The one symbol holding addr (see above): true, or false (ask libdwfl). */
bool ls_symindex__find(const struct ls_symindex *x, uint64_t addr, struct ls_symindex_hit *hit);

#endif
