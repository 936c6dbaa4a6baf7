// SPDX-License-Identifier: BSD-2-Clause
/*
 * From what BPF accumulated for a busy period (struct lt_busy, or a whole
 * ring-buffer record) to a classified stall: stall.c and classify.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include "busy_account.h"
#include "stall.h"

#define MS 1000000ull
#define START (5000 * MS) /* an arbitrary CLOCK_MONOTONIC time */
#define THRESHOLD (50 * MS)

#define NR_READ 0
#define NR_WRITE 1
#define NR_POLL 7
#define NR_FUTEX 202
#define NR_CLOCK_NANOSLEEP 230

static const char comm[16] = "python3";

static void add_slot(struct lt_busy *b, uint32_t nr, int32_t fd, uint32_t count, uint64_t total,
		     uint64_t max)
{
	struct lt_slot *slot = &b->slots[b->nr_slots++];

	slot->nr = nr;
	slot->fd = fd;
	slot->count = count;
	slot->total_ns = total;
	slot->max_ns = max;
}

static void busy_init(struct lt_busy *b, uint64_t offcpu, uint64_t runq)
{
	memset(b, 0, sizeof(*b));
	b->start_ns = START;
	b->offcpu_ns = offcpu;
	b->runq_ns = runq;
}

static void from_busy(struct ls_stall *s, const struct lt_busy *b, uint64_t dur)
{
	ls_stall_from_busy(s, b, 42, 43, comm, START + dur, THRESHOLD, 0);
}

static void test_blocking_sleep(void **state)
{
	struct lt_busy b;
	struct ls_stall s;

	(void)state;
	busy_init(&b, 299 * MS, 0);
	b.nvcsw = 1;
	add_slot(&b, NR_CLOCK_NANOSLEEP, -1, 1, 299 * MS, 299 * MS);
	ls_stall_from_busy(&s, &b, 42, 43, comm, START + 300 * MS, THRESHOLD, 0);

	assert_int_equal(s.pid, 42);
	assert_int_equal(s.tid, 43);
	assert_string_equal(s.comm, "python3");
	assert_int_equal(s.start_ns, START);
	assert_int_equal(s.end_ns, START + 300 * MS);
	assert_int_equal(s.threshold_ns, THRESHOLD);
	assert_int_equal(s.cause, LS_CAUSE_BLOCKING_SYSCALL);
	assert_string_equal(ls_cause_name(s.cause), "blocking_syscall");
	assert_int_equal(s.on_cpu_ns, 1 * MS);
	assert_int_equal(s.off_cpu_ns, 299 * MS);
	assert_int_equal(s.runq_ns, 0);
	assert_int_equal(s.fault_ns, 0);
	assert_int_equal(s.nvcsw, 1);
	assert_int_equal(s.n_syscalls, 1);
	assert_int_equal(s.syscalls[0].nr, NR_CLOCK_NANOSLEEP);
	assert_string_equal(s.syscalls[0].name, "clock_nanosleep");
	assert_int_equal(s.syscalls[0].fd, -1);
	assert_int_equal(s.syscalls[0].count, 1);
	assert_int_equal(s.syscalls[0].total_ns, 299 * MS);
	assert_int_equal(s.syscalls[0].max_ns, 299 * MS);
	/* resolving fds needs /proc: left to fdtarget.c */
	assert_string_equal(s.syscalls[0].target, "");
	assert_false(s.cut_short);
}

static void test_cpu(void **state)
{
	struct lt_busy b;
	struct ls_stall s;

	(void)state;
	busy_init(&b, 0, 0);
	from_busy(&s, &b, 200 * MS);
	assert_int_equal(s.cause, LS_CAUSE_CPU);
	assert_string_equal(ls_cause_name(s.cause), "cpu");
	assert_int_equal(s.on_cpu_ns, 200 * MS);
	assert_int_equal(s.off_cpu_ns, 0);
	assert_int_equal(s.n_syscalls, 0);

	/* a short blocking read does not change the verdict */
	busy_init(&b, 20 * MS, 5 * MS);
	add_slot(&b, NR_READ, 3, 2, 20 * MS, 15 * MS);
	from_busy(&s, &b, 200 * MS);
	assert_int_equal(s.cause, LS_CAUSE_CPU);
	assert_int_equal(s.on_cpu_ns, 175 * MS);
}

