/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_FUNCACHE_H
#define LOOPSTALL_FUNCACHE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * What the symbolizer learns once per function and reuses for every other
 * address in it (unwind.c). CPU samples land on many instructions of the
 * same hot functions; naming each one from scratch (a linear scan of the
 * ELF symbol table, a walk of its compile unit's DWARF) was most of the
 * agent's CPU per CPU stall. Everything is keyed by module identity
 * (build-id) and module-relative offsets, so one process's work serves
 * every other process that maps the same library. Pure logic: no libdw.
 */

/* Disjoint [lo, hi) ranges per module key, each with a value. */
struct ls_rangemap;

struct ls_rangemap *ls_rangemap__new(void);
void ls_rangemap__free(struct ls_rangemap *m);
/* -EEXIST when it overlaps a range of the same key, -EINVAL when empty, -ENOMEM. */
int ls_rangemap__add(struct ls_rangemap *m, uint64_t key, uint64_t lo, uint64_t hi, void *value);
/* The value of the range of `key` that holds off, or NULL. */
void *ls_rangemap__find(const struct ls_rangemap *m, uint64_t key, uint64_t off);
/*
 * Call fn on each range of `key`, by address; stops at the first non-zero
 * return, which it returns (0 when all were seen). fn must not add ranges.
 */
int ls_rangemap__each(const struct ls_rangemap *m, uint64_t key,
		      int (*fn)(void *ctx, uint64_t lo, uint64_t hi, void *value), void *ctx);

/* One inlined instance in a function, as DWARF's concrete tree nests them. */
struct ls_inl {
	int parent; /* the enclosing instance's index (always lower), -1: the function */
	const char *symbol;
	const char *call_file; /* where its caller called it */
	int call_line;
	unsigned range0, n_ranges; /* its ranges in ls_func.ranges */
};

/* One address range of an instance (an instance may have several). */
struct ls_inl_range {
	uint64_t lo, hi;
	unsigned inst;
};

/* A row of the line table, as libdw sorts them (by address, in their order). */
struct ls_line_row {
	uint64_t addr;
	const char *file;
	int line;
	bool end_sequence; /* the address after a sequence: no line there */
};

/*
 * A function (DWARF subprogram) with its inlined instances in DIE order,
 * and the rows of its compile unit's line table that can answer for an
 * address in it: no DWARF is read again for that function, in this
 * process or another one mapping the same library.
 */
struct ls_func {
	const char *symbol;
	bool lines; /* rows hold the line table's answers for it */
	struct ls_line_row *rows;
	unsigned n_rows;
	size_t cap_rows;
	struct ls_inl *inst;
	unsigned n_inst;
	size_t cap_inst;
	struct ls_inl_range *ranges;
	unsigned n_ranges;
	size_t cap_ranges;
};

struct ls_func *ls_func__new(const char *symbol);
void ls_func__free(struct ls_func *f);
/*
 * Append an instance (parent < its index); returns its index or -errno
 * (-E2BIG past 65536 instances: the function is left to libdw).
 */
int ls_func__add_inst(struct ls_func *f, int parent, const char *symbol, const char *call_file,
		      int call_line);
/* An instance's ranges are added one after the other (-EINVAL otherwise). */
int ls_func__add_range(struct ls_func *f, unsigned inst, uint64_t lo, uint64_t hi);
/*
 * The instances that hold off, innermost first, as libdw's dwarf_getscopes
 * descends: from the function, into the first child instance holding off,
 * and so on. Returns how many (at most max) were written to chain.
 */
unsigned ls_func__chain(const struct ls_func *f, uint64_t off, unsigned *chain, unsigned max);
/* Append a row; rows come in libdw's order (addresses never go down), else -EINVAL. */
int ls_func__add_row(struct ls_func *f, uint64_t addr, const char *file, int line,
		     bool end_sequence);
/*
 * The line of off as dwarf_getsrc_die answers from the whole table: the
 * last row at or below off, unless that one ends a sequence. Returns the
 * row or NULL (no line known there).
 */
const struct ls_line_row *ls_func__line(const struct ls_func *f, uint64_t off);

#endif
