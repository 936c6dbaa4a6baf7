// SPDX-License-Identifier: BSD-2-Clause
/* record_args_parse(): the `loopstall record` command line (docs/architecture.md, Outputs: CLI). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "agent.h"
#include "record_args.h"

#define MS 1000000ull

/* argv as main() gets it: writable strings, NULL-terminated */
#define ARGV(...) ((char *[]){ "record", __VA_ARGS__, NULL })
#define ARGC(argv) ((int)(sizeof(argv) / sizeof(char *)) - 1)

static char err[256];

/* static: a.command points into argv_ after the block (a compound literal would be gone) */
#define PARSE_OK(args, ...)                                                                        \
	do {                                                                                       \
		static char *argv_[] = { "record", __VA_ARGS__, NULL };                            \
		int argc_ = ARGC(argv_);                                                           \
		err[0] = '\0';                                                                     \
		if (record_args_parse(argc_, argv_, (args), err, sizeof(err)))                     \
			fail_msg("rejected: %s", err);                                             \
	} while (0)

/* Parse a command line that must fail; returns its one-line message. */
#define PARSE_ERR(...) parse_err(ARGC(ARGV(__VA_ARGS__)), ARGV(__VA_ARGS__))

static const char *parse_err(int argc, char **argv)
{
	struct record_args args;

	memset(err, 0, sizeof(err));
	if (record_args_parse(argc, argv, &args, err, sizeof(err)) != -EINVAL)
		fail_msg("accepted, expected -EINVAL");
	if (!err[0])
		fail_msg("no error message");
	if (strchr(err, '\n'))
		fail_msg("message is not one line: %s", err);
	return err;
}

static void assert_contains(const char *text, const char *part)
{
	if (!strstr(text, part))
		fail_msg("\"%s\" does not mention \"%s\"", text, part);
}

static void test_pid_defaults(void **state)
{
	struct record_args a;

	(void)state;
	PARSE_OK(&a, "-p", "1234");
	assert_int_equal(a.pid, 1234);
	assert_int_equal(a.tid, 0);
	assert_int_equal(a.threshold_ns, 50 * MS);
	assert_int_equal(a.threshold_ns, LS_DEFAULT_THRESHOLD_NS);
	assert_int_equal(a.duration_ns, 0);
	assert_null(a.output);
	assert_null(a.command);
	assert_false(a.verbose);
	assert_false(a.help);
}

static void test_all_options(void **state)
{
	struct record_args a;

	(void)state;
	PARSE_OK(&a, "-p", "1234", "-t", "1240", "--threshold", "100ms", "--duration", "2.5s", "-o",
		 "out.jsonl", "-v");
	assert_int_equal(a.pid, 1234);
	assert_int_equal(a.tid, 1240);
	assert_int_equal(a.threshold_ns, 100 * MS);
	assert_int_equal(a.duration_ns, 2500 * MS);
	assert_string_equal(a.output, "out.jsonl");
	assert_true(a.verbose);
	assert_null(a.command);

	/* long forms, with "=", and a bare number as ms */
	PARSE_OK(&a, "--pid=77", "--tid=78", "--threshold=20", "--duration=1m", "--output=-",
		 "--verbose");
	assert_int_equal(a.pid, 77);
	assert_int_equal(a.tid, 78);
	assert_int_equal(a.threshold_ns, 20 * MS);
	assert_int_equal(a.duration_ns, 60000 * MS);
	assert_string_equal(a.output, "-");
	assert_true(a.verbose);

	/* attached values, and the last of a repeated option wins */
	PARSE_OK(&a, "-p5", "-ofile", "--threshold", "1s", "--threshold", "250us");
	assert_int_equal(a.pid, 5);
	assert_string_equal(a.output, "file");
	assert_int_equal(a.threshold_ns, 250000);
}

static void test_command(void **state)
{
	struct record_args a;

	(void)state;
	PARSE_OK(&a, "--", "python3", "-u", "x.py");
	assert_int_equal(a.pid, 0);
	assert_non_null(a.command);
	assert_string_equal(a.command[0], "python3");
	assert_string_equal(a.command[1], "-u");
	assert_string_equal(a.command[2], "x.py");
	assert_null(a.command[3]);

	/* options before "--" are ours; those after belong to the command */
	PARSE_OK(&a, "--threshold", "10ms", "-o", "r.jsonl", "--", "node", "-p", "3", "-v",
		 "--threshold", "x");
	assert_int_equal(a.threshold_ns, 10 * MS);
	assert_string_equal(a.output, "r.jsonl");
	assert_false(a.verbose);
	assert_int_equal(a.pid, 0);
	assert_string_equal(a.command[0], "node");
	assert_string_equal(a.command[1], "-p");
	assert_string_equal(a.command[5], "x");
	assert_null(a.command[6]);
}

