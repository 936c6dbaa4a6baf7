// SPDX-License-Identifier: BSD-2-Clause
/*
 * /tmp/perf-PID.map parsing (perfmap.c): "START SIZE name" lines in hex,
 * as JITs write them, from a file the traced process controls.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "perfmap.h"

static struct ls_perfmap *parse(const char *text)
{
	struct ls_perfmap *m = ls_perfmap__parse(text, strlen(text));

	assert_non_null(m);
	return m;
}

static void assert_symbol(const struct ls_perfmap *m, uint64_t addr, const char *want)
{
	const char *got = ls_perfmap__lookup(m, addr);

	if (!want) {
		if (got)
			fail_msg("0x%llx: expected no symbol, got '%s'", (unsigned long long)addr,
				 got);
		return;
	}
	if (!got)
		fail_msg("0x%llx: expected '%s', got no symbol", (unsigned long long)addr, want);
	assert_string_equal(got, want);
}

static void test_hex_forms(void **state)
{
	struct ls_perfmap *m;

	(void)state;
	m = parse("0x1000 0x100 with_prefix\n"
		  "2000 100 without_prefix\n"
		  "0X3000 0X10 upper_prefix\n"
		  "7fAbCd00 Ff mixed_case\n");
	assert_int_equal(ls_perfmap__count(m), 4);
	assert_symbol(m, 0x1000, "with_prefix");
	assert_symbol(m, 0x10ff, "with_prefix");
	assert_symbol(m, 0x1100, NULL); /* the end is exclusive */
	assert_symbol(m, 0xfff, NULL);
	assert_symbol(m, 0x2080, "without_prefix");
	assert_symbol(m, 0x300f, "upper_prefix");
	assert_symbol(m, 0x7fabcdfe, "mixed_case");
	assert_symbol(m, 0x7fabcdff, NULL);
	ls_perfmap__free(m);
}

static void test_names_with_spaces(void **state)
{
	struct ls_perfmap *m;

	(void)state;
	m = parse("7f0000001000 80 LazyCompile:*burnCpu /srv/my app/busy.js:12\n"
		  "7f0000002000 40 JS:~scenario node:internal/timers:504:25\n"
		  "7f0000003000 40 Builtin: ArgumentsAdaptorTrampoline  \n");
	assert_symbol(m, 0x7f0000001010, "LazyCompile:*burnCpu /srv/my app/busy.js:12");
	assert_symbol(m, 0x7f0000002000, "JS:~scenario node:internal/timers:504:25");
	/* the name is the rest of the line, as written */
	assert_symbol(m, 0x7f0000003000, "Builtin: ArgumentsAdaptorTrampoline  ");
	ls_perfmap__free(m);
}

static void test_later_line_wins(void **state)
{
	struct ls_perfmap *m;

	(void)state;
	m = parse("4000 100 old\n"
		  "5000 1000 big_old\n"
		  "4000 100 new\n"	/* re-emitted at the same address */
		  "5100 10 small_new\n" /* inside an older, larger entry */
		  "6000 10 small_old\n"
		  "6000 1000 big_new\n" /* covers an older, smaller entry */
		  "8000 1000 outer_old\n"
		  "8100 10 inner_new\n");
	assert_symbol(m, 0x4050, "new");
	assert_symbol(m, 0x5105, "small_new");
	assert_symbol(m, 0x5050, "big_old");
	assert_symbol(m, 0x5200, "big_old"); /* past the newer entry: the older still covers it */
	assert_symbol(m, 0x6005, "big_new");
	assert_symbol(m, 0x6500, "big_new");
	assert_symbol(m, 0x8500, "outer_old");
	assert_symbol(m, 0x8105, "inner_new");
	ls_perfmap__free(m);
}

/*
 * A JIT reuses freed code space: one new function is emitted over the
 * range where many small old ones were. The newer line must still win.
 */
