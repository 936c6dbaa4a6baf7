// SPDX-License-Identifier: BSD-2-Clause
/*
 * .debug_aranges by address (aranges.h): libdwfl's unit for an address
 * (gaps to the unit before, the last end included, nothing outside), no
 * answer where qsort's order of equal addresses decides, and a refusal of
 * any section libdw would read otherwise than the standard says.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "aranges.h"

struct sec {
	unsigned char b[4096];
	size_t n;
	bool msb;
};

static void put(struct sec *s, uint64_t v, unsigned w)
{
	unsigned i;

	assert_true(s->n + w <= sizeof(s->b));
	for (i = 0; i < w; i++) {
		unsigned shift = 8 * (s->msb ? w - 1 - i : i);

		/* wider than v (padding): zeros, not a shift past its 64 bits */
		s->b[s->n + i] = shift < 64 ? (unsigned char)(v >> shift) : 0;
	}
	s->n += w;
}

struct set {
	size_t start;
	bool dwarf64;
	unsigned asz;
};

/* A set's header (its length written by set_end), padded to the first pair. */
static struct set set_begin(struct sec *s, bool dwarf64, unsigned version, uint64_t unit,
			    unsigned asz, unsigned ssz)
{
	struct set t = {.start = s->n, .dwarf64 = dwarf64, .asz = asz};

	if (dwarf64)
		put(s, 0xffffffff, 4);
	put(s, 0, dwarf64 ? 8 : 4);
	put(s, version, 2);
	put(s, unit, dwarf64 ? 8 : 4);
	put(s, asz, 1);
	put(s, ssz, 1);
	while ((s->n - t.start) % (2 * (asz ? asz : 1)))
		put(s, 0, 1);
	return t;
}

static void pair(struct sec *s, const struct set *t, uint64_t addr, uint64_t len)
{
	put(s, addr, t->asz);
	put(s, len, t->asz);
}

/* The terminator, then the length: what follows the length field. */
static void set_end(struct sec *s, const struct set *t)
{
	size_t at = t->start + (t->dwarf64 ? 4 : 0), n = s->n;
	unsigned w = t->dwarf64 ? 8 : 4;

	pair(s, t, 0, 0);
	n = s->n;
	s->n = at;
	put(s, n - at - w, w);
	s->n = n;
}

static void one_set(struct sec *s, uint64_t unit, const uint64_t (*pairs)[2], size_t n)
{
	struct set t = set_begin(s, false, 2, unit, 8, 0);
	size_t i;

	for (i = 0; i < n; i++)
		pair(s, &t, pairs[i][0], pairs[i][1]);
	set_end(s, &t);
}

static struct ls_aranges *parsed(const struct sec *s)
{
	struct ls_aranges *x = NULL;

	assert_int_equal(ls_aranges__parse(s->b, s->n, s->msb, &x), 0);
	assert_non_null(x);
	return x;
}

static void assert_unit(const struct ls_aranges *x, uint64_t addr, uint64_t want)
{
	uint64_t unit = ~0ull;
	size_t k = ~(size_t)0;
	const uint64_t *units;
	size_t n = ls_aranges__units(x, &units);

	assert_int_equal(ls_aranges__find(x, addr, &unit, &k), LS_ARANGES_UNIT);
	assert_int_equal(unit, want);
	assert_true(k < n);
	assert_int_equal(units[k], want);
}

#define NONE(x, a) assert_int_equal(ls_aranges__find(x, a, &(uint64_t){0}, NULL), LS_ARANGES_NONE)
#define ASK(x, a) assert_int_equal(ls_aranges__find(x, a, &(uint64_t){0}, NULL), LS_ARANGES_ASK)