static void test_help(void **state)
{
	struct record_args a;

	(void)state;
	PARSE_OK(&a, "-h");
	assert_true(a.help);
	PARSE_OK(&a, "--help");
	assert_true(a.help);
}

static void test_errors(void **state)
{
	(void)state;
	assert_contains(PARSE_ERR("-x", "-p", "1"), "unknown option '-x'");
	assert_contains(PARSE_ERR("--bogus", "-p", "1"), "unknown option '--bogus'");
	assert_contains(PARSE_ERR("-p"), "'-p' needs a value");
	assert_contains(PARSE_ERR("-p", "1", "--threshold"), "'--threshold' needs a value");
	assert_contains(PARSE_ERR("-p", "1", "-o"), "'-o' needs a value");
	assert_contains(PARSE_ERR("-p", "1", "--threshold", "5xs"), "invalid duration '5xs'");
	assert_contains(PARSE_ERR("-p", "1", "--threshold", "5xs"), "--threshold");
	assert_contains(PARSE_ERR("-p", "1", "--duration", "0"), "invalid duration '0'");
	assert_contains(PARSE_ERR("-p", "1", "--duration", "0s"), "--duration");
	assert_contains(PARSE_ERR("-p", "1", "--threshold", "-5ms"), "invalid duration");
	assert_contains(PARSE_ERR("-p", "1", "--", "sleep", "1"), "not both");
	assert_contains(PARSE_ERR("-v"), "nothing to record");
	assert_contains(PARSE_ERR("-t", "5", "--", "sleep", "1"), "-t TID needs -p PID");
	assert_contains(PARSE_ERR("-p", "1", "stray"), "unexpected argument 'stray'");
	assert_contains(PARSE_ERR("python3", "x.py"), "unexpected argument 'python3'");
	assert_contains(PARSE_ERR("-p", "abc"), "invalid pid 'abc'");
	assert_contains(PARSE_ERR("-p", "0"), "invalid pid '0'");
	assert_contains(PARSE_ERR("-p", "-5"), "invalid pid '-5'");
	assert_contains(PARSE_ERR("-p", "12x"), "invalid pid '12x'");
	assert_contains(PARSE_ERR("-p", "99999999999"), "invalid pid");
	assert_contains(PARSE_ERR("-p", "1", "-t", "0"), "invalid thread id '0'");
}

static void test_no_args(void **state)
{
	struct record_args a;
	char *argv[] = { "record", NULL };

	(void)state;
	assert_int_equal(record_args_parse(1, argv, &a, err, sizeof(err)), -EINVAL);
	assert_contains(err, "nothing to record");
}

static void test_unknown_in_cluster(void **state)
{
	(void)state;
	/* the message names the flag the user typed, never argv[0] */
	assert_contains(PARSE_ERR("-xv", "-p", "1"), "-x");
}

static void test_repeatable(void **state)
{
	struct record_args a;

	(void)state;
	/* a parse that stopped inside "-hv" or "-xv" must not leak into the next one */
	PARSE_OK(&a, "-hv");
	assert_true(a.help);
	PARSE_OK(&a, "-p", "5");
	assert_int_equal(a.pid, 5);
	assert_false(a.verbose);

	PARSE_ERR("-xv", "-p", "1");
	PARSE_OK(&a, "-p", "6");
	assert_int_equal(a.pid, 6);
	assert_false(a.verbose);
}

static void test_stack_options(void **state)
{
	struct record_args a;

	(void)state;
	PARSE_OK(&a, "-p", "1");
	assert_int_equal(a.stack_bytes, 0);
	assert_false(a.no_stacks);
	PARSE_OK(&a, "-p", "1", "--stack-bytes", "8192");
	assert_int_equal(a.stack_bytes, 8192);
	PARSE_OK(&a, "-p", "1", "--stack-bytes=32k", "--no-stacks");
	assert_int_equal(a.stack_bytes, 32768);
	assert_true(a.no_stacks);
	assert_false(a.all_waits);
	PARSE_OK(&a, "-p", "1", "--all-waits");
	assert_true(a.all_waits);
	PARSE_OK(&a, "-p", "1", "--stack-bytes", "512");
	assert_int_equal(a.stack_bytes, 512);
	/* not a multiple of the copy chunk, out of range, junk */
	assert_contains(PARSE_ERR("-p", "1", "--stack-bytes", "1000"), "--stack-bytes");
	assert_contains(PARSE_ERR("-p", "1", "--stack-bytes", "64k"), "'64k'");
	assert_contains(PARSE_ERR("-p", "1", "--stack-bytes", "0"), "--stack-bytes");
	assert_contains(PARSE_ERR("-p", "1", "--stack-bytes", "-512"), "--stack-bytes");
	assert_contains(PARSE_ERR("-p", "1", "--stack-bytes", "8kb"), "--stack-bytes");
}

