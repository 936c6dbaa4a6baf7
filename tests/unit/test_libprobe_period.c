// SPDX-License-Identifier: BSD-2-Clause
/*
 * What libev's loops and the CPython probe's share to fill their region
 * slot (libprobe/src/period.h, region.c's lpi_region_bind, symtab.c's
 * lpi_symtab_add_named), on plain memory: no loop, no interpreter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "period.h"
#include "region.h"
#include "symtab.h"

#define RING 8
#define MS 1000000ull

static struct lps_loop slot;
static struct lps_event ring[RING];

static void put(uint64_t i, uint32_t kind, uint64_t key, uint64_t start, uint64_t end)
{
	struct lps_event *e = &ring[i % RING];

	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->key = key;
	e->start_ns = start;
	e->end_ns = end;
	e->arg = (int32_t)key;
	e->reserved = key << 32 | 7;
}

static void busy_period_counts(void **state)
{
	struct lpi_period p = {0};
	uint64_t cbs = 0;

	(void)state;
	memset(&slot, 0, sizeof(slot));
	/* the first poll's start is unknown: nothing counted for it */
	lpi_period_begin(&p, &slot, 0, 0, 100);
	assert_int_equal(slot.poll_ns, 0);
	assert_int_equal(slot.busy_start_ns, 100);
	assert_int_equal(lpi_period_count(&p, &slot, 5, 130, &cbs), 30);
	assert_int_equal(cbs, 5);
	lpi_period_end(&p, &slot, 130);
	assert_int_equal(slot.busy_start_ns, 0);
	assert_int_equal(p.start, 0);
	/* the poll from 130 to 200 */
	lpi_period_begin(&p, &slot, 5, 5, 200);
	assert_int_equal(slot.poll_ns, 70);
	assert_int_equal(p.head, 5);
	/* a clock that went back gives 0, not 2^64 - 1 */
	assert_int_equal(lpi_period_count(&p, &slot, 6, 150, &cbs), 0);
	assert_int_equal(cbs, 1);
	lpi_period_end(&p, &slot, 210);
	assert_int_equal(slot.iterations, 2);
	assert_int_equal(slot.busy_ns, 30);
	assert_int_equal(slot.max_callbacks_per_iteration, 5);
	assert_int_equal(slot.callbacks_per_iteration[lps_cpi_bucket(5)], 1);
	assert_int_equal(slot.callbacks_per_iteration[lps_cpi_bucket(1)], 1);
	/* ending again while in the poll moves the poll's start only */
	lpi_period_end(&p, &slot, 220);
	assert_int_equal(p.poll_start, 220);
	assert_int_equal(slot.iterations, 2);
}

static void longest_callback(void **state)
{
	struct lpi_period p = {.start = 10, .head = 3};
	const struct lps_event *e;

	(void)state;
	memset(ring, 0, sizeof(ring));
	put(2, LPS_K_CALLBACK, 0xa, 0, 1000); /* the iteration before */
	put(3, LPS_K_CALLBACK, 0xb, 10, 30);
	put(4, LPS_K_SEGMENT, 0xc, 30, 500); /* a task segment is no callback */
	put(5, LPS_K_CALLBACK, 0xd, 30, 70);
	put(6, LPS_K_CALLBACK, 0xe, 70, 0); /* still running */
	e = lpi_period_longest(&p, ring, RING - 1, 7);
	assert_non_null(e);
	assert_int_equal(e->key, 0xd);
	/* none ended: none */
	assert_null(lpi_period_longest(&p, ring, RING - 1, 3));
}

static void stall_ring(void **state)
{
	struct lpi_period p = {.start = 100 * MS};
	struct lps_event e = {.key = 0x42,
			      .start_ns = 110 * MS,
			      .end_ns = 170 * MS,
			      .interval_ns = 5,
			      .watcher = LPS_W_IO,
			      .arg = 9,
			      .reserved = 0x300000002ull};
	uint32_t k;

	(void)state;
	memset(&slot, 0, sizeof(slot));
	lpi_period_stall(&slot, &p, 180 * MS, 4, 0x77, &e);
	assert_int_equal(slot.stall_head, 1);
	assert_int_equal(slot.stalls, 1);
	assert_int_equal(slot.stall_ring[0].seq, 2); /* done: readers take it */
	assert_int_equal(slot.stall_ring[0].start_ns, 100 * MS);
	assert_int_equal(slot.stall_ring[0].end_ns, 180 * MS);
	assert_int_equal(slot.stall_ring[0].callbacks, 4);
	assert_int_equal(slot.stall_ring[0].seg_key, 0x77);
	assert_int_equal(slot.stall_ring[0].cb_key, 0x42);
	assert_int_equal(slot.stall_ring[0].cb_end_ns - slot.stall_ring[0].cb_start_ns, 60 * MS);
	assert_int_equal(slot.stall_ring[0].cb_watcher, LPS_W_IO);
	assert_int_equal(slot.stall_ring[0].cb_arg, 9);
	assert_int_equal(slot.stall_ring[0].cb_interval_ns, 5);
	/* version 2 readers find the resume and suspend locations here */
	assert_int_equal(slot.stall_ring[0].reserved[0], 0x300000002ull);
	/* its longest callback overwritten: the stall still counts, named by nothing */
	for (k = 1; k <= LPS_STALL_RING; k++)
		lpi_period_stall(&slot, &p, 180 * MS + k, 1, 0, NULL);
	assert_int_equal(slot.stalls, LPS_STALL_RING + 1);
	assert_int_equal(slot.stall_ring[0].seq, 2 * LPS_STALL_RING + 2);
	assert_int_equal(slot.stall_ring[0].end_ns, 180 * MS + LPS_STALL_RING);
	assert_int_equal(slot.stall_ring[0].cb_key, 0);
}

