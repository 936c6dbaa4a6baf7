// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "symtab.h"

static struct lps_sym *table(const struct lpi_region *r)
{
	return (struct lps_sym *)((char *)r->base + r->hdr->syms_off);
}

struct lps_sym *lpi_symtab_find(const struct lpi_region *r, uint64_t key, bool *found)
{
	struct lps_sym *tab = table(r);
	uint32_t n = r->hdr->sym_slots, i = lps_sym_hash(key, n), k;

	*found = false;
	for (k = 0; k < n; k++, i = (i + 1) & (n - 1)) {
		uint64_t have = __atomic_load_n(&tab[i].key, __ATOMIC_ACQUIRE);

		if (have == key) {
			*found = true;
			return &tab[i];
		}
		if (!have)
			return &tab[i];
	}
	return NULL;
}

uint32_t lpi_symtab_count(const struct lpi_region *r)
{
	const struct lps_sym *tab = table(r);
	uint32_t i, n = 0;

	for (i = 0; i < r->hdr->sym_slots; i++)
		n += tab[i].key != 0;
	return n;
}

static uint32_t add_text(struct lpi_region *r, const char *s, size_t len)
{
	struct lps_header *h = r->hdr;
	uint64_t used = h->strtab_used;

	if (!len || len > LPS_MAX_SYM_LEN || used + len > h->strtab_size)
		return UINT32_MAX;
	memcpy((char *)r->base + h->strtab_off + used, s, len);
	__atomic_store_n(&h->strtab_used, used + len, __ATOMIC_RELEASE);
	return (uint32_t)used;
}

/* Where key goes: its entry (*found) or a free slot; NULL when key is 0 or the table is full. */
static struct lps_sym *claim(struct lpi_region *r, uint64_t key, bool *found)
{
	struct lps_sym *e;

	*found = false;
	if (!key)
		return NULL;
	e = lpi_symtab_find(r, key, found);
	if (!e || *found)
		return e;
	/* keep a quarter free so every lookup ends at an empty slot soon */
	if ((lpi_symtab_count(r) + 1) * 4 > r->hdr->sym_slots * 3)
		return NULL;
	return e;
}

/* Fill free slot e with key and its texts; the key last, which makes it visible. */
static struct lps_sym *fill(struct lpi_region *r, struct lps_sym *e, uint64_t key, const char *name,
			    const char *module, uint16_t flags)
{
	size_t nlen = name ? strlen(name) : 0, mlen = module ? strlen(module) : 0;
	uint32_t off;

	e->flags = flags;
	e->name_len = 0;
	e->module_len = 0;
	off = add_text(r, name, nlen);
	if (off != UINT32_MAX) {
		e->name_off = off;
		e->name_len = (uint16_t)nlen;
	}
	off = add_text(r, module, mlen);
	if (off != UINT32_MAX) {
		e->module_off = off;
		e->module_len = (uint16_t)mlen;
	}
	__atomic_store_n(&e->key, key, __ATOMIC_RELEASE);
	return e;
}

struct lps_sym *lpi_symtab_add(struct lpi_region *r, uint64_t key, const char *name,
			       const char *module, uint16_t flags)
{
	bool found;
	struct lps_sym *e = claim(r, key, &found);

	return e && !found ? fill(r, e, key, name, module, flags) : e;
}

struct lps_sym *lpi_symtab_add_named(struct lpi_region *r, uint64_t key, uint16_t flags,
				     lpi_symtab_namer *namer)
{
	char name[LPS_MAX_SYM_LEN], module[256];
	bool found;
	struct lps_sym *e = claim(r, key, &found);

	if (!e || found)
		return e;
	name[0] = module[0] = '\0';
	namer(key, name, sizeof(name), module, sizeof(module));
	return fill(r, e, key, name, module, flags);
}

const char *lpi_symtab_text(const struct lpi_region *r, const struct lps_sym *e, bool module,
			    char *buf, size_t len)
{
	uint32_t off;
	uint16_t n;

	if (!e)
		return NULL;
	off = module ? e->module_off : e->name_off;
	n = module ? e->module_len : e->name_len;
	if (!n || n >= len)
		return NULL;
	memcpy(buf, (char *)r->base + r->hdr->strtab_off + off, n);
	buf[n] = '\0';
	return buf;
}
