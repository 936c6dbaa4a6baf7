// SPDX-License-Identifier: BSD-2-Clause
/*
 * ls_stall_apply_kernel_times(): the switch-by-switch split of a stall
 * checked against the kernel's own accounting of the period (CPU time from
 * se.sum_exec_runtime, run-queue wait from sched_info.run_delay).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "stall.h"

#define MS 1000000ull
#define START (7000 * MS)
#define THRESHOLD (50 * MS)

#define NR_CLOCK_NANOSLEEP 230
#define NR_FUTEX 202

static void add_slot(struct lt_busy *b, uint32_t nr, uint64_t total)
{
	struct lt_slot *slot = &b->slots[b->nr_slots++];

	slot->nr = nr;
	slot->fd = -1;
	slot->count = 1;
	slot->total_ns = total;
	slot->max_ns = total;
}

/* A stall of dur ns from what the switches showed: blocked off, preempted runq. */
static void stall(struct ls_stall *s, struct lt_busy *b, uint64_t dur)
{
	b->start_ns = START;
	ls_stall_from_busy(s, b, 42, 42, "victim", START + dur, THRESHOLD, 0);
}

static void assert_split_adds_up(const struct ls_stall *s)
{
	assert_int_equal(s->on_cpu_ns + s->off_cpu_ns + s->runq_ns, s->end_ns - s->start_ns);
}

/*
 * The tracer missed the switch-out of a 299 ms sleep: the pairs say the
 * whole stall ran on the CPU, the kernel says 1 ms. The kernel wins, and the
 * blocked time no syscall explains still counts as blocked.
 */
static void test_missed_switch(void **state)
{
	struct lt_busy b;
	struct ls_stall s;

	(void)state;
	memset(&b, 0, sizeof(b));
	stall(&s, &b, 300 * MS);
	assert_int_equal(s.on_cpu_ns, 300 * MS);
	assert_int_equal(s.cause, LS_CAUSE_CPU);

	ls_stall_apply_kernel_times(&s, 1 * MS, 0);
	assert_int_equal(s.on_cpu_ns, 1 * MS);
	assert_int_equal(s.off_cpu_ns, 299 * MS);
	assert_int_equal(s.runq_ns, 0);
	assert_int_equal(s.cause, LS_CAUSE_BLOCKING_SYSCALL);
	assert_split_adds_up(&s);
}

/*
 * The kernel's CPU time lags by up to a tick at each end of the period: an
 * on-CPU time from exact switch pairs within that slack is kept.
 */
static void test_pairs_kept_within_slack(void **state)
{
	struct lt_busy b;
	struct ls_stall s;

	(void)state;
	memset(&b, 0, sizeof(b));
	b.offcpu_ns = 100 * MS;
	add_slot(&b, NR_CLOCK_NANOSLEEP, 100 * MS);
	stall(&s, &b, 300 * MS);
	assert_int_equal(s.on_cpu_ns, 200 * MS);

	/* the kernel counted 15 ms less: a stale clock, not a missed switch */
	ls_stall_apply_kernel_times(&s, 185 * MS, 0);
	assert_int_equal(s.on_cpu_ns, 200 * MS);
	assert_int_equal(s.off_cpu_ns, 100 * MS);
	assert_int_equal(s.cause, LS_CAUSE_CPU);
	assert_split_adds_up(&s);

	/* the kernel counting more than the pairs is no reason to change them */
	stall(&s, &b, 300 * MS);
	ls_stall_apply_kernel_times(&s, 250 * MS, 0);
	assert_int_equal(s.on_cpu_ns, 200 * MS);
	assert_split_adds_up(&s);
}