static void gaps_belong_to_the_unit_before(void **state)
{
	/* unit 0x0b: two pieces around unit 0x200's; unit 0x400 last */
	static const uint64_t a[][2] = {{0x1000, 0x100}, {0x1800, 0x80}};
	static const uint64_t b[][2] = {{0x1200, 0x100}};
	static const uint64_t c[][2] = {{0x3000, 0x40}};
	struct sec s = {0};
	struct ls_aranges *x;
	const uint64_t *units;

	(void)state;
	one_set(&s, 0x0b, a, 2);
	one_set(&s, 0x200, b, 1);
	one_set(&s, 0x400, c, 1);
	x = parsed(&s);
	assert_int_equal(ls_aranges__entries(x), 4);
	assert_int_equal(ls_aranges__units(x, &units), 3);
	assert_int_equal(units[0], 0x0b);
	assert_int_equal(units[2], 0x400);

	NONE(x, 0);
	NONE(x, 0xfff);
	assert_unit(x, 0x1000, 0x0b);
	assert_unit(x, 0x10ff, 0x0b);
	/* the gap after a piece is its unit's, up to the next piece */
	assert_unit(x, 0x1100, 0x0b);
	assert_unit(x, 0x11ff, 0x0b);
	assert_unit(x, 0x1200, 0x200);
	assert_unit(x, 0x17ff, 0x200);
	assert_unit(x, 0x1800, 0x0b);
	assert_unit(x, 0x2fff, 0x0b);
	assert_unit(x, 0x3000, 0x400);
	/* libdwfl's last end is inclusive */
	assert_unit(x, 0x3040, 0x400);
	NONE(x, 0x3041);
	NONE(x, ~0ull);
	ls_aranges__free(x);
}

/* The last run, not the last entry alone, ends at the last entry's end. */
static void last_run_ends_at_last_entry(void **state)
{
	static const uint64_t a[][2] = {{0x1000, 0x10}};
	static const uint64_t b[][2] = {{0x2000, 0x10}, {0x3000, 0x10}};
	struct sec s = {0};
	struct ls_aranges *x;

	(void)state;
	one_set(&s, 0x0b, a, 1);
	one_set(&s, 0x80, b, 2);
	x = parsed(&s);
	assert_unit(x, 0x1fff, 0x0b);
	assert_unit(x, 0x2010, 0x80);
	assert_unit(x, 0x2fff, 0x80);
	assert_unit(x, 0x3010, 0x80);
	NONE(x, 0x3011);
	ls_aranges__free(x);
}

/* Sets out of address order, and pairs out of order inside a set. */
static void sorts_what_it_reads(void **state)
{
	static const uint64_t a[][2] = {{0x5000, 0x10}, {0x1000, 0x10}};
	static const uint64_t b[][2] = {{0x3000, 0x10}};
	struct sec s = {0};
	struct ls_aranges *x;

	(void)state;
	one_set(&s, 0x0b, a, 2);
	one_set(&s, 0x90, b, 1);
	x = parsed(&s);
	NONE(x, 0xfff);
	assert_unit(x, 0x1000, 0x0b);
	assert_unit(x, 0x2fff, 0x0b);
	assert_unit(x, 0x3000, 0x90);
	assert_unit(x, 0x4fff, 0x90);
	assert_unit(x, 0x5010, 0x0b);
	NONE(x, 0x5011);
	ls_aranges__free(x);
}

/* DWARF64 lengths and offsets, 4-byte addresses, big-endian: all as DWARF 2-5 write them. */
static void reads_dwarf64_addr4_msb(void **state)
{
	struct sec s = {.msb = true};
	struct ls_aranges *x;
	struct set t;

	(void)state;
	t = set_begin(&s, true, 2, 0x100000000ull, 4, 0);
	pair(&s, &t, 0x8000, 0x100);
	set_end(&s, &t);
	t = set_begin(&s, false, 2, 0x40, 4, 0);
	pair(&s, &t, 0x9000, 0x100);
	set_end(&s, &t);
	x = parsed(&s);
	assert_unit(x, 0x8000, 0x100000000ull);
	assert_unit(x, 0x8fff, 0x100000000ull);
	assert_unit(x, 0x9100, 0x40);
	NONE(x, 0x9101);
	ls_aranges__free(x);
}

