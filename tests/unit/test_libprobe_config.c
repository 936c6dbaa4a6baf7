// SPDX-License-Identifier: BSD-2-Clause
/* libprobe's environment (libprobe/src/config.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "config.h"
#include "runtime.h"

static const char *const *env;

static char *fake_getenv(const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 0; env[i]; i++)
		if (!strncmp(env[i], name, n) && env[i][n] == '=')
			return (char *)env[i] + n + 1;
	return NULL;
}

static void defaults(void **state)
{
	static const char *const none[] = {NULL};
	struct lpi_config c;

	(void)state;
	env = none;
	lpi_config_defaults(&c);
	assert_int_equal(lpi_config_from_env(&c, fake_getenv), 0);
	assert_int_equal(c.heartbeat_ns, 10000000ull);
	assert_int_equal(c.threshold_ns, 50000000ull);
	assert_int_equal(c.ring_len, 256);
	assert_true(c.shm);
	assert_true(c.auto_attach);
	assert_string_equal(c.output, "");
}

static void values(void **state)
{
	static const char *const set[] = {
	    "LPROBE_HEARTBEAT_MS=0",
	    "LPROBE_THRESHOLD_MS=20",
	    "LPROBE_RING=1024",
	    "LPROBE_SHM=0",
	    "LPROBE_OUTPUT=/tmp/x.%p.jsonl",
	    "LPROBE_MAX_LOOPS=4",
	    NULL,
	};
	struct lpi_config c;

	(void)state;
	env = set;
	lpi_config_defaults(&c);
	assert_int_equal(lpi_config_from_env(&c, fake_getenv), 0);
	assert_int_equal(c.heartbeat_ns, 0);
	assert_int_equal(c.threshold_ns, 20000000ull);
	assert_int_equal(c.ring_len, 1024);
	assert_int_equal(c.max_loops, 4);
	assert_false(c.shm);
	assert_string_equal(c.output, "/tmp/x.%p.jsonl");
}

static void bad_values_keep_defaults(void **state)
{
	static const char *const bad[] = {
	    "LPROBE_HEARTBEAT_MS=10ms",
	    "LPROBE_THRESHOLD_MS=0",
	    "LPROBE_RING=100",
	    "LPROBE_MAX_LOOPS=65",
	    NULL,
	};
	struct lpi_config c;

	(void)state;
	env = bad;
	lpi_config_defaults(&c);
	assert_int_equal(lpi_config_from_env(&c, fake_getenv), 0xf);
	assert_int_equal(c.heartbeat_ns, 10000000ull);
	assert_int_equal(c.threshold_ns, 50000000ull);
	assert_int_equal(c.ring_len, 256);
	assert_int_equal(c.max_loops, 16);
}

static void parse_uint(void **state)
{
	uint32_t v;

	(void)state;
	assert_int_equal(lpi_parse_uint("0", 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(lpi_parse_uint("3600000", 3600000, &v), 0);
	assert_int_equal(lpi_parse_uint("3600001", 3600000, &v), -ERANGE);
	assert_int_equal(lpi_parse_uint("99999999999999999999", 3600000, &v), -ERANGE);
	assert_int_equal(lpi_parse_uint("", 10, &v), -EINVAL);
	assert_int_equal(lpi_parse_uint("-1", 10, &v), -EINVAL);
	assert_int_equal(lpi_parse_uint(" 1", 10, &v), -EINVAL);
}

static void expand_path(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(lpi_expand_path("/tmp/lp.%p.jsonl", 42, out, sizeof(out)), 0);
	assert_string_equal(out, "/tmp/lp.42.jsonl");
	assert_int_equal(lpi_expand_path("100%%-%q", 1, out, sizeof(out)), 0);
	assert_string_equal(out, "100%-%q");
	assert_int_equal(
	    lpi_expand_path("/a/very/long/path/that/does/not/fit/%p", 123456, out, sizeof(out)),
	    -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(defaults),
	    cmocka_unit_test(values),
	    cmocka_unit_test(bad_values_keep_defaults),
	    cmocka_unit_test(parse_uint),
	    cmocka_unit_test(expand_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
