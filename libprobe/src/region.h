/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The shared-memory region (see lprobe_shm.h): created once per process,
 * again in a forked child, and unlinked when the process exits. Without
 * /dev/shm (or with LPROBE_SHM=0) it is private memory of the same layout,
 * so the rest of libprobe, standalone records included, works the same.
 */
#ifndef LPROBE_REGION_H
#define LPROBE_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "lprobe_shm.h"

struct lpi_region_geom {
	uint32_t max_loops;
	uint32_t ring_len;  /* power of two */
	uint32_t sym_slots; /* power of two */
	uint32_t strtab_size;
	uint64_t threshold_ns;
	uint32_t version; /* 0: LPS_VERSION; the CPython probe writes LPS_VERSION_PY */
};

struct lpi_region {
	void *base;
	size_t size;
	struct lps_header *hdr;
	pid_t owner; /* the process that created the file: the one to unlink it */
	bool shared; /* a /dev/shm file, not private memory */
	char path[64];
};

/* Pure: fill a header for the geometry; returns the region size, or 0 if it is too big. */
size_t lpi_region_layout(struct lps_header *h, const struct lpi_region_geom *g);
/* Create the region: the file when want_shared, else (or on failure) private memory. */
int lpi_region_create(struct lpi_region *r, const struct lpi_region_geom *g, bool want_shared);
/*
 * Publish a private region as the file, contents copied: a forked child
 * starts private (a child that only execs or exits leaves no file) and
 * publishes once a loop runs in it. *out maps the file; r stays mapped.
 */
int lpi_region_publish(const struct lpi_region *r, struct lpi_region *out);
/* Forget a region inherited over fork without touching the parent's file. */
void lpi_region_abandon(struct lpi_region *r);
/* Remove the file (process exit); the memory stays mapped for threads still running. */
void lpi_region_unlink(struct lpi_region *r);

static inline struct lps_loop *lpi_region_loop(const struct lpi_region *r, uint32_t i)
{
	return (struct lps_loop *)((char *)r->base + r->hdr->loops_off +
				   (size_t)i * r->hdr->loop_stride);
}

/* Take a free slot for a loop (caller holds the runtime lock); -ENOSPC when full. */
int lpi_region_claim(struct lpi_region *r, uint64_t loop_id, uint64_t now_ns);

/*
 * A slot for a loop: one claimed in the region (*index its index), else
 * zeroed memory of the same layout, live, that *private_slot owns (*index
 * -1; the caller frees it). NULL: out of memory.
 */
struct lps_loop *lpi_region_bind(struct lpi_region *r, uint64_t loop_id, uint64_t now_ns,
				 int *index, void **private_slot);

#endif