/* Two units at one address: libdwfl's pick is qsort's, so no answer until the next entry. */
static void equal_addresses_of_two_units_ask(void **state)
{
	static const uint64_t a[][2] = {{0x1000, 0x10}, {0x2000, 0x10}, {0x4000, 0x10}};
	static const uint64_t b[][2] = {{0x2000, 0x20}};
	static const uint64_t c[][2] = {{0x3000, 0x10}};
	struct sec s = {0};
	struct ls_aranges *x;

	(void)state;
	one_set(&s, 0x0b, a, 3);
	one_set(&s, 0x70, b, 1);
	one_set(&s, 0x90, c, 1);
	x = parsed(&s);
	assert_unit(x, 0x1fff, 0x0b);
	ASK(x, 0x2000);
	ASK(x, 0x2fff);
	assert_unit(x, 0x3000, 0x90);
	assert_unit(x, 0x4010, 0x0b);
	ls_aranges__free(x);
}

/* The last entry is qsort's pick among equal addresses: its end is unsure. */
static void unsure_last_end_asks(void **state)
{
	static const uint64_t a[][2] = {{0x1000, 0x10}, {0x2000, 0x10}, {0x2000, 0x40}};
	static const uint64_t b[][2] = {{0x9000, 0x10}, {0x9000, 0x10}};
	struct sec s = {0};
	struct ls_aranges *x;

	(void)state;
	one_set(&s, 0x0b, a, 3);
	x = parsed(&s);
	assert_unit(x, 0x1fff, 0x0b);
	/* below both ends, or past both, libdwfl's answer is the same either way */
	assert_unit(x, 0x2010, 0x0b);
	ASK(x, 0x2011);
	ASK(x, 0x2040);
	NONE(x, 0x2041);
	ls_aranges__free(x);
	/* the same length twice: sure again */
	memset(&s, 0, sizeof(s));
	one_set(&s, 0x0b, b, 2);
	x = parsed(&s);
	assert_unit(x, 0x9010, 0x0b);
	NONE(x, 0x9011);
	ls_aranges__free(x);
}

/* An end past 2^64 wraps as libdwfl's does; at the run's start it still answers. */
static void wrapping_end(void **state)
{
	static const uint64_t a[][2] = {{0xfffffffffffff000ull, 0x2000}};
	struct sec s = {0};
	struct ls_aranges *x;

	(void)state;
	one_set(&s, 0x0b, a, 1);
	x = parsed(&s);
	NONE(x, 0x500);
	assert_unit(x, 0xfffffffffffff000ull, 0x0b);
	NONE(x, 0xfffffffffffff001ull);
	ls_aranges__free(x);
}

static void empty_section_has_no_unit(void **state)
{
	struct ls_aranges *x = NULL;
	const uint64_t *units;

	(void)state;
	assert_int_equal(ls_aranges__parse("", 0, false, &x), 0);
	assert_int_equal(ls_aranges__entries(x), 0);
	assert_int_equal(ls_aranges__units(x, &units), 0);
	NONE(x, 0x1000);
	ls_aranges__free(x);
	assert_int_equal(ls_aranges__find(NULL, 0x1000, &(uint64_t){0}, NULL), LS_ARANGES_ASK);
}

static void refuses(const struct sec *s, size_t n)
{
	struct ls_aranges *x = (void *)1;

	assert_int_equal(ls_aranges__parse(s->b, n, s->msb, &x), -EINVAL);
	assert_null(x);
}