static void test_lock_wait(void **state)
{
	struct lt_busy b;
	struct ls_stall s;

	(void)state;
	busy_init(&b, 150 * MS, 0);
	add_slot(&b, NR_FUTEX, -1, 3, 140 * MS, 100 * MS);
	add_slot(&b, NR_READ, 5, 1, 10 * MS, 10 * MS);
	from_busy(&s, &b, 200 * MS);
	assert_int_equal(s.cause, LS_CAUSE_LOCK_WAIT);
	assert_string_equal(ls_cause_name(s.cause), "lock_wait");
	assert_string_equal(s.syscalls[0].name, "futex");
	assert_int_equal(s.syscalls[0].fd, -1);
	assert_int_equal(s.syscalls[1].fd, 5);
}

static void test_preempted(void **state)
{
	struct lt_busy b;
	struct ls_stall s;

	(void)state;
	busy_init(&b, 0, 180 * MS);
	b.nivcsw = 40;
	from_busy(&s, &b, 200 * MS);
	assert_int_equal(s.cause, LS_CAUSE_PREEMPTED);
	assert_string_equal(ls_cause_name(s.cause), "preempted");
	assert_int_equal(s.runq_ns, 180 * MS);
	assert_int_equal(s.on_cpu_ns, 20 * MS);
	assert_int_equal(s.nivcsw, 40);
}

static void test_page_fault(void **state)
{
	struct lt_busy b;
	struct ls_stall s;

	(void)state;
	busy_init(&b, 260 * MS, 0);
	add_slot(&b, NR_READ, 4, 1, 10 * MS, 10 * MS);
	add_slot(&b, LT_NR_NONE, -1, 300, 250 * MS, 5 * MS);
	ls_stall_from_busy(&s, &b, 42, 43, comm, START + 300 * MS, THRESHOLD, 300);
	assert_int_equal(s.cause, LS_CAUSE_PAGE_FAULT);
	assert_string_equal(ls_cause_name(s.cause), "page_fault");
	assert_int_equal(s.fault_ns, 250 * MS);
	assert_int_equal(s.major_faults, 300);
	/* off-CPU time still counts it; the syscall list does not */
	assert_int_equal(s.off_cpu_ns, 260 * MS);
	assert_int_equal(s.n_syscalls, 1);
	assert_string_equal(s.syscalls[0].name, "read");
}

static void test_mixed(void **state)
{
	struct lt_busy b;
	struct ls_stall s;

	(void)state;
	/* thirds: 100 ms on CPU, 100 ms in read(), 100 ms runnable */
	busy_init(&b, 100 * MS, 100 * MS);
	add_slot(&b, NR_READ, 7, 10, 100 * MS, 30 * MS);
	from_busy(&s, &b, 300 * MS);
	assert_int_equal(s.on_cpu_ns, 100 * MS);
	assert_int_equal(s.cause, LS_CAUSE_MIXED);
	assert_string_equal(ls_cause_name(s.cause), "mixed");

	/* half is not a majority; just over half is */
	busy_init(&b, 100 * MS, 0);
	add_slot(&b, NR_READ, 7, 1, 100 * MS, 100 * MS);
	from_busy(&s, &b, 200 * MS);
	assert_int_equal(s.cause, LS_CAUSE_MIXED);
	busy_init(&b, 100 * MS + 1, 0);
	add_slot(&b, NR_READ, 7, 1, 100 * MS + 1, 100 * MS + 1);
	from_busy(&s, &b, 200 * MS);
	assert_int_equal(s.cause, LS_CAUSE_BLOCKING_SYSCALL);
}

