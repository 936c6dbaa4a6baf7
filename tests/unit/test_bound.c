// SPDX-License-Identifier: BSD-2-Clause
/*
 * Bounded record lines (bound.c): every line under the bound, stacks moved
 * to stack records and resolved again by the reader (recfile.c), cuts
 * counted, numbers kept to the digit, hostile sizes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include "bound.h"
#include "recfile.h"

struct buf {
	char *s;
	size_t n, cap;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	while (b->n + (size_t)n + 1 > b->cap) {
		b->cap = b->cap ? 2 * b->cap : 4096;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)n;
}

/* A stack of depth frames; seed makes it distinct; sym_len pads each symbol. */
static void put_stack(struct buf *b, unsigned depth, unsigned seed, size_t sym_len)
{
	unsigned i;
	size_t k;

	put(b, "[");
	for (i = 0; i < depth; i++) {
		put(b, "%s{\"addr\":\"0x%x\",\"symbol\":\"fn_%u_%u", i ? "," : "",
		    0x401000 + i * 16 + seed, seed, i);
		for (k = 0; k < sym_len; k++)
			put(b, "x");
		put(b, "\",\"module\":\"/usr/lib/x86_64-linux-gnu/libexample.so.1\","
		       "\"file\":\"/src/example/deep.c\",\"line\":%u,\"kind\":\"native\"}",
		    100 + i);
	}
	put(b, "]");
}

/* A stall record as the agent writes it: n_calls syscalls, n_cpu cpu stacks. */
static char *stall_line(unsigned n_calls, unsigned n_cpu, unsigned depth, size_t sym_len)
{
	struct buf b = { 0 };
	unsigned i;

	put(&b, "{\"type\":\"stall\",\"schema_version\":1,\"pid\":4242,\"tid\":4243,"
		"\"comm\":\"victim\",\"start_unix_ns\":1733600000123456789,"
		"\"end_unix_ns\":1733600000223456789,\"duration_ms\":100.25,"
		"\"threshold_ms\":50,\"cause\":\"blocking_syscall\",\"on_cpu_ms\":0.5,"
		"\"off_cpu_ms\":99.75,\"runqueue_ms\":0,\"syscalls\":[");
	for (i = 0; i < n_calls; i++) {
		put(&b, "%s{\"name\":\"read\",\"nr\":0,\"count\":%u,\"total_ms\":%u.5,\"max_ms\":1,"
			"\"fd\":3,\"target\":\"/tmp/file%u\",\"stack\":",
		    i ? "," : "", i + 1, 90 - i, i);
		put_stack(&b, depth, i % 3, sym_len);
		put(&b, "}");
	}
	put(&b, "],\"cpu_stacks\":[");
	for (i = 0; i < n_cpu; i++) {
		/* samples out of order: the cut takes the fewest first */
		put(&b, "%s{\"samples\":%u,\"stack\":", i ? "," : "", (i * 37) % 101 + 1);
		put_stack(&b, depth, 100 + i, sym_len);
		put(&b, "}");
	}
	put(&b, "],\"callback\":null,\"advice\":\"a read blocked the loop\","
		"\"time\":\"2024-12-07T19:33:20.123Z\",\"host\":\"h1\"}");
	return b.s;
}

/* Every line parses, is an object with a type, and is shorter than max_line. */
static void assert_lines_ok(const struct ls_lines *l, size_t max_line)
{
	size_t i, bytes = 0;

	for (i = 0; i < l->n; i++) {
		cJSON *o = cJSON_Parse(l->line[i]);

		assert_true(strlen(l->line[i]) + 1 <= max_line);
		assert_non_null(o);
		assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "type")));
		cJSON_Delete(o);
		bytes += strlen(l->line[i]) + 1;
	}
	assert_int_equal(bytes, l->bytes);
}

static struct recording *read_lines(const char *const *lines, size_t n)
{
	struct recording *rec = recording__new();
	struct rf_error err;
	size_t i;

	assert_non_null(rec);
	for (i = 0; i < n; i++)
		assert_int_equal(recording__add_line(rec, lines[i], strlen(lines[i]),
						     (unsigned)i + 1, &err),
				 0);
	return rec;
}

