// SPDX-License-Identifier: BSD-2-Clause
/* cli/args.c: what the option parsers of record, report and top share. */
#include <errno.h>
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "args.h"

#define ARGV(...) ((char *[]){"cmd", __VA_ARGS__, NULL})
#define ARGC(argv) ((int)(sizeof(argv) / sizeof(char *)) - 1)
#define SHORTOPTS ":p:vh"

static char err[256];

/* getopt_long over argv until it complains; the complaint as args_getopt_error words it. */
static const char *complaint(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"pid", required_argument, NULL, 'p'},
	    {"threshold", required_argument, NULL, 'T'},
	    {"verbose", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	memset(err, 0, sizeof(err));
	args_getopt_reset();
	while ((c = getopt_long(argc, argv, SHORTOPTS, longopts, NULL)) != -1)
		if (c == ':' || c == '?') {
			assert_int_equal(args_getopt_error(c, argv, err, sizeof(err)), -EINVAL);
			return err;
		}
	fail_msg("no complaint");
	return NULL;
}

#define COMPLAINT(...) complaint(ARGC(ARGV(__VA_ARGS__)), ARGV(__VA_ARGS__))

static void getopt_errors_name_the_option_typed(void **state)
{
	(void)state;
	assert_string_equal(COMPLAINT("-x"), "unknown option '-x'");
	/* inside a cluster: the letter, not the cluster */
	assert_string_equal(COMPLAINT("-vx"), "unknown option '-x'");
	assert_string_equal(COMPLAINT("--bogus"), "unknown option '--bogus'");
	assert_string_equal(COMPLAINT("-p"), "option '-p' needs a value");
	assert_string_equal(COMPLAINT("-vp"), "option '-p' needs a value");
	/* a long option is named as typed, though its optopt is a letter ('p') */
	assert_string_equal(COMPLAINT("-v", "--threshold"), "option '--threshold' needs a value");
	assert_string_equal(COMPLAINT("--pid"), "option '--pid' needs a value");
	/* what the user typed is echoed on one line */
	assert_string_equal(COMPLAINT("--bo\ngus"), "unknown option '--bo?gus'");
	/* a second parse starts afresh, even after a half-parsed cluster */
	assert_string_equal(COMPLAINT("-vx", "-v"), "unknown option '-x'");
	assert_string_equal(COMPLAINT("-x"), "unknown option '-x'");
}

static void ids_and_durations(void **state)
{
	pid_t id = 0;
	uint64_t ns = 0;

	(void)state;
	assert_int_equal(args_id("pid", "4242", &id, err, sizeof(err)), 0);
	assert_int_equal(id, 4242);
	assert_int_equal(args_id("pid", "0", &id, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid pid '0'");
	assert_int_equal(args_id("thread id", "12x", &id, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid thread id '12x'");
	assert_int_equal(args_id("pid", "99999999999", &id, err, sizeof(err)), -EINVAL);
	assert_int_equal(args_id("pid", "\x1b[2J", &id, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid pid '?[2J'");
	assert_int_equal(id, 4242);
	assert_int_equal(args_duration("threshold", "1.5s", &ns, err, sizeof(err)), 0);
	assert_int_equal(ns, 1500000000ull);
	assert_int_equal(args_duration("duration", "0s", &ns, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid duration '0s' for --duration (use e.g. 50ms, 1.5s, 2m)");
	assert_int_equal(args_duration("threshold", "5xs", &ns, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'5xs' for --threshold"));
}

static void printable_is_one_bounded_line(void **state)
{
	char buf[6];

	(void)state;
	assert_string_equal(args_printable("a\tb\x7f", buf, sizeof(buf)), "a?b?");
	assert_string_equal(args_printable("abcdefgh", buf, sizeof(buf)), "abcde");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(getopt_errors_name_the_option_typed),
	    cmocka_unit_test(ids_and_durations),
	    cmocka_unit_test(printable_is_one_bounded_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