static void test_sorted_by_total(void **state)
{
	struct lt_busy b;
	struct ls_stall s;

	(void)state;
	busy_init(&b, 120 * MS, 0);
	add_slot(&b, NR_READ, 3, 4, 10 * MS, 5 * MS);
	add_slot(&b, NR_WRITE, 4, 1, 50 * MS, 50 * MS);
	add_slot(&b, NR_POLL, -1, 2, 30 * MS, 20 * MS);
	add_slot(&b, NR_CLOCK_NANOSLEEP, -1, 1, 30 * MS, 30 * MS);
	from_busy(&s, &b, 200 * MS);
	assert_int_equal(s.n_syscalls, 4);
	assert_string_equal(s.syscalls[0].name, "write");
	assert_int_equal(s.syscalls[0].fd, 4);
	/* equal totals: lower syscall number first, so output is stable */
	assert_string_equal(s.syscalls[1].name, "poll");
	assert_string_equal(s.syscalls[2].name, "clock_nanosleep");
	assert_string_equal(s.syscalls[3].name, "read");
	assert_int_equal(s.syscalls[3].count, 4);
	assert_int_equal(s.syscalls[3].max_ns, 5 * MS);
}

static void test_other_and_unknown_slots(void **state)
{
	struct lt_busy b;
	struct ls_stall s;

	(void)state;
	busy_init(&b, 190 * MS, 0);
	add_slot(&b, NR_READ, 3, 1, 20 * MS, 20 * MS);
	add_slot(&b, LT_NR_OTHER, -1, 9, 150 * MS, 40 * MS);
	add_slot(&b, 400, -1, 1, 10 * MS, 10 * MS);
	/* a slot BPF reserved but never filled */
	add_slot(&b, NR_WRITE, 3, 0, 0, 0);
	from_busy(&s, &b, 200 * MS);
	assert_int_equal(s.n_syscalls, 3);
	assert_int_equal(s.syscalls[0].nr, -1);
	assert_string_equal(s.syscalls[0].name, "other");
	assert_int_equal(s.syscalls[0].count, 9);
	assert_string_equal(s.syscalls[1].name, "read");
	assert_int_equal(s.syscalls[2].nr, 400);
	assert_string_equal(s.syscalls[2].name, "unknown");
	/* "other" calls are not known to be lock waits: blocking */
	assert_int_equal(s.cause, LS_CAUSE_BLOCKING_SYSCALL);
}

static void test_too_many_slots(void **state)
{
	struct lt_busy b;
	struct ls_stall s;
	unsigned i;

	(void)state;
	busy_init(&b, 80 * MS, 0);
	for (i = 0; i < LT_MAX_SLOTS; i++)
		add_slot(&b, i, (int32_t)i, 1, 10 * MS, 10 * MS);
	/* a corrupt count must not read past slots[] */
	b.nr_slots = 1000;
	from_busy(&s, &b, 100 * MS);
	assert_int_equal(s.n_syscalls, LT_MAX_SLOTS);
}

static void test_clamped(void **state)
{
	struct lt_busy b;
	struct ls_stall s;

	(void)state;
	/* off + runq overshoot the period (clock skew between CPUs) */
	busy_init(&b, 80 * MS, 50 * MS);
	from_busy(&s, &b, 100 * MS);
	assert_int_equal(s.off_cpu_ns, 80 * MS);
	assert_int_equal(s.runq_ns, 20 * MS);
	assert_int_equal(s.on_cpu_ns, 0);

	busy_init(&b, 150 * MS, 10 * MS);
	from_busy(&s, &b, 100 * MS);
	assert_int_equal(s.off_cpu_ns, 100 * MS);
	assert_int_equal(s.runq_ns, 0);
	assert_int_equal(s.on_cpu_ns, 0);
	assert_true(s.off_cpu_ns + s.runq_ns + s.on_cpu_ns == s.end_ns - s.start_ns);

	/* an end before the start is an empty period, not a wrapped one */
	busy_init(&b, 0, 0);
	ls_stall_from_busy(&s, &b, 1, 1, comm, START - 1, THRESHOLD, 0);
	assert_int_equal(s.end_ns, s.start_ns);
	assert_int_equal(s.on_cpu_ns, 0);
	assert_int_equal(s.cause, LS_CAUSE_UNKNOWN);
}