static void test_later_line_wins_over_many(void **state)
{
	size_t cap = 200 * 48, len = 0;
	char *text = malloc(cap);
	struct ls_perfmap *m;
	int i;

	(void)state;
	assert_non_null(text);
	for (i = 0; i < 100; i++)
		len += (size_t)snprintf(text + len, cap - len, "%x 10 old_%d\n", 0x10000 + 0x10 * i,
					i);
	len += (size_t)snprintf(text + len, cap - len, "%x %x new_big\n", 0x10000, 0x10 * 100);
	m = ls_perfmap__parse(text, len);
	assert_non_null(m);
	assert_int_equal(ls_perfmap__count(m), 101);
	assert_symbol(m, 0x10005, "new_big");
	assert_symbol(m, 0x10000 + 0x10 * 30 + 5, "new_big");
	assert_symbol(m, 0x10000 + 0x10 * 99 + 5, "new_big");
	ls_perfmap__free(m);
	free(text);
}

static void test_garbage_lines(void **state)
{
	struct ls_perfmap *m;

	(void)state;
	m = parse("hello world\n"
		  "\n"
		  "zzzz 10 not_hex\n"
		  "1000\n"
		  "1000 \n"
		  "1000 10\n"
		  "1000 10 \n" /* empty name */
		  "1000 0 zero_size\n"
		  "ffffffffffffff00 1000 wraps\n" /* start + size overflows */
		  "10000000000000000 10 seventeen_digits\n"
		  "1000 10000000000000000 huge_size\n"
		  " 1000 10 leading_space\n"
		  "1000\t10\ttabs\n"
		  "0x 10 bare_prefix\n"
		  "-1000 10 negative\n"
		  "1000 10 good\n"
		  "\x01\x02\xff\xfe binary\n");
	assert_int_equal(ls_perfmap__count(m), 1);
	assert_symbol(m, 0x1005, "good");
	ls_perfmap__free(m);
}

static void test_crlf_and_last_line(void **state)
{
	struct ls_perfmap *m;

	(void)state;
	m = parse("1000 10 dos_line\r\n"
		  "2000 10 \r\n" /* only a CR: empty name */
		  "3000 10 no_newline_at_end");
	assert_int_equal(ls_perfmap__count(m), 2);
	assert_symbol(m, 0x1000, "dos_line");
	assert_symbol(m, 0x2000, NULL);
	assert_symbol(m, 0x3000, "no_newline_at_end");
	ls_perfmap__free(m);
}

static void test_enormous_name(void **state)
{
	size_t name_len = 100000;
	char *text = malloc(name_len + 64);
	struct ls_perfmap *m;
	const char *got;
	size_t len;

	(void)state;
	assert_non_null(text);
	len = (size_t)sprintf(text, "1000 10 ");
	memset(text + len, 'n', name_len);
	len += name_len;
	len += (size_t)sprintf(text + len, "\n2000 10 after\n");
	m = ls_perfmap__parse(text, len);
	assert_non_null(m);
	got = ls_perfmap__lookup(m, 0x1000);
	assert_non_null(got);
	/* kept, but cut to a bounded length */
	assert_true(strlen(got) >= 64);
	assert_true(strlen(got) < name_len);
	assert_true(strspn(got, "n") == strlen(got));
	/* the next line is intact */
	assert_symbol(m, 0x2000, "after");
	ls_perfmap__free(m);
	free(text);
}

static void test_empty(void **state)
{
	struct ls_perfmap *m;

	(void)state;
	m = ls_perfmap__parse("", 0);
	assert_non_null(m);
	assert_int_equal(ls_perfmap__count(m), 0);
	assert_symbol(m, 0x1000, NULL);
	assert_symbol(m, 0, NULL);
	ls_perfmap__free(m);

	m = parse("\n\n\n");
	assert_int_equal(ls_perfmap__count(m), 0);
	ls_perfmap__free(m);

	/* NULL-safe */
	assert_null(ls_perfmap__lookup(NULL, 0x1000));
	assert_int_equal(ls_perfmap__count(NULL), 0);
	ls_perfmap__free(NULL);
}