static void assert_same_stack(const struct rf_stack *a, const struct rf_stack *b)
{
	size_t i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_string_equal(a->frames[i].addr, b->frames[i].addr);
		assert_string_equal(a->frames[i].symbol, b->frames[i].symbol);
		assert_string_equal(a->frames[i].module, b->frames[i].module);
		assert_string_equal(a->frames[i].file, b->frames[i].file);
		assert_int_equal(a->frames[i].line, b->frames[i].line);
	}
}

static void test_deep_stacks_written_once(void **state)
{
	char *line = stall_line(3, 2, 45, 40);
	struct ls_lines out = { 0 };
	struct ls_bound *b;
	struct recording *full, *bounded;
	size_t i;

	(void)state;
	assert_true(strlen(line) > 16 * 1024);
	assert_int_equal(ls_bound__new(LS_BOUND_DEFAULT, &b), 0);
	assert_int_equal(ls_bound__split(b, line, &out), 0);
	assert_lines_ok(&out, LS_BOUND_DEFAULT);
	/* syscalls 0..2 use stacks of seeds 0,1,2; two cpu stacks: 5 distinct, then the stall */
	assert_int_equal(out.n, 6);
	for (i = 0; i < 5; i++)
		assert_non_null(
			strstr(out.line[i], "{\"type\":\"stack\",\"schema_version\":1,\"id\":"));
	/* readers of before still find an array; numbers are kept to the digit */
	assert_non_null(strstr(out.line[5], "\"stack\":[],\"stack_ref\":\""));
	assert_non_null(strstr(out.line[5], "\"start_unix_ns\":1733600000123456789,"));
	assert_non_null(strstr(out.line[5], "\"duration_ms\":100.25,"));

	full = read_lines((const char *const *)&line, 1);
	bounded = read_lines((const char *const *)out.line, out.n);
	assert_int_equal(bounded->n_stalls, 1);
	assert_int_equal(bounded->unknown_types, 0);
	assert_int_equal(bounded->unresolved_stack_refs, 0);
	assert_int_equal(bounded->stalls[0].start_unix_ns, full->stalls[0].start_unix_ns);
	assert_int_equal(bounded->stalls[0].n_syscalls, 3);
	for (i = 0; i < 3; i++)
		assert_same_stack(&bounded->stalls[0].syscalls[i].stack,
				  &full->stalls[0].syscalls[i].stack);
	for (i = 0; i < 2; i++)
		assert_same_stack(&bounded->stalls[0].cpu_stacks[i].stack,
				  &full->stalls[0].cpu_stacks[i].stack);
	assert_int_equal(full->stalls[0].syscalls[0].stack.n, 45);
	recording__free(full);
	recording__free(bounded);

	/* the same stall again: its stacks are in the file already */
	ls_lines__clear(&out);
	assert_int_equal(ls_bound__split(b, line, &out), 0);
	assert_int_equal(out.n, 1);
	/* a new file needs them again */
	ls_lines__clear(&out);
	ls_bound__forget(b);
	assert_int_equal(ls_bound__split(b, line, &out), 0);
	assert_int_equal(out.n, 6);
	ls_lines__clear(&out);
	ls_bound__free(b);
	free(line);
}

static void test_small_records_pass_unchanged(void **state)
{
	const char *begin = "{\"type\":\"stall_begin\",\"schema_version\":1,\"pid\":1,\"tid\":1,"
			    "\"comm\":\"x\",\"start_unix_ns\":1733600000123456789,"
			    "\"elapsed_ms\":60.5,\"threshold_ms\":50}";
	struct ls_lines out = { 0 };
	struct ls_bound *b;

	(void)state;
	assert_int_equal(ls_bound__new(LS_BOUND_MIN, &b), 0);
	assert_int_equal(ls_bound__split(b, begin, &out), 0);
	assert_int_equal(out.n, 1);
	assert_string_equal(out.line[0], begin);
	ls_lines__clear(&out);
	ls_bound__free(b);
}

