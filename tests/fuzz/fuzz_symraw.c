// SPDX-License-Identifier: BSD-2-Clause
/*
 * A module's raw symbol table walked as libdwfl values it (symraw.c): the
 * Elf64_Sym array, string table and section flags come from a file the
 * agent did not write. Input:
 *   byte 0    bit 0 an SHT_SYMTAB_SHNDX table, bit 1 its string table
 *             loses its last NUL, bit 2 n counts one entry fewer
 *   byte 1    number of sections (their SHF_ALLOC flags follow, a byte each)
 *   u16 u16   string table size, number of extended indexes
 *   u64       bias
 *   then the flags, the string table, the extended indexes (u32 each), and
 *   the rest is the symbol array (24 bytes an entry).
 * Each part is copied into its own exact-size buffer (ASan sees a read past).
 *
 * Checked: the walk yields, in table order, exactly the symbols symraw.h
 * says it does (named inside the string table, defined, not a section,
 * file or TLS symbol, not one libelf refuses), each name a string inside
 * the table, the bias added where the section is allocated.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "symraw.h"

struct expect {
	const struct ls_symraw_table *t;
	size_t next;	/* entry to look from for the next symbol */
	int stop_after; /* the walk ends with add's error after this many symbols */
	int seen;
};

static bool wanted(const struct ls_symraw_table *t, size_t k, uint64_t *value)
{
	const Elf64_Sym *s = &t->syms[k];
	unsigned type = ELF64_ST_TYPE(s->st_info);
	uint64_t shndx = s->st_shndx;

	if (t->xndx && k >= t->n_xndx)
		return false; /* libelf refuses an entry its index table does not reach */
	if (s->st_name >= t->strtab_size || !t->strtab[s->st_name])
		return false;
	if (s->st_shndx == SHN_UNDEF || type == STT_SECTION || type == STT_FILE || type == STT_TLS)
		return false;
	*value = s->st_value;
	if (s->st_shndx == SHN_ABS || s->st_shndx == SHN_COMMON)
		return true;
	if (s->st_shndx == SHN_XINDEX)
		shndx = t->xndx ? t->xndx[k] : 0;
	/* a reserved index names no section: no section header, counted as allocated */
	if (s->st_shndx != SHN_XINDEX && s->st_shndx >= SHN_LORESERVE)
		shndx = UINT64_MAX;
	if (shndx >= t->n_sections || t->alloc[shndx])
		*value += t->bias;
	return true;
}

static int add(void *ctx, uint64_t value, uint64_t size, const char *name)
{
	struct expect *x = ctx;
	const struct ls_symraw_table *t = x->t;
	uint64_t want = 0;
	size_t k;

	/* a name inside the table, ending there */
	if (name < t->strtab || name >= t->strtab + t->strtab_size || !*name ||
	    !memchr(name, 0, (size_t)(t->strtab + t->strtab_size - name)))
		abort();
	for (k = x->next; k < t->n && !wanted(t, k, &want); k++)
		;
	if (k >= t->n || name != t->strtab + t->syms[k].st_name || value != want ||
	    size != t->syms[k].st_size)
		abort();
	x->next = k + 1;
	if (++x->seen == x->stop_after)
		return -ECANCELED;
	return 0;
}

static void *dup_exact(const uint8_t *p, size_t n)
{
	void *d = malloc(n ? n : 1);

	if (d && n)
		memcpy(d, p, n);
	return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ls_symraw_table t = {0};
	struct expect x = {.t = &t, .next = 1, .stop_after = -1};
	size_t pos = 14, nsec, strsz, nx, nsyms, k;
	uint8_t *alloc = NULL;
	char *strtab = NULL;
	uint32_t *xndx = NULL;
	Elf64_Sym *syms = NULL;
	uint64_t v;
	int err, i;

	if (size < pos)
		return 0;
	nsec = data[1];
	strsz = data[2] | (size_t)data[3] << 8;
	nx = data[4] | (size_t)data[5] << 8;
	for (t.bias = 0, i = 7; i >= 0; i--)
		t.bias = t.bias << 8 | data[6 + i];
	nsec = nsec < size - pos ? nsec : size - pos;
	alloc = dup_exact(data + pos, nsec);
	pos += nsec;
	strsz = strsz < size - pos ? strsz : size - pos;
	strtab = dup_exact(data + pos, strsz);
	pos += strsz;
	nx = nx < (size - pos) / 4 ? nx : (size - pos) / 4;
	if (data[0] & 1)
		xndx = dup_exact(data + pos, nx * 4);
	pos += nx * 4;
	nsyms = (size - pos) / sizeof(Elf64_Sym);
	syms = dup_exact(data + pos, nsyms * sizeof(Elf64_Sym));
	if (!alloc || !strtab || !syms || (data[0] & 1 && !xndx))
		goto out;
	/* libelf's string tables end with a NUL; symraw_dw.h checks that, the walk again */
	if (strsz && !(data[0] & 2))
		strtab[strsz - 1] = 0;
	t = (struct ls_symraw_table){.syms = syms,
				     .n = data[0] & 4 && nsyms ? nsyms - 1 : nsyms,
				     .xndx = xndx,
				     .n_xndx = xndx ? nx : 0,
				     .strtab = strtab,
				     .strtab_size = strsz,
				     .alloc = alloc,
				     .n_sections = nsec,
				     .bias = t.bias};
	/* the last flag byte also says where the walk's consumer stops it */
	if (data[0] & 8)
		x.stop_after = (data[0] >> 4) + 1;
	err = ls_symraw__walk(&t, add, &x);
	if (!strsz || strtab[strsz - 1]) {
		/* no table to read names from: refused before any symbol */
		if (err != -EINVAL || x.seen)
			abort();
		goto out;
	}
	if (x.seen == x.stop_after) {
		if (err != -ECANCELED)
			abort();
		goto out;
	}
	/* to the end: no symbol left out after the last one it gave */
	if (err)
		abort();
	for (k = x.next; k < t.n; k++)
		if (wanted(&t, k, &v))
			abort();
out:
	free(alloc);
	free(strtab);
	free(xndx);
	free(syms);
	return 0;
}
