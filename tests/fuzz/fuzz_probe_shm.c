// SPDX-License-Identifier: BSD-2-Clause
/*
 * libprobe's shared-memory region as the agent reads it (probe_shm.c): the
 * traced program writes every byte of it. A valid region is laid out for a
 * geometry the input picks (lpi_region_layout), then the input is XORed
 * over its header, its loops and its symbol and string tables; the agent
 * maps it and asks what it would ask during a recording. Optionally the
 * file is then truncated under the mapping (a SIGBUS the reader guards).
 *
 * Input: geometry (4 bytes), flags (1: XOR over the header too, 2: truncate
 * after mapping, 4: version 2, the CPython probe's), a query window (2 x u64), then three equal parts XORed
 * over the header, the loops and the symbol/string tables.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lprobe_shm.h"
#include "probe_shm.h"
#include "region.h"

#define PREFIX 21

static void xor_into(uint8_t *dst, size_t room, const uint8_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < room; i++)
		dst[i] ^= src[i];
}

static void query(struct ls_probe_shm *p, const uint8_t *region, size_t size,
		  const struct lps_header *h, uint64_t start, uint64_t end)
{
	struct ls_stall_callback cb;
	struct ls_probe_thread th;
	uint32_t i, tids[LPS_MAX_LOOPS + 2];
	unsigned n = 0;

	tids[n++] = 0;
	tids[n++] = 777;
	for (i = 0; i < h->max_loops && i < LPS_MAX_LOOPS; i++) {
		size_t off = (size_t)h->loops_off + (size_t)i * h->loop_stride;

		if (off + sizeof(struct lps_loop) <= size)
			tids[n++] = ((const struct lps_loop *)(region + off))->tid;
	}
	for (i = 0; i < n; i++) {
		memset(&cb, 0, sizeof(cb));
		if (!ls_probe_shm__callback(p, tids[i], start, end, &cb) &&
		    (cb.n_recent > LS_PROBE_RECENT ||
		     strnlen(cb.cb.symbol, sizeof(cb.cb.symbol)) == sizeof(cb.cb.symbol) ||
		     strnlen(cb.span, sizeof(cb.span)) == sizeof(cb.span) ||
		     strnlen(cb.cb.task, sizeof(cb.cb.task)) == sizeof(cb.cb.task) ||
		     strnlen(cb.cb.resumed_at, sizeof(cb.cb.resumed_at)) == sizeof(cb.cb.resumed_at) ||
		     strnlen(cb.cb.suspended_at, sizeof(cb.cb.suspended_at)) ==
			 sizeof(cb.cb.suspended_at)))
			abort();
		(void)ls_probe_shm__callback_at(p, tids[i], end, &cb);
		(void)ls_probe_shm__thread(p, tids[i], &th);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ls_probe_expect ex = {.uid = geteuid()};
	struct lpi_region_geom g;
	struct ls_probe_shm *p = NULL;
	struct lps_header h;
	uint64_t start, end;
	size_t region_size, part;
	uint8_t *region;
	int fd;

	if (size < PREFIX)
		return 0;
	g.max_loops = 1 + data[0] % 4;
	g.ring_len = 1u << (data[1] % 7);
	g.sym_slots = 1u << (data[2] % 7);
	g.strtab_size = 64 + 16u * data[3];
	g.threshold_ns = 50000000;
	g.version = data[4] & 4 ? LPS_VERSION_PY : LPS_VERSION;
	memcpy(&start, data + 5, 8);
	memcpy(&end, data + 13, 8);
	region_size = lpi_region_layout(&h, &g);
	if (!region_size)
		return 0;
	h.magic = LPS_MAGIC;
	region = calloc(1, region_size);
	if (!region)
		return 0;
	memcpy(region, &h, sizeof(h));
	part = (size - PREFIX) / 3;
	if (data[4] & 1)
		xor_into(region, sizeof(h), data + PREFIX, part);
	if (h.loops_off < region_size)
		xor_into(region + h.loops_off, region_size - h.loops_off, data + PREFIX + part,
			 part);
	if (h.syms_off < region_size)
		xor_into(region + h.syms_off, region_size - h.syms_off, data + PREFIX + 2 * part,
			 size - PREFIX - 2 * part);
	fd = memfd_create("fuzz_probe_shm", MFD_CLOEXEC);
	if (fd < 0 || fchmod(fd, 0600) || write(fd, region, region_size) != (ssize_t)region_size)
		goto cleanup;
	if (ls_probe_shm__map_fd(fd, &ex, &p))
		goto cleanup;
	query(p, region, region_size, &h, start, end);
	if (data[4] & 2) {
		/* shrink the file under the mapping: reads past the new end raise SIGBUS */
		if (!ftruncate(fd, (off_t)(region_size / 2)))
			query(p, region, region_size / 2, &h, start, end);
	}
cleanup:
	ls_probe_shm__free(p);
	if (fd >= 0)
		close(fd);
	free(region);
	return 0;
}
