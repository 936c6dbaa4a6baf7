// SPDX-License-Identifier: BSD-2-Clause
/*
 * The C++ demangler shim (demangle.cc): real names from node and V8,
 * names that are no C++ symbol, output cut to the buffer, and hostile
 * input from a traced process's ELF files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "demangle.h"

static void assert_demangles(const char *sym, const char *want)
{
	char out[512];

	if (!ls_demangle(sym, out, sizeof(out)))
		fail_msg("'%s' did not demangle", sym);
	assert_string_equal(out, want);
}

static void assert_refused(const char *sym)
{
	char out[16] = "untouched";

	if (ls_demangle(sym, out, sizeof(out)))
		fail_msg("'%.80s' demangled to '%s'", sym, out);
	assert_string_equal(out, "untouched");
}

static void test_v8_and_node(void **state)
{
	(void)state;
	assert_demangles("_ZN2v84base4Time3NowEv", "v8::base::Time::Now()");
	assert_demangles("_ZN4node2fsL12ReadFileUtf8ERKN2v820FunctionCallbackInfoINS1_5ValueEEE",
			 "node::fs::ReadFileUtf8(v8::FunctionCallbackInfo<v8::Value> const&)");
	assert_demangles("_ZN4node5StartEiPPc", "node::Start(int, char**)");
	/* GCC's clones keep their suffix, as perf and gdb show it */
	assert_demangles("_ZN2v84base4Time3NowEv.cold", "v8::base::Time::Now() [clone .cold]");
}

static void test_not_cxx(void **state)
{
	(void)state;
	assert_refused("main");
	assert_refused("uv_run");
	assert_refused("Builtins_InterpreterEntryTrampoline");
	assert_refused("JS:~readFifoSync /srv/app.js:3:22");
	assert_refused("");
	assert_refused("_Z");
	assert_refused("_ZN2v84base");
	assert_refused("_Z\xff\xfe");
	assert_refused(NULL);
}

/* A name longer than the buffer is cut and says so; one that cannot even hold "..." is refused. */
static void test_output_bounded(void **state)
{
	const char *sym = "_ZN4node2fsL12ReadFileUtf8ERKN2v820FunctionCallbackInfoINS1_5ValueEEE";
	char out[24];

	(void)state;
	memset(out, 'x', sizeof(out));
	assert_true(ls_demangle(sym, out, 20));
	assert_int_equal(strlen(out), 19);
	assert_string_equal(out, "node::fs::ReadFi...");
	assert_int_equal(out[21], 'x');
	assert_false(ls_demangle(sym, out, 3));
	assert_false(ls_demangle(sym, out, 0));
	assert_true(ls_demangle("_Z1fv", out, 4));
	assert_string_equal(out, "f()");
}

/*
 * A traced process chooses its symbols: overlong names are left alone
 * (the demangler's memory and recursion grow with them), and malformed
 * nesting or back-references fail fast.
 */
static void test_hostile(void **state)
{
	size_t n = LS_DEMANGLE_MAX_IN + 64, i;
	char *sym = malloc(n + 1), out[256];
	struct timespec t0, t1;

	(void)state;
	assert_non_null(sym);
	/* "_Z4500aaa...av", aaa...a(): valid, and over the bound */
	snprintf(sym, n + 1, "_Z%zu", n - 7);
	memset(sym + 6, 'a', n - 7);
	memcpy(sym + n - 1, "v", 2);
	assert_int_equal(strlen(sym), n);
	assert_refused(sym);
	/* a 1000-letter name demangles, cut to the buffer */
	snprintf(sym, n + 1, "_Z%d", 1000);
	memset(sym + 6, 'a', 1000);
	memcpy(sym + 1006, "v", 2);
	assert_true(ls_demangle(sym, out, sizeof(out)));
	assert_int_equal(strlen(out), sizeof(out) - 1);
	assert_memory_equal(out, "aaaaaaaa", 8);
	assert_string_equal(out + sizeof(out) - 4, "...");
	/* deep nesting: the demangler's own recursion limit refuses it */
	memcpy(sym, "_Z1f", 4);
	for (i = 4; i < 3000; i++)
		sym[i] = 'P';
	memcpy(sym + i, "i", 2);
	assert_refused(sym);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* unbalanced nesting, self-referencing substitutions, bad lengths */
	memcpy(sym, "_Z", 2);
	for (i = 2; i < LS_DEMANGLE_MAX_IN; i++)
		sym[i] = 'N';
	sym[LS_DEMANGLE_MAX_IN] = '\0';
	assert_refused(sym);
	strcpy(sym, "_Z1fIJ");
	for (i = 0; i < 1000; i++)
		strcat(sym, "PS_");
	assert_refused(sym);
	for (i = 0; i + 3 < LS_DEMANGLE_MAX_IN; i += 3)
		memcpy(sym + i, "_ZZ", 3);
	sym[i] = '\0';
	assert_refused(sym);
	assert_refused("_Z999999999999999999999f");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000000000l + (t1.tv_nsec - t0.tv_nsec) < 500000000l);
	free(sym);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v8_and_node),
	    cmocka_unit_test(test_not_cxx),
	    cmocka_unit_test(test_output_bounded),
	    cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
