// SPDX-License-Identifier: BSD-2-Clause
/*
 * cuindex.h on real DWARF: python3.11's debug file (python3.11-dbg),
 * libc's (libc6-dbg) and this test's own. At every arange's edges, one
 * byte either side, in each gap and past the end, the unit DIE the index
 * gives is the one dwfl_module_addrdie gives, and the index answers
 * nearly all of them itself. Debug files are found by build-id; missing
 * ones fail under CI=true, else skip.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include "cuindex.h"

/* Loaded where a PIE would be: the DWARF bias is not 0. */
#define BASE 0x555555554000ull

static char *debuginfo_path = "/usr/lib/debug";

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

static Dwfl_Module *report(Dwfl **dwfl, const char *path)
{
	Dwfl_Module *mod;

	*dwfl = dwfl_begin(&callbacks);
	assert_non_null(*dwfl);
	dwfl_report_begin(*dwfl);
	mod = dwfl_report_elf(*dwfl, path, path, -1, BASE, false);
	assert_non_null(mod);
	assert_int_equal(dwfl_report_end(*dwfl, NULL, NULL), 0);
	return mod;
}

/* The file's debug file by its build-id, or skip (fail under CI=true) when it is missing. */
static Dwfl_Module *with_debug_file(Dwfl **dwfl, const char *path, const char *package)
{
	Dwfl_Module *mod;
	const unsigned char *id;
	char debug[256];
	const char *ci = getenv("CI");
	GElf_Addr vaddr;
	int n, i, at;

	if (access(path, R_OK)) {
		if (ci && !strcmp(ci, "true"))
			fail_msg("%s: missing (install %s)", path, package);
		skip();
	}
	mod = report(dwfl, path);
	n = dwfl_module_build_id(mod, &id, &vaddr);
	assert_true(n > 1);
	at = snprintf(debug, sizeof(debug), "/usr/lib/debug/.build-id/%02x/", id[0]);
	for (i = 1; i < n; i++)
		at += snprintf(debug + at, sizeof(debug) - at, "%02x", id[i]);
	snprintf(debug + at, sizeof(debug) - at, ".debug");
	if (access(debug, R_OK)) {
		dwfl_end(*dwfl);
		if (ci && !strcmp(ci, "true"))
			fail_msg("%s: no debug file %s (install %s)", path, debug, package);
		skip();
	}
	return mod;
}

struct tally {
	size_t asked, by_index, units, none;
};

static void compare_at(struct ls_cuindex *c, Dwfl_Module *mod, Dwarf_Addr addr, struct tally *t)
{
	Dwarf_Addr b1 = 1, b2 = 2;
	Dwarf_Die mem, *mine, *libdwfl;

	mine = ls_cuindex__addrdie(c, mod, addr, &b1, &mem);
	t->asked++;
	if (!ls_cuindex__last_from_index(c))
		return;
	t->by_index++;
	libdwfl = dwfl_module_addrdie(mod, addr, &b2);
	if (!mine != !libdwfl)
		fail_msg("%#" PRIx64 ": index %s, libdwfl %s", (uint64_t)addr,
			 mine ? "a unit" : "none", libdwfl ? "a unit" : "none");
	assert_int_equal(b1, b2);
	if (!mine) {
		t->none++;
		return;
	}
	t->units++;
	if (dwarf_dieoffset(mine) != dwarf_dieoffset(libdwfl))
		fail_msg("%#" PRIx64 ": index unit DIE %#" PRIx64 ", libdwfl %#" PRIx64,
			 (uint64_t)addr, (uint64_t)dwarf_dieoffset(mine),
			 (uint64_t)dwarf_dieoffset(libdwfl));
}

/* Every arange's edges (from libdw's own table), gaps, and outside: same unit as libdwfl. */
static void compare_module(Dwfl_Module *mod, const char *what)
{
	struct ls_cuindex *c = ls_cuindex__new();
	Dwarf_Aranges *ar;
	Dwarf_Addr bias, prev_end = 0;
	struct tally t = {0};
	size_t n, i;
	Dwarf *dw;

	assert_non_null(c);
	dw = dwfl_module_getdwarf(mod, &bias);
	assert_non_null(dw);
	assert_int_equal(dwarf_getaranges(dw, &ar, &n), 0);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		Dwarf_Addr a, len, probe[8];
		Dwarf_Off off;
		size_t k;

		assert_int_equal(dwarf_getarangeinfo(dwarf_onearange(ar, i), &a, &len, &off), 0);
		probe[0] = a - 1, probe[1] = a, probe[2] = a + 1;
		probe[3] = a + len - 1, probe[4] = a + len, probe[5] = a + len + 1;
		/* the middle of the gap before it */
		probe[6] = prev_end < a ? prev_end + (a - prev_end) / 2 : a;
		probe[7] = a + len / 2;
		for (k = 0; k < 8; k++)
			compare_at(c, mod, probe[k] + bias, &t);
		prev_end = a + len;
	}
	compare_at(c, mod, prev_end + 0x10 + bias, &t);
	compare_at(c, mod, prev_end + 0x100000 + bias, &t);
	compare_at(c, mod, bias, &t);
	compare_at(c, mod, 0, &t);
	compare_at(c, mod, ~0ull, &t);
	print_message(
	    "%s: %zu aranges, %zu addresses, %zu named by the index (%zu units, %zu none)\n", what,
	    n, t.asked, t.by_index, t.units, t.none);
	/* an index that refuses is no index: nearly every address is its own */
	assert_true(t.by_index * 100 >= t.asked * 99);
	assert_true(t.none >= 5);
	assert_true(t.units > n);
	ls_cuindex__free(c);
}

