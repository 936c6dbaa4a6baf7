/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_BUSY_ACCOUNT_H
#define LOOPSTALL_BUSY_ACCOUNT_H

/*
 * How an off-CPU interval is accounted to a busy period (struct lt_busy),
 * in one place for both sides: BPF's settle() when the thread runs again,
 * and the agent when it reports a period whose last interval BPF has not
 * settled yet (a stall in progress, or one cut short at the end).
 */
#include "loop_tracker.h"
#ifndef __bpf__
#include <stdbool.h>
#endif
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/*
 * Slots past nr_slots hold an earlier busy period's numbers (wait_exit does
 * not clear them, every iteration): a slot is zeroed when it is taken.
 */
static __always_inline void lt_slot_claim(struct lt_slot *s, __u32 nr, __s32 fd)
{
	s->nr = nr;
	s->fd = fd;
	s->count = 0;
	s->total_ns = 0;
	s->max_ns = 0;
}

/*
 * Account a block to its (syscall, fd) slot; true when it is the slot's
 * longest yet. `newcall`: the block is a call's first (a call such as fsync
 * can block several times), so `count` counts calls, not blocks.
 */
static __always_inline bool lt_slot_add(struct lt_busy *b, __u32 nr, __s32 fd, __u64 ns,
					bool newcall)
{
	bool longest;

	struct lt_slot *s = NULL;
	__u32 i, n = b->nr_slots;

	for (i = 0; i < LT_MAX_SLOTS; i++) {
		if (i >= n)
			break;
		if (b->slots[i].nr == nr && b->slots[i].fd == fd) {
			s = &b->slots[i];
			break;
		}
	}
	if (!s) {
		if (n < LT_MAX_SLOTS - 1) {
			s = &b->slots[n & (LT_MAX_SLOTS - 1)];
			lt_slot_claim(s, nr, fd);
			b->nr_slots = n + 1;
		} else {
			/* the last slot collects what did not fit */
			s = &b->slots[LT_MAX_SLOTS - 1];
			if (n < LT_MAX_SLOTS) {
				lt_slot_claim(s, LT_NR_OTHER, -1);
				b->nr_slots = LT_MAX_SLOTS;
			}
		}
	}
	if (newcall || !s->count)
		s->count++;
	s->total_ns += ns;
	longest = ns > s->max_ns;
	if (longest)
		s->max_ns = ns;
	return longest;
}

/*
 * An off-CPU interval of `off` ns that began with a switch-out of `kind`
 * (enum lt_out_kind): run-queue wait when preempted, else blocked time in
 * syscall nr on fd. True when it is the longest block of its slot yet (BPF
 * then sends its stack and target).
 */
static __always_inline bool lt_busy_settle(struct lt_busy *b, __u32 kind, __u32 nr, __s32 fd,
					   __u64 off, bool newcall)
{
	if (kind == LT_OUT_PREEMPTED) {
		b->runq_ns += off;
		return false;
	}
	/* with the wait for a CPU after wakeup: run_delay tells that apart */
	b->offcpu_ns += off;
	return lt_slot_add(b, nr, fd, off, newcall);
}

#endif