static void test_cause_names(void **state)
{
	(void)state;
	assert_string_equal(ls_cause_name(LS_CAUSE_UNKNOWN), "unknown");
	assert_string_equal(ls_cause_name(LS_CAUSE_COUNT), "unknown");
	assert_string_equal(ls_cause_name((enum ls_cause)-1), "unknown");
	assert_string_equal(ls_cause_name(LS_CAUSE_LOCK_WAIT), "lock_wait");
}

static void record_init(struct lt_stall_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->type = LT_REC_STALL;
	rec->pid = 1234;
	rec->tid = 1235;
	memcpy(rec->comm, "node", 5);
	rec->end_ns = START + 120 * MS;
	rec->maj_flt = 3;
	busy_init(&rec->busy, 110 * MS, 0);
	add_slot(&rec->busy, NR_READ, 9, 1, 110 * MS, 110 * MS);
}

static void test_record(void **state)
{
	struct lt_stall_rec rec;
	unsigned char padded[sizeof(rec) + 8];
	struct ls_stall s;

	(void)state;
	record_init(&rec);
	assert_int_equal(ls_stall_from_record(&s, &rec, sizeof(rec), THRESHOLD), 0);
	assert_int_equal(s.pid, 1234);
	assert_int_equal(s.tid, 1235);
	assert_string_equal(s.comm, "node");
	assert_int_equal(s.start_ns, START);
	assert_int_equal(s.end_ns, START + 120 * MS);
	assert_int_equal(s.threshold_ns, THRESHOLD);
	assert_int_equal(s.major_faults, 3);
	assert_int_equal(s.cause, LS_CAUSE_BLOCKING_SYSCALL);
	assert_int_equal(s.syscalls[0].fd, 9);
	assert_false(s.cut_short);

	/* the ring buffer may hand over a longer, 8-byte aligned sample */
	rec.flags = LT_STALL_CUT_SHORT;
	memcpy(padded, &rec, sizeof(rec));
	assert_int_equal(ls_stall_from_record(&s, padded, sizeof(padded), THRESHOLD), 0);
	assert_true(s.cut_short);

	/* a comm of 16 bytes without NUL is cut, not run on */
	memset(rec.comm, 'x', sizeof(rec.comm));
	assert_int_equal(ls_stall_from_record(&s, &rec, sizeof(rec), THRESHOLD), 0);
	assert_int_equal(strlen(s.comm), 15);
}

static void test_record_rejected(void **state)
{
	struct lt_stall_rec rec;
	struct ls_stall s;

	(void)state;
	record_init(&rec);
	assert_int_equal(ls_stall_from_record(&s, &rec, sizeof(rec) - 1, THRESHOLD), -EINVAL);
	assert_int_equal(ls_stall_from_record(&s, &rec, 4, THRESHOLD), -EINVAL);
	assert_int_equal(ls_stall_from_record(&s, &rec, 0, THRESHOLD), -EINVAL);

	rec.type = LT_REC_THREAD_EXIT;
	assert_int_equal(ls_stall_from_record(&s, &rec, sizeof(rec), THRESHOLD), -EINVAL);
	rec.type = 0;
	assert_int_equal(ls_stall_from_record(&s, &rec, sizeof(rec), THRESHOLD), -EINVAL);

	record_init(&rec);
	rec.busy.nr_slots = LT_MAX_SLOTS + 1;
	assert_int_equal(ls_stall_from_record(&s, &rec, sizeof(rec), THRESHOLD), -EINVAL);
	rec.busy.nr_slots = LT_MAX_SLOTS;
	assert_int_equal(ls_stall_from_record(&s, &rec, sizeof(rec), THRESHOLD), 0);

	record_init(&rec);
	rec.end_ns = rec.busy.start_ns - 1;
	assert_int_equal(ls_stall_from_record(&s, &rec, sizeof(rec), THRESHOLD), -EINVAL);
}

