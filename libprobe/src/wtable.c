// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include "wtable.h"

static uint32_t slot_of(const void *w, uint32_t cap)
{
	uint64_t k = (uintptr_t)w;

	/* watchers are at least 8-byte aligned: the low bits carry nothing */
	return (uint32_t)(((k >> 3) * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

struct lpi_went *lpi_wtable_get(const struct lpi_wtable *t, const void *w)
{
	uint32_t i, n;

	if (!t->cap)
		return NULL;
	for (i = slot_of(w, t->cap), n = 0; n < t->cap; i = (i + 1) & (t->cap - 1), n++) {
		struct lpi_went *e = &t->e[i];

		if (e->w == w)
			return e;
		if (!e->w)
			return NULL;
	}
	return NULL;
}

static int rehash(struct lpi_wtable *t, uint32_t cap)
{
	struct lpi_went *e = calloc(cap, sizeof(*e));
	uint32_t i, j;

	if (!e)
		return -ENOMEM;
	for (i = 0; i < t->cap; i++) {
		const struct lpi_went *old = &t->e[i];

		if (!old->w || old->w == LPI_WT_TOMB)
			continue;
		for (j = slot_of(old->w, cap); e[j].w; j = (j + 1) & (cap - 1))
			;
		e[j] = *old;
	}
	free(t->e);
	t->e = e;
	t->cap = cap;
	t->tombs = 0;
	return 0;
}

int lpi_wtable_put(struct lpi_wtable *t, const void *w, void *cb, uint32_t watcher)
{
	struct lpi_went *e = lpi_wtable_get(t, w);
	uint32_t i;
	int err;

	if (e) {
		e->cb = cb;
		e->watcher = watcher;
		return 0;
	}
	/* keep a quarter free so probes stay short and always end */
	if (!t->cap || (t->used + t->tombs + 1) * 4 > t->cap * 3) {
		uint32_t cap = t->cap ? t->cap : 16;

		while ((t->used + 1) * 2 > cap)
			cap *= 2;
		err = rehash(t, cap);
		if (err)
			return err;
	}
	for (i = slot_of(w, t->cap); t->e[i].w && t->e[i].w != LPI_WT_TOMB;
	     i = (i + 1) & (t->cap - 1))
		;
	if (t->e[i].w == LPI_WT_TOMB)
		t->tombs--;
	t->e[i].w = w;
	t->e[i].cb = cb;
	t->e[i].watcher = watcher;
	t->used++;
	return 0;
}

bool lpi_wtable_del(struct lpi_wtable *t, const void *w, struct lpi_went *out)
{
	struct lpi_went *e = lpi_wtable_get(t, w);

	if (!e)
		return false;
	if (out)
		*out = *e;
	e->w = LPI_WT_TOMB;
	e->cb = NULL;
	t->used--;
	t->tombs++;
	return true;
}

void lpi_wtable_free(struct lpi_wtable *t)
{
	free(t->e);
	t->e = NULL;
	t->cap = t->used = t->tombs = 0;
}