/* The slack is 20 ms plus 2 % of the stall: kept at its edge, replaced past it. */
static void test_slack_edge(void **state)
{
	uint64_t slack = 20 * MS + 300 * MS / 50;
	struct lt_busy b;
	struct ls_stall s;

	(void)state;
	memset(&b, 0, sizeof(b));
	b.offcpu_ns = 100 * MS;
	add_slot(&b, NR_CLOCK_NANOSLEEP, 100 * MS);

	stall(&s, &b, 300 * MS);
	ls_stall_apply_kernel_times(&s, 200 * MS - slack, 0);
	assert_int_equal(s.on_cpu_ns, 200 * MS);

	stall(&s, &b, 300 * MS);
	ls_stall_apply_kernel_times(&s, 200 * MS - slack - 1, 0);
	assert_int_equal(s.on_cpu_ns, 200 * MS - slack - 1);
	assert_int_equal(s.off_cpu_ns, 100 * MS + slack + 1);
	assert_split_adds_up(&s);
}

/* run_delay is the run-queue wait, whatever the switch pairs made of it. */
static void test_run_delay_is_runqueue(void **state)
{
	struct lt_busy b;
	struct ls_stall s;

	(void)state;
	/* the pairs saw one 10 ms preemption; the kernel knows of 200 ms */
	memset(&b, 0, sizeof(b));
	b.runq_ns = 10 * MS;
	stall(&s, &b, 300 * MS);
	assert_int_equal(s.on_cpu_ns, 290 * MS);
	ls_stall_apply_kernel_times(&s, 100 * MS, 200 * MS);
	assert_int_equal(s.runq_ns, 200 * MS);
	assert_int_equal(s.on_cpu_ns, 100 * MS);
	assert_int_equal(s.off_cpu_ns, 0);
	assert_int_equal(s.cause, LS_CAUSE_PREEMPTED);
	assert_split_adds_up(&s);

	/* the pairs' run-queue time is replaced, also when the kernel's is smaller */
	memset(&b, 0, sizeof(b));
	b.runq_ns = 50 * MS;
	stall(&s, &b, 300 * MS);
	ls_stall_apply_kernel_times(&s, 280 * MS, 20 * MS);
	assert_int_equal(s.runq_ns, 20 * MS);
	assert_int_equal(s.on_cpu_ns, 250 * MS);
	assert_int_equal(s.off_cpu_ns, 30 * MS);
	assert_split_adds_up(&s);
}

/* Kernel numbers past the stall's duration are clamped to it. */
static void test_clamped(void **state)
{
	struct lt_busy b;
	struct ls_stall s;

	(void)state;
	memset(&b, 0, sizeof(b));
	stall(&s, &b, 100 * MS);
	ls_stall_apply_kernel_times(&s, 0, 150 * MS);
	assert_int_equal(s.runq_ns, 100 * MS);
	assert_int_equal(s.on_cpu_ns, 0);
	assert_int_equal(s.off_cpu_ns, 0);
	assert_int_equal(s.cause, LS_CAUSE_PREEMPTED);
	assert_split_adds_up(&s);

	/* CPU time past the duration: the pairs stand, the split still adds up */
	stall(&s, &b, 100 * MS);
	ls_stall_apply_kernel_times(&s, 500 * MS, 0);
	assert_int_equal(s.on_cpu_ns, 100 * MS);
	assert_int_equal(s.off_cpu_ns, 0);
	assert_int_equal(s.runq_ns, 0);
	assert_split_adds_up(&s);

	/* both at once: no underflow */
	stall(&s, &b, 100 * MS);
	ls_stall_apply_kernel_times(&s, UINT64_MAX, UINT64_MAX);
	assert_int_equal(s.runq_ns, 100 * MS);
	assert_int_equal(s.on_cpu_ns, 0);
	assert_int_equal(s.off_cpu_ns, 0);
	assert_split_adds_up(&s);

	/* a large run delay leaves less room for the pairs' on-CPU time */
	memset(&b, 0, sizeof(b));
	stall(&s, &b, 100 * MS);
	ls_stall_apply_kernel_times(&s, 100 * MS, 90 * MS);
	assert_int_equal(s.runq_ns, 90 * MS);
	assert_int_equal(s.on_cpu_ns, 10 * MS);
	assert_int_equal(s.off_cpu_ns, 0);
	assert_split_adds_up(&s);
}