static void test_cuts_counted_in_order(void **state)
{
	/* 100 cpu stacks: even without their frames far over 1K */
	char *line = stall_line(4, 100, 3, 0);
	struct ls_lines out = { 0 };
	struct ls_bound *b;
	cJSON *o, *cpu, *c;
	double least_kept = 1e9;
	int kept;

	(void)state;
	assert_int_equal(ls_bound__new(2048, &b), 0);
	assert_int_equal(ls_bound__split(b, line, &out), 0);
	assert_lines_ok(&out, 2048);
	o = cJSON_Parse(out.line[out.n - 1]);
	assert_non_null(o);
	cpu = cJSON_GetObjectItem(o, "cpu_stacks");
	kept = cJSON_GetArraySize(cpu);
	assert_true(kept > 0 && kept < 100);
	assert_int_equal(kept + cJSON_GetObjectItem(o, "cpu_stacks_cut")->valueint, 100);
	/* syscalls come after the cpu stacks: all kept */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "syscalls")), 4);
	assert_null(cJSON_GetObjectItem(o, "syscalls_cut"));
	cJSON_ArrayForEach(c, cpu) {
		double v = cJSON_GetObjectItem(c, "samples")->valuedouble;

		if (v < least_kept)
			least_kept = v;
	}
	/* samples are 1..101 spread over 100 stacks: those cut were the fewest */
	assert_true(least_kept >= 100 - kept);
	/* only the stacks the kept entries refer to were written */
	assert_int_equal(out.n, 1 + 3 + (size_t)kept);
	cJSON_Delete(o);
	ls_lines__clear(&out);
	ls_bound__free(b);
	free(line);

	/* 60 syscalls, no cpu stacks: the smallest go first */
	line = stall_line(60, 0, 1, 0);
	assert_int_equal(ls_bound__new(LS_BOUND_MIN, &b), 0);
	assert_int_equal(ls_bound__split(b, line, &out), 0);
	assert_lines_ok(&out, LS_BOUND_MIN);
	o = cJSON_Parse(out.line[out.n - 1]);
	kept = cJSON_GetArraySize(cJSON_GetObjectItem(o, "syscalls"));
	assert_true(kept > 0);
	assert_int_equal(kept + cJSON_GetObjectItem(o, "syscalls_cut")->valueint, 60);
	c = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "syscalls"), 0);
	assert_string_equal(cJSON_GetObjectItem(c, "target")->valuestring, "/tmp/file0");
	cJSON_Delete(o);
	ls_lines__clear(&out);
	ls_bound__free(b);
	free(line);
}

/* Whether s is valid UTF-8 (a cut never splits a character). */
static int utf8_ok(const unsigned char *s)
{
	while (*s) {
		int n = *s < 0x80 ? 0 : (*s & 0xe0) == 0xc0 ? 1 : (*s & 0xf0) == 0xe0 ? 2 : 3;

		for (s++; n > 0; n--, s++)
			if ((*s & 0xc0) != 0x80)
				return 0;
	}
	return 1;
}