static void test_max_line(void **state)
{
	struct record_args a;

	(void)state;
	PARSE_OK(&a, "-p", "1");
	assert_int_equal(a.max_line, 0); /* off: stacks inline, as always */
	PARSE_OK(&a, "-p", "1", "--max-line", "16K");
	assert_int_equal(a.max_line, 16384);
	PARSE_OK(&a, "-p", "1", "--max-line=1024");
	assert_int_equal(a.max_line, 1024);
	assert_contains(PARSE_ERR("-p", "1", "--max-line", "1023"), "invalid --max-line '1023'");
	assert_contains(PARSE_ERR("-p", "1", "--max-line", "65M"), "from 1K to 64M");
	assert_contains(PARSE_ERR("-p", "1", "--max-line", "big"), "--max-line");
}

static void test_ring_size(void **state)
{
	struct record_args a;

	(void)state;
	PARSE_OK(&a, "-p", "1");
	assert_int_equal(a.ring_bytes, 0); /* the agent's default */
	PARSE_OK(&a, "-p", "1", "--ring-size", "256K");
	assert_int_equal(a.ring_bytes, 256 << 10);
	PARSE_OK(&a, "-p", "1", "--ring-size=4M");
	assert_int_equal(a.ring_bytes, 4 << 20);
	PARSE_OK(&a, "--ring-size", "4k", "--", "sleep", "1");
	assert_int_equal(a.ring_bytes, LS_RING_BYTES_MIN);
	PARSE_OK(&a, "-p", "1", "--ring-size", "1G");
	assert_int_equal(a.ring_bytes, LS_RING_BYTES_MAX);
	PARSE_OK(&a, "-p", "1", "--ring-size", "65536");
	assert_int_equal(a.ring_bytes, 65536);
	PARSE_OK(&a, "-p", "1", "--ring-size", "2MiB");
	assert_int_equal(a.ring_bytes, 2 << 20);
	/* the last one wins */
	PARSE_OK(&a, "-p", "1", "--ring-size", "8M", "--ring-size", "16K");
	assert_int_equal(a.ring_bytes, 16 << 10);

	/* not a power of two, out of range, not a size */
	assert_contains(PARSE_ERR("-p", "1", "--ring-size", "3M"), "invalid --ring-size '3M'");
	assert_contains(PARSE_ERR("-p", "1", "--ring-size", "3M"), "power of two");
	assert_contains(PARSE_ERR("-p", "1", "--ring-size", "12K"), "'12K'");
	assert_contains(PARSE_ERR("-p", "1", "--ring-size", "2K"), "from 4K to 1G");
	assert_contains(PARSE_ERR("-p", "1", "--ring-size", "2048"), "--ring-size");
	assert_contains(PARSE_ERR("-p", "1", "--ring-size", "2G"), "'2G'");
	assert_contains(PARSE_ERR("-p", "1", "--ring-size", "4G"), "--ring-size");
	assert_contains(PARSE_ERR("-p", "1", "--ring-size", "0"), "--ring-size");
	assert_contains(PARSE_ERR("-p", "1", "--ring-size", "-4M"), "--ring-size");
	assert_contains(PARSE_ERR("-p", "1", "--ring-size", "4T"), "--ring-size");
	assert_contains(PARSE_ERR("-p", "1", "--ring-size", "4 M"), "--ring-size");
	assert_contains(PARSE_ERR("-p", "1", "--ring-size", "M"), "--ring-size");
	assert_contains(PARSE_ERR("-p", "1", "--ring-size", ""), "--ring-size");
	assert_contains(PARSE_ERR("-p", "1", "--ring-size", "18446744073709551616"), "--ring-size");
	assert_contains(PARSE_ERR("-p", "1", "--ring-size", "17179869184G"), "--ring-size");
	assert_contains(PARSE_ERR("-p", "1", "--ring-size"), "'--ring-size' needs a value");
}

static void test_small_err_buffer(void **state)
{
	struct record_args a;
	char small[12];
	char *argv[] = { "record", "--threshold", "a-very-long-bad-duration", "-p", "1", NULL };

	(void)state;
	memset(small, '#', sizeof(small));
	assert_int_equal(record_args_parse(5, argv, &a, small, 8), -EINVAL);
	assert_int_equal(strlen(small), 7);
	assert_int_equal(small[8], '#');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pid_defaults),
		cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_command),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_no_args),
		cmocka_unit_test(test_repeatable),
		cmocka_unit_test(test_unknown_in_cluster),
		cmocka_unit_test(test_stack_options),
		cmocka_unit_test(test_ring_size),
		cmocka_unit_test(test_max_line),
		cmocka_unit_test(test_small_err_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