/* A string that ends right before an unreadable page: reading past it faults. */
static char *string_before_guard(const char *text, char **map, size_t *map_len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = strlen(text) + 1;
	char *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	assert_int_equal(mprotect(p + page, page, PROT_NONE), 0);
	memcpy(p + page - n, text, n);
	*map = p;
	*map_len = 2 * page;
	return p + page - n;
}

static void test_short_comm(void **state)
{
	struct lt_busy b;
	struct ls_stall s;
	char *map, *short_comm;
	size_t map_len;

	(void)state;
	/* comm is a C string: one shorter than 16 bytes must not be over-read */
	short_comm = string_before_guard("py", &map, &map_len);
	busy_init(&b, 0, 0);
	ls_stall_from_busy(&s, &b, 1, 1, short_comm, START + 100 * MS, THRESHOLD, 0);
	assert_string_equal(s.comm, "py");
	munmap(map, map_len);
}

/*
 * The interval BPF has not settled when a stall in progress is reported
 * goes where settle() will put it (busy_account.h): into its call's own
 * slot. The agent once appended a slot of its own, so a loop blocked again
 * in the read it had blocked in before showed "read" twice.
 */
static void test_open_interval_settles_as_bpf_will(void **state)
{
	struct lt_busy b;
	struct ls_stall s;
	unsigned i;

	(void)state;
	busy_init(&b, 100 * MS, 0);
	add_slot(&b, NR_READ, 5, 1, 100 * MS, 100 * MS);
	/* the same read, blocked again: one call, more time */
	assert_false(lt_busy_settle(&b, LT_OUT_BLOCKED, NR_READ, 5, 60 * MS, false));
	assert_int_equal(b.nr_slots, 1);
	assert_int_equal(b.slots[0].count, 1);
	assert_int_equal(b.slots[0].total_ns, 160 * MS);
	/* a new read on the same fd, longer than any before */
	assert_true(lt_busy_settle(&b, LT_OUT_BLOCKED, NR_READ, 5, 150 * MS, true));
	assert_int_equal(b.nr_slots, 1);
	assert_int_equal(b.slots[0].count, 2);
	assert_int_equal(b.slots[0].max_ns, 150 * MS);
	assert_int_equal(b.offcpu_ns, 310 * MS);
	/* preempted: run-queue time, no slot */
	assert_false(lt_busy_settle(&b, LT_OUT_PREEMPTED, NR_WRITE, 3, 20 * MS, true));
	assert_int_equal(b.runq_ns, 20 * MS);
	assert_int_equal(b.nr_slots, 1);
	from_busy(&s, &b, 400 * MS);
	assert_int_equal(s.n_syscalls, 1);
	assert_string_equal(s.syscalls[0].name, "read");
	assert_int_equal(s.syscalls[0].total_ns, 310 * MS);

	/* a full table: the last slot collects the rest as "other" */
	busy_init(&b, 0, 0);
	for (i = 0; i < LT_MAX_SLOTS + 2; i++)
		lt_busy_settle(&b, LT_OUT_BLOCKED, 100 + i, (int32_t)i, MS, true);
	assert_int_equal(b.nr_slots, LT_MAX_SLOTS);
	assert_int_equal(b.slots[LT_MAX_SLOTS - 1].nr, LT_NR_OTHER);
	assert_int_equal(b.slots[LT_MAX_SLOTS - 1].count, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocking_sleep),
		cmocka_unit_test(test_cpu),
		cmocka_unit_test(test_lock_wait),
		cmocka_unit_test(test_preempted),
		cmocka_unit_test(test_page_fault),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_sorted_by_total),
		cmocka_unit_test(test_other_and_unknown_slots),
		cmocka_unit_test(test_too_many_slots),
		cmocka_unit_test(test_clamped),
		cmocka_unit_test(test_cause_names),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_record_rejected),
		cmocka_unit_test(test_short_comm),
		cmocka_unit_test(test_open_interval_settles_as_bpf_will),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