/* Every cut of a section inside a set is refused; a cut between sets reads the sets before. */
static void truncated_anywhere(void **state)
{
	static const uint64_t a[][2] = {{0x1000, 0x10}, {0x2000, 0x10}};
	struct sec s = {0};
	struct ls_aranges *x;
	size_t first, n;
	struct set t;

	(void)state;
	one_set(&s, 0x0b, a, 2);
	first = s.n;
	t = set_begin(&s, true, 2, 0x80, 8, 0);
	pair(&s, &t, 0x3000, 0x10);
	set_end(&s, &t);
	for (n = 1; n < s.n; n++) {
		if (n == first) {
			assert_int_equal(ls_aranges__parse(s.b, n, false, &x), 0);
			assert_int_equal(ls_aranges__entries(x), 2);
			ls_aranges__free(x);
			continue;
		}
		refuses(&s, n);
	}
	x = parsed(&s);
	assert_int_equal(ls_aranges__entries(x), 3);
	ls_aranges__free(x);
}

static void bad_headers_refused(void **state)
{
	struct sec s;
	struct set t;

	(void)state;
	/* version 3 (libdw reads 2 only), address size 2, a segment selector */
	memset(&s, 0, sizeof(s));
	t = set_begin(&s, false, 3, 0x0b, 8, 0);
	pair(&s, &t, 0x1000, 0x10);
	set_end(&s, &t);
	refuses(&s, s.n);
	memset(&s, 0, sizeof(s));
	t = set_begin(&s, false, 2, 0x0b, 2, 0);
	pair(&s, &t, 0x1000, 0x10);
	set_end(&s, &t);
	refuses(&s, s.n);
	memset(&s, 0, sizeof(s));
	t = set_begin(&s, false, 2, 0x0b, 8, 4);
	pair(&s, &t, 0x1000, 0x10);
	set_end(&s, &t);
	refuses(&s, s.n);
	/* a reserved length escape */
	memset(&s, 0, sizeof(s));
	put(&s, 0xfffffff5, 4);
	put(&s, 2, 2);
	refuses(&s, s.n);
	/* a length past the section, and one that would wrap */
	memset(&s, 0, sizeof(s));
	t = set_begin(&s, false, 2, 0x0b, 8, 0);
	set_end(&s, &t);
	s.b[0] += 1;
	refuses(&s, s.n);
	memset(&s, 0, sizeof(s));
	t = set_begin(&s, true, 2, 0x0b, 8, 0);
	set_end(&s, &t);
	memset(s.b + 4, 0xff, 8);
	refuses(&s, s.n);
}

/* libdw goes on right after the terminator: a set whose length says otherwise is refused. */
static void terminator_must_end_the_set(void **state)
{
	struct sec s = {0};
	struct set t;

	(void)state;
	/* padding after the terminator (libdw would read it as the next header) */
	t = set_begin(&s, false, 2, 0x0b, 8, 0);
	pair(&s, &t, 0x1000, 0x10);
	set_end(&s, &t);
	put(&s, 0, 16);
	s.b[0] += 16;
	refuses(&s, s.n);
	/* no terminator: the pairs run to the set's length */
	memset(&s, 0, sizeof(s));
	t = set_begin(&s, false, 2, 0x0b, 8, 0);
	pair(&s, &t, 0x1000, 0x10);
	set_end(&s, &t);
	s.b[0] -= 16;
	s.n -= 16;
	refuses(&s, s.n);
	/* (0, 0) inside a set ends it early for libdw */
	memset(&s, 0, sizeof(s));
	t = set_begin(&s, false, 2, 0x0b, 8, 0);
	pair(&s, &t, 0, 0);
	pair(&s, &t, 0x1000, 0x10);
	set_end(&s, &t);
	refuses(&s, s.n);
}