/* A zero-length period stays consistent (and unknown). */
static void test_empty_period(void **state)
{
	struct lt_busy b;
	struct ls_stall s;

	(void)state;
	memset(&b, 0, sizeof(b));
	stall(&s, &b, 0);
	ls_stall_apply_kernel_times(&s, 5 * MS, 5 * MS);
	assert_int_equal(s.on_cpu_ns, 0);
	assert_int_equal(s.off_cpu_ns, 0);
	assert_int_equal(s.runq_ns, 0);
	assert_int_equal(s.cause, LS_CAUSE_UNKNOWN);
}

/*
 * The switch pairs count a block up to the switch back in, the wait for a
 * CPU after the wakeup included; run_delay counts that wait as run-queue
 * time. After reconciling, the parts must still add up: the time blocked
 * in syscalls and in page faults is part of off_cpu_ns, not more.
 */
static void test_blocked_parts_within_off_cpu(void **state)
{
	uint64_t in_syscalls;
	struct lt_busy b;
	struct ls_stall s;

	(void)state;
	/* 1000 page faults of 0.4 ms, each followed by 5 us waiting for a CPU */
	memset(&b, 0, sizeof(b));
	b.offcpu_ns = 405 * MS;
	b.nvcsw = 1000;
	add_slot(&b, LT_NR_NONE, 405 * MS);
	stall(&s, &b, 500 * MS);
	ls_stall_apply_kernel_times(&s, 95 * MS, 5 * MS);
	assert_int_equal(s.runq_ns, 5 * MS);
	assert_int_equal(s.on_cpu_ns, 95 * MS);
	assert_int_equal(s.off_cpu_ns, 400 * MS);
	assert_split_adds_up(&s);
	assert_true(s.fault_ns <= s.off_cpu_ns);

	/* the same with a sleep and a lock wait */
	memset(&b, 0, sizeof(b));
	b.offcpu_ns = 280 * MS;
	add_slot(&b, NR_CLOCK_NANOSLEEP, 200 * MS);
	add_slot(&b, NR_FUTEX, 80 * MS);
	stall(&s, &b, 300 * MS);
	ls_stall_apply_kernel_times(&s, 20 * MS, 10 * MS);
	in_syscalls = s.syscalls[0].total_ns + s.syscalls[1].total_ns;
	assert_int_equal(s.off_cpu_ns, 270 * MS);
	assert_true(in_syscalls + s.fault_ns <= s.off_cpu_ns);
}

/*
 * A period that began while its loop ran lean (part_unseen): the sleeps of
 * its first milliseconds were never switch pairs. 10 ms of them is within
 * the ordinary slack but not within the lean one: it counts as blocked.
 */
static void test_part_unseen_slack(void **state)
{
	struct lt_busy b;
	struct ls_stall s;

	(void)state;
	memset(&b, 0, sizeof(b));
	b.offcpu_ns = 290 * MS;
	add_slot(&b, NR_CLOCK_NANOSLEEP, 290 * MS);
	stall(&s, &b, 300 * MS);
	ls_stall_apply_kernel_times(&s, 1 * MS, 0);
	assert_int_equal(s.on_cpu_ns, 10 * MS);

	stall(&s, &b, 300 * MS);
	s.part_unseen = true;
	ls_stall_apply_kernel_times(&s, 1 * MS, 0);
	assert_int_equal(s.on_cpu_ns, 1 * MS);
	assert_int_equal(s.off_cpu_ns, 299 * MS);
	assert_split_adds_up(&s);

	/* within the kernel's own lag, the pairs stand */
	stall(&s, &b, 300 * MS);
	s.part_unseen = true;
	ls_stall_apply_kernel_times(&s, 6 * MS, 0);
	assert_int_equal(s.on_cpu_ns, 10 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_missed_switch),
	    cmocka_unit_test(test_pairs_kept_within_slack),
	    cmocka_unit_test(test_slack_edge),
	    cmocka_unit_test(test_part_unseen_slack),
	    cmocka_unit_test(test_run_delay_is_runqueue),
	    cmocka_unit_test(test_clamped),
	    cmocka_unit_test(test_empty_period),
	    cmocka_unit_test(test_blocked_parts_within_off_cpu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