static void publish_and_heartbeat(void **state)
{
	(void)state;
	memset(&slot, 0, sizeof(slot));
	lpi_period_publish(&slot, 17, 12, 3000, 900);
	assert_int_equal(slot.ring_head, 17);
	assert_int_equal(slot.callbacks, 12);
	assert_int_equal(slot.callback_ns, 3000);
	assert_int_equal(slot.callback_max_ns, 900);
	lpi_heartbeat_count(&slot, 2 * MS);
	lpi_heartbeat_count(&slot, 0);
	assert_int_equal(slot.heartbeat_samples, 2);
	assert_int_equal(slot.heartbeat_max_ns, 2 * MS);
	assert_int_equal(slot.heartbeat_late[lps_hist_bucket(2 * MS)], 1);
	assert_int_equal(slot.heartbeat_late[lps_hist_bucket(0)], 1);
}

static void region_bind_falls_back_to_private(void **state)
{
	struct lpi_region_geom g = {
	    .max_loops = 1, .ring_len = RING, .sym_slots = 16, .strtab_size = 256};
	struct lpi_region r;
	struct lps_loop *a, *b;
	void *priv = (void *)1;
	int ia = 7, ib = 7;

	(void)state;
	assert_int_equal(lpi_region_create(&r, &g, false), 0);
	a = lpi_region_bind(&r, 0x1, 5, &ia, &priv);
	assert_ptr_equal(a, lpi_region_loop(&r, 0));
	assert_int_equal(ia, 0);
	assert_null(priv);
	/* the region is full: memory of the same layout, live, that the caller owns */
	b = lpi_region_bind(&r, 0x2, 6, &ib, &priv);
	assert_non_null(b);
	assert_ptr_equal(b, priv);
	assert_int_equal(ib, -1);
	assert_int_equal(b->state, LPS_LOOP_LIVE);
	assert_int_equal(b->loop_id, 0x2);
	assert_int_equal(b->attached_ns, 6);
	assert_int_equal(b->stalls, 0);
	free(priv);
	lpi_region_abandon(&r);
}

static int named;

static int namer(uint64_t key, char *name, size_t name_len, char *module, size_t module_len)
{
	named++;
	snprintf(name, name_len, "fn_%llx", (unsigned long long)key);
	snprintf(module, module_len, "/lib/m.so");
	return 0;
}

static void symtab_names_new_keys_only(void **state)
{
	struct lpi_region_geom g = {
	    .max_loops = 1, .ring_len = RING, .sym_slots = 8, .strtab_size = 4096};
	struct lpi_region r;
	struct lps_sym *e;
	char buf[64];
	uint64_t k;

	(void)state;
	named = 0;
	assert_int_equal(lpi_region_create(&r, &g, false), 0);
	e = lpi_symtab_add_named(&r, 0xab, 0, namer);
	assert_non_null(e);
	assert_string_equal(lpi_symtab_text(&r, e, false, buf, sizeof(buf)), "fn_ab");
	assert_string_equal(lpi_symtab_text(&r, e, true, buf, sizeof(buf)), "/lib/m.so");
	/* known key: its entry, and the (slow) namer is not asked again */
	assert_ptr_equal(lpi_symtab_add_named(&r, 0xab, 0, namer), e);
	assert_int_equal(named, 1);
	assert_null(lpi_symtab_add_named(&r, 0, 0, namer));
	/* three quarters full: no more entries, and no naming for nothing */
	for (k = 1; k < 6; k++)
		assert_non_null(lpi_symtab_add_named(&r, 0x100 + k, LPS_SYM_NAME, namer));
	assert_int_equal(named, 6);
	assert_null(lpi_symtab_add_named(&r, 0x200, 0, namer));
	assert_int_equal(named, 6);
	lpi_region_abandon(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(busy_period_counts),
	    cmocka_unit_test(longest_callback),
	    cmocka_unit_test(stall_ring),
	    cmocka_unit_test(publish_and_heartbeat),
	    cmocka_unit_test(region_bind_falls_back_to_private),
	    cmocka_unit_test(symtab_names_new_keys_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