static void test_hostile_sizes(void **state)
{
	struct ls_lines out = { 0 };
	struct ls_bound *b;
	struct buf big = { 0 };
	cJSON *o, *frames;
	size_t i;
	char *line;

	(void)state;
	assert_int_equal(ls_bound__new(LS_BOUND_MIN - 1, &b), -EINVAL);
	assert_int_equal(ls_bound__new(LS_BOUND_MIN, &b), 0);

	/* 2000 frames: the outermost go, counted; the innermost is kept */
	line = stall_line(1, 0, 2000, 0);
	assert_int_equal(ls_bound__split(b, line, &out), 0);
	assert_lines_ok(&out, LS_BOUND_MIN);
	assert_int_equal(out.n, 2);
	o = cJSON_Parse(out.line[0]);
	frames = cJSON_GetObjectItem(o, "frames");
	assert_int_equal(cJSON_GetArraySize(frames) +
				 cJSON_GetObjectItem(o, "frames_cut")->valueint,
			 2000);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(frames, 0), "addr")->valuestring,
			    "0x401000");
	cJSON_Delete(o);
	ls_lines__clear(&out);
	free(line);

	/* one symbol of 200 KB of two-byte characters: cut at a character, marked */
	put(&big, "{\"type\":\"stall\",\"schema_version\":1,\"pid\":1,\"tid\":1,"
		  "\"comm\":\"x\",\"duration_ms\":60,\"cause\":\"cpu\",\"syscalls\":[],"
		  "\"cpu_stacks\":[{\"samples\":1,\"stack\":[{\"addr\":\"0x1\",\"symbol\":\"");
	for (i = 0; i < 100000; i++)
		put(&big, "\xc3\xa9");
	put(&big, "\",\"module\":null,\"file\":null,\"line\":null}]}],\"advice\":\"");
	for (i = 0; i < 50000; i++)
		put(&big, "\\\"");
	put(&big, "\"}");
	assert_int_equal(ls_bound__split(b, big.s, &out), 0);
	assert_lines_ok(&out, LS_BOUND_MIN);
	assert_int_equal(out.n, 2);
	for (i = 0; i < 2; i++)
		assert_true(utf8_ok((const unsigned char *)out.line[i]));
	assert_non_null(strstr(out.line[0], "\xc3\xa9\xe2\x80\xa6\""));
	assert_non_null(strstr(out.line[0], "\"strings_cut\":"));
	assert_non_null(strstr(out.line[1], "\"strings_cut\":"));
	ls_lines__clear(&out);
	free(big.s);

	/* 3000 members with nothing to cut: refused whole, nothing half written */
	memset(&big, 0, sizeof(big));
	put(&big, "{\"type\":\"stall\",\"schema_version\":1");
	for (i = 0; i < 3000; i++)
		put(&big, ",\"k%zu\":true", i);
	put(&big, "}");
	assert_int_equal(ls_bound__split(b, big.s, &out), -E2BIG);
	assert_int_equal(out.n, 0);
	free(big.s);

	assert_int_equal(ls_bound__split(b, "[1,2]", &out), -EINVAL);
	assert_int_equal(ls_bound__split(b, "{\"type\":", &out), -EINVAL);
	assert_int_equal(out.n, 0);
	ls_bound__free(b);
	ls_bound__free(NULL);
}

/* A reference whose stack record never came (a file cut at its head): an empty stack, counted. */
static void test_reader_unresolved_ref(void **state)
{
	const char *lines[] = {
		"{\"type\":\"stall\",\"schema_version\":1,\"duration_ms\":60,\"cause\":\"cpu\","
		"\"cpu_stacks\":[{\"samples\":3,\"stack\":[],\"stack_ref\":\"00000000000000aa\"}]}",
		"{\"type\":\"stack\",\"schema_version\":1,\"id\":\"00000000000000bb\","
		"\"frames\":[{\"addr\":\"0x5\",\"symbol\":\"f\",\"module\":null,\"file\":null,"
		"\"line\":null}],\"frames_cut\":7}",
		"{\"type\":\"stall\",\"schema_version\":1,\"duration_ms\":60,\"cause\":\"cpu\","
		"\"cpu_stacks\":[{\"samples\":3,\"stack\":[],\"stack_ref\":\"00000000000000bb\"}]}",
	};
	const char *no_id = "{\"type\":\"stack\",\"schema_version\":1,\"frames\":[]}";
	struct recording *rec = read_lines(lines, 3);
	struct rf_error err;

	(void)state;
	assert_int_equal(rec->n_stalls, 2);
	assert_int_equal(rec->stalls[0].cpu_stacks[0].stack.n, 0);
	assert_int_equal(rec->unresolved_stack_refs, 1);
	assert_int_equal(rec->stalls[1].cpu_stacks[0].stack.n, 1);
	assert_int_equal(rec->stalls[1].cpu_stacks[0].stack.frames_cut, 7);
	assert_string_equal(rec->stalls[1].cpu_stacks[0].stack.frames[0].symbol, "f");
	assert_int_equal(rec->unknown_types, 0);
	assert_int_equal(recording__add_line(rec, no_id, strlen(no_id), 4, &err), -EINVAL);
	recording__free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deep_stacks_written_once),
		cmocka_unit_test(test_small_records_pass_unchanged),
		cmocka_unit_test(test_cuts_counted_in_order),
		cmocka_unit_test(test_hostile_sizes),
		cmocka_unit_test(test_reader_unresolved_ref),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