static void python_debug_file(void **state)
{
	Dwfl *dwfl;
	Dwfl_Module *mod = with_debug_file(&dwfl, "/usr/bin/python3.11", "python3.11-dbg");

	(void)state;
	compare_module(mod, "python3.11");
	dwfl_end(dwfl);
}

static void libc_debug_file(void **state)
{
	Dwfl *dwfl;
	Dwfl_Module *mod = with_debug_file(&dwfl, "/lib/x86_64-linux-gnu/libc.so.6", "libc6-dbg");

	(void)state;
	compare_module(mod, "libc.so.6");
	dwfl_end(dwfl);
}

static void own_dwarf(void **state)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	Dwfl *dwfl;

	(void)state;
	assert_true(n > 0);
	self[n] = 0;
	compare_module(report(&dwfl, self), "test_cuindex");
	dwfl_end(dwfl);
}

/* The index goes with its module: dropped, it is built again and answers as before. */
static void drop_forgets_the_module(void **state)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct ls_cuindex *c = ls_cuindex__new();
	Dwarf_Addr bias, b, a, len;
	Dwarf_Die mem, *die;
	Dwarf_Aranges *ar;
	Dwfl_Module *mod;
	Dwarf_Off off, first;
	size_t na;
	Dwfl *dwfl;

	(void)state;
	assert_true(n > 0);
	self[n] = 0;
	mod = report(&dwfl, self);
	assert_int_equal(dwarf_getaranges(dwfl_module_getdwarf(mod, &bias), &ar, &na), 0);
	assert_int_equal(dwarf_getarangeinfo(dwarf_onearange(ar, 0), &a, &len, &off), 0);
	assert_non_null(die = ls_cuindex__addrdie(c, mod, a + bias, &b, &mem));
	assert_true(ls_cuindex__last_from_index(c));
	first = dwarf_dieoffset(die);
	assert_int_equal(ls_cuindex__count(c), 1);
	ls_cuindex__drop(c, mod);
	assert_int_equal(ls_cuindex__count(c), 0);
	assert_non_null(die = ls_cuindex__addrdie(c, mod, a + bias, &b, &mem));
	assert_int_equal(dwarf_dieoffset(die), first);
	assert_int_equal(ls_cuindex__count(c), 1);
	ls_cuindex__free(c);
	dwfl_end(dwfl);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Printed, not judged (a loaded machine): the first unit of python3.11 both ways. */
static void first_call_cost(void **state)
{
	uint64_t mine[5], theirs[5];
	int r;

	(void)state;
	for (r = 0; r < 5; r++) {
		struct ls_cuindex *c = ls_cuindex__new();
		Dwarf_Addr bias, b, a, len;
		Dwarf_Aranges *ar;
		Dwarf_Off off;
		Dwarf_Die mem;
		Dwfl_Module *mod;
		Dwfl *dwfl;
		uint64_t t0;
		size_t n;

		/* the address: libdw's table of a Dwfl not timed */
		mod = with_debug_file(&dwfl, "/usr/bin/python3.11", "python3.11-dbg");
		assert_int_equal(dwarf_getaranges(dwfl_module_getdwarf(mod, &bias), &ar, &n), 0);
		assert_int_equal(dwarf_getarangeinfo(dwarf_onearange(ar, n / 2), &a, &len, &off),
				 0);
		dwfl_end(dwfl);

		mod = with_debug_file(&dwfl, "/usr/bin/python3.11", "python3.11-dbg");
		assert_non_null(dwfl_module_getdwarf(mod, &bias));
		t0 = now_ns();
		assert_non_null(ls_cuindex__addrdie(c, mod, a + bias, &b, &mem));
		mine[r] = now_ns() - t0;
		assert_true(ls_cuindex__last_from_index(c));
		ls_cuindex__free(c);
		dwfl_end(dwfl);

		mod = with_debug_file(&dwfl, "/usr/bin/python3.11", "python3.11-dbg");
		assert_non_null(dwfl_module_getdwarf(mod, &bias));
		t0 = now_ns();
		assert_non_null(dwfl_module_addrdie(mod, a + bias, &b));
		theirs[r] = now_ns() - t0;
		dwfl_end(dwfl);
	}
	for (r = 0; r < 5; r++)
		print_message("python3.11 first unit: index %.3f ms, dwfl_module_addrdie %.3f ms\n",
			      mine[r] / 1e6, theirs[r] / 1e6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(own_dwarf),       cmocka_unit_test(python_debug_file),
	    cmocka_unit_test(libc_debug_file), cmocka_unit_test(drop_forgets_the_module),
	    cmocka_unit_test(first_call_cost),
	};

	elf_version(EV_CURRENT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
