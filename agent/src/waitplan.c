// SPDX-License-Identifier: BSD-2-Clause
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "syscalls.h"
#include "waitplan.h"

static const long waits[LT_WAIT_COUNT] = LT_WAIT_NRS;

#define IORING_ENTER_GETEVENTS 1u

int ls_wait_index(long nr)
{
	int i;

	for (i = 0; i < LT_WAIT_COUNT; i++)
		if (waits[i] == nr)
			return i;
	return -1;
}

bool ls_wait_is_loop(long nr, const uint64_t args[6], int *wait)
{
	int i = ls_wait_index(nr);

	if (i < 0)
		return false;
	switch (i) {
	case LT_WAIT_SELECT:
	case LT_WAIT_PSELECT6:
		if (!args[0])
			return false;
		break;
	case LT_WAIT_IO_URING_ENTER:
		/* io_uring_enter(fd, to_submit, min_complete, flags, ...) */
		if (!(args[3] & IORING_ENTER_GETEVENTS) || !(uint32_t)args[2])
			return false;
		break;
	}
	*wait = i;
	return true;
}

enum ls_thread_state ls_wait_parse_proc(const char *line, int *wait)
{
	uint64_t args[6];
	char *end;
	long nr;
	int i;

	nr = strtol(line, &end, 10);
	if (end == line)
		return LS_THREAD_RUNNING; /* "running", or nothing read */
	if (nr < 0)
		return LS_THREAD_BLOCKED; /* blocked outside a syscall */
	for (i = 0; i < 6; i++) {
		const char *p = end;

		args[i] = strtoull(p, &end, 16);
		if (end == p)
			return LS_THREAD_BLOCKED; /* no arguments: not a call to judge */
	}
	return ls_wait_is_loop(nr, args, wait) ? LS_THREAD_WAITING : LS_THREAD_BLOCKED;
}

void ls_wait_plan_learn(struct ls_wait_plan *p, uint32_t mask, uint64_t now_ns)
{
	if (now_ns < p->learn_until_ns)
		p->learn_mask |= mask;
	else
		p->learn_mask = mask;
	p->learn_until_ns = now_ns + LS_WAIT_LEARN_NS;
}

uint32_t ls_wait_plan_want(const struct ls_wait_plan *p, uint64_t now_ns)
{
	uint32_t want = p->seen & LT_WAIT_ALL;

	if (now_ns < p->learn_until_ns)
		want |= p->learn_mask & LT_WAIT_ALL;
	/* nothing seen yet is no reason to miss the first loop */
	if (p->all || !want)
		return LT_WAIT_ALL;
	return want;
}

const char *ls_wait_names(uint32_t mask, char *buf, size_t size)
{
	size_t len = 0;
	int i, n;

	if (!size)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < LT_WAIT_COUNT; i++) {
		if (!(mask & (1u << i)))
			continue;
		n = snprintf(buf + len, size - len, "%s%s", len ? "," : "",
			     ls_syscall_name((unsigned)waits[i]));
		if (n < 0 || (size_t)n >= size - len) {
			buf[len] = '\0'; /* whole names only */
			break;
		}
		len += (size_t)n;
	}
	return buf;
}
