// SPDX-License-Identifier: BSD-2-Clause
/* ls_parse_duration(): the DUR syntax of --threshold, --duration and the config. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "duration.h"

/* a value the parser must leave alone when it rejects the input */
#define UNTOUCHED 0xdeadbeefull

static uint64_t parse_ok(const char *text)
{
	uint64_t ns = UNTOUCHED;

	if (ls_parse_duration(text, &ns))
		fail_msg("'%s' rejected", text);
	return ns;
}

static void expect_error(const char *text, int err)
{
	uint64_t ns = UNTOUCHED;
	int ret = ls_parse_duration(text, &ns);

	if (ret != err)
		fail_msg("'%.40s': returned %d, expected %d", text ? text : "(null)", ret, err);
	assert_int_equal(ns, UNTOUCHED);
}

static void test_units(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("7ns"), 7);
	assert_int_equal(parse_ok("7us"), 7000);
	assert_int_equal(parse_ok("7ms"), 7000000);
	assert_int_equal(parse_ok("7s"), 7000000000ull);
	assert_int_equal(parse_ok("7m"), 420000000000ull);
	assert_int_equal(parse_ok("0ns"), 0);
	assert_int_equal(parse_ok("0"), 0);
}

static void test_bare_number_is_ms(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("50"), 50000000);
	assert_int_equal(parse_ok("1"), 1000000);
	assert_int_equal(parse_ok("0.5"), 500000);
}

static void test_fractions(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("1.5s"), 1500000000ull);
	assert_int_equal(parse_ok("0.25ms"), 250000);
	assert_int_equal(parse_ok(".5s"), 500000000);
	assert_int_equal(parse_ok("2.5m"), 150000000000ull);
	assert_int_equal(parse_ok("1.5us"), 1500);
	/* below one ns rounds to the nearest ns */
	assert_int_equal(parse_ok("1.4ns"), 1);
	assert_int_equal(parse_ok("1.6ns"), 2);
}

static void test_large_values(void **state)
{
	(void)state;
	/* a day in minutes: exact, far beyond 32 bits */
	assert_int_equal(parse_ok("1440m"), 86400000000000ull);
	assert_int_equal(parse_ok("123456789ns"), 123456789);
}

static void test_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"",	"5xs",	"-1s", "+1s", "ms",  " 5ms", "5ms ", "5 ms", "inf", "infs",
		"nan",	"NaN", "0x10", "0x10ms", "5msx", "5mss", "5S", "5MS", "1e3", "1e3ms",
		"1.2.3s", ".",	"s",   "5sec",	"5h",  "5ms\n", "\t5ms",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(bad[i], -EINVAL);
	expect_error(NULL, -EINVAL);
}

static void test_overflow(void **state)
{
	char huge[512];

	(void)state;
	/* 2^64 ns is about 584 years */
	expect_error("18446744073709551616ns", -ERANGE);
	expect_error("1000000000000000000000ns", -ERANGE);
	expect_error("600000000000s", -ERANGE);
	expect_error("400000000m", -ERANGE);
	expect_error("20000000000000", -ERANGE);
	/* just below the limit still parses */
	assert_true(parse_ok("18446744073s") >= 18446744073000000000ull - 4096);

	/* a decimal too large even for a double overflows too: -ERANGE, not "malformed" */
	memset(huge, '9', 400);
	strcpy(huge + 400, "ms");
	expect_error(huge, -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_bare_number_is_ms),
		cmocka_unit_test(test_fractions),
		cmocka_unit_test(test_large_values),
		cmocka_unit_test(test_rejects_malformed),
		cmocka_unit_test(test_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