/* A unit header of .debug_info (DIEs left zero), pos at its end; its first DIE's offset. */
static size_t unit(struct sec *s, bool dwarf64, unsigned version, unsigned type, uint64_t abbrev,
		   size_t dies)
{
	size_t at, die;
	unsigned w = dwarf64 ? 8 : 4;

	if (dwarf64)
		put(s, 0xffffffff, 4);
	at = s->n;
	put(s, 0, w);
	put(s, version, 2);
	if (version >= 5) {
		put(s, type, 1);
		put(s, 8, 1);
		put(s, abbrev, w);
		if (type == 4 || type == 5)
			put(s, 0x1234, 8);
	} else {
		put(s, abbrev, w);
		put(s, 8, 1);
	}
	die = s->n;
	put(s, 0, dies);
	s->n = at;
	put(s, die + dies - at - w, w);
	s->n = die + dies;
	return die;
}

static struct ls_aranges *naming(const uint64_t *units, size_t n)
{
	struct sec s = {0};
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t pairs[1][2] = {{0x1000 * (i + 1), 0x10}};

		one_set(&s, units[i], (const uint64_t(*)[2])pairs, 1);
	}
	return parsed(&s);
}

/* Unit DIEs after DWARF 4, 5, skeleton and DWARF64 headers; offsets that start no unit refuse. */
static void unit_dies_as_libdw_reads_them(void **state)
{
	struct sec info = {0};
	uint64_t u[4], dies[4], d[4];
	struct ls_aranges *x;

	(void)state;
	u[0] = info.n, d[0] = unit(&info, false, 4, 0, 0, 16);
	u[1] = info.n, d[1] = unit(&info, false, 5, 1, 0x40, 16);
	u[2] = info.n, d[2] = unit(&info, false, 5, 4, 0, 16);
	u[3] = info.n, d[3] = unit(&info, true, 5, 1, 0, 16);
	assert_int_equal(d[0] - u[0], 11);
	assert_int_equal(d[1] - u[1], 12);
	assert_int_equal(d[2] - u[2], 20);
	assert_int_equal(d[3] - u[3], 24);
	x = naming(u, 4);
	assert_int_equal(ls_aranges__unit_dies(x, info.b, info.n, 0x100, false, dies), 0);
	assert_memory_equal(dies, d, sizeof(d));
	/* an abbreviation table past .debug_abbrev: libdw fails the unit */
	assert_int_equal(ls_aranges__unit_dies(x, info.b, info.n, 0x3f, false, dies), -EINVAL);
	/* the section cut inside the last unit */
	assert_int_equal(ls_aranges__unit_dies(x, info.b, info.n - 1, 0x100, false, dies), -EINVAL);
	ls_aranges__free(x);
	/* inside a unit, and past them all */
	u[1] += 1;
	x = naming(u, 2);
	assert_int_equal(ls_aranges__unit_dies(x, info.b, info.n, 0x100, false, dies), -EINVAL);
	ls_aranges__free(x);
	u[1] = info.n;
	x = naming(u, 2);
	assert_int_equal(ls_aranges__unit_dies(x, info.b, info.n, 0x100, false, dies), -EINVAL);
	ls_aranges__free(x);
	/* a version libdw does not read ends the chain there */
	info.b[u[0] + 4] = 6;
	x = naming(u, 1);
	assert_int_equal(ls_aranges__unit_dies(x, info.b, info.n, 0x100, false, dies), -EINVAL);
	ls_aranges__free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(gaps_belong_to_the_unit_before),
	    cmocka_unit_test(last_run_ends_at_last_entry),
	    cmocka_unit_test(sorts_what_it_reads),
	    cmocka_unit_test(reads_dwarf64_addr4_msb),
	    cmocka_unit_test(equal_addresses_of_two_units_ask),
	    cmocka_unit_test(unsure_last_end_asks),
	    cmocka_unit_test(wrapping_end),
	    cmocka_unit_test(empty_section_has_no_unit),
	    cmocka_unit_test(truncated_anywhere),
	    cmocka_unit_test(bad_headers_refused),
	    cmocka_unit_test(terminator_must_end_the_set),
	    cmocka_unit_test(unit_dies_as_libdw_reads_them),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