/* The parser reads exactly len bytes: nothing past them, no NUL needed. */
static void test_length_bounded(void **state)
{
	const char text[] = "1000 10 first\n2000 10 second\n";
	char *copy = malloc(14);
	struct ls_perfmap *m;

	(void)state;
	assert_non_null(copy);
	memcpy(copy, text, 14); /* "1000 10 first\n", no terminator */
	m = ls_perfmap__parse(copy, 14);
	assert_non_null(m);
	assert_int_equal(ls_perfmap__count(m), 1);
	assert_symbol(m, 0x1000, "first");
	assert_symbol(m, 0x2000, NULL);
	ls_perfmap__free(m);
	free(copy);
}

static pid_t nspid(const char *status, int want_err)
{
	pid_t pid = -7;

	assert_int_equal(ls_perfmap__nspid(status, strlen(status), &pid), want_err);
	return pid;
}

/* The innermost pid is the last of NSpid's; before 4.1 only Pid: exists. */
static void test_nspid(void **state)
{
	(void)state;
	assert_int_equal(nspid("Name:\tnode\nTgid:\t4242\nPid:\t4242\nPPid:\t1\n"
			       "TracerPid:\t0\nNSpid:\t4242\t17\t1\nNStgid:\t4242\t17\t1\n",
			       0),
			 1);
	assert_int_equal(nspid("Pid:\t4242\nNSpid:\t4242\n", 0), 4242);
	assert_int_equal(nspid("Name:\tx\nPid:\t99\nPPid:\t3\n", 0), 99);
	/* no newline after the last line */
	assert_int_equal(nspid("Pid:\t5\nNSpid:\t5\t2", 0), 2);
	/* the NSpid: line wins wherever it is */
	assert_int_equal(nspid("NSpid:\t8 3\nPid:\t8\n", 0), 3);
}

/* Hostile or broken text (a comm cannot reach these lines, but be sure). */
static void test_nspid_bad(void **state)
{
	char big[64];

	(void)state;
	nspid("", -EINVAL);
	nspid("Name:\tNSpid: 3\n", -EINVAL);
	nspid("NSpid:\n", -EINVAL);
	nspid("NSpid:\t12x\n", -EINVAL);
	nspid("NSpid:\t-1\n", -EINVAL);
	nspid("NSpid:\t0\n", -EINVAL);
	nspid("NSpid:\t99999999999999999999\n", -EINVAL);
	snprintf(big, sizeof(big), "NSpid:\t%lld\n", 1ll << 31);
	nspid(big, -EINVAL);
	/* a broken NSpid: falls back to Pid: */
	assert_int_equal(nspid("Pid:\t7\nNSpid:\tx\n", 0), 7);
	/* the parser reads exactly len bytes */
	{
		pid_t pid = 0;

		assert_int_equal(ls_perfmap__nspid("Pid:\t71", 6, &pid), 0);
		assert_int_equal(pid, 7);
	}
}

/* Our own map, found through /proc/self's NSpid and root; a symlink is refused. */
static void test_load_own(void **state)
{
	char path[64];
	struct ls_perfmap *m = NULL;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("7f0000001000 40 JS:~readFifoSync /srv/app.js:3:22\n", f);
	fclose(f);
	assert_int_equal(ls_perfmap__load(getpid(), &m), 0);
	assert_symbol(m, 0x7f0000001010, "JS:~readFifoSync /srv/app.js:3:22");
	ls_perfmap__free(m);
	m = NULL;
	unlink(path);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(ls_perfmap__load(getpid(), &m), -ELOOP);
	assert_null(m);
	unlink(path);
	assert_int_equal(ls_perfmap__load(getpid(), &m), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hex_forms),
	    cmocka_unit_test(test_names_with_spaces),
	    cmocka_unit_test(test_later_line_wins),
	    cmocka_unit_test(test_later_line_wins_over_many),
	    cmocka_unit_test(test_garbage_lines),
	    cmocka_unit_test(test_crlf_and_last_line),
	    cmocka_unit_test(test_enormous_name),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_length_bounded),
	    cmocka_unit_test(test_nspid),
	    cmocka_unit_test(test_nspid_bad),
	    cmocka_unit_test(test_load_own),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
