/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Source mode keeps each started watcher's own callback here, keyed by the
 * watcher's address, while the watcher itself points at libprobe's
 * trampoline: libev's watcher structs have no room for more (EV_COMMON
 * cannot change without breaking libev's ABI). Open addressing, linear
 * probing; pure, no locking (one loop, one thread).
 */
#ifndef LPROBE_WTABLE_H
#define LPROBE_WTABLE_H

#include <stdbool.h>
#include <stdint.h>

struct lpi_went {
	const void *w; /* NULL: empty; LPI_WT_TOMB: deleted */
	void *cb;
	uint32_t watcher;
};

struct lpi_wtable {
	struct lpi_went *e;
	uint32_t cap; /* power of two, or 0 */
	uint32_t used;
	uint32_t tombs;
};

#define LPI_WT_TOMB ((const void *)1)

/* Insert or replace; -ENOMEM leaves the table as it was. */
int lpi_wtable_put(struct lpi_wtable *t, const void *w, void *cb, uint32_t watcher);
struct lpi_went *lpi_wtable_get(const struct lpi_wtable *t, const void *w);
/* Remove w, copying its entry to *out when out is not NULL; false if absent. */
bool lpi_wtable_del(struct lpi_wtable *t, const void *w, struct lpi_went *out);
void lpi_wtable_free(struct lpi_wtable *t);

#endif
