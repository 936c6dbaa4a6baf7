/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * hook_floor.bpf.c's empty programs on exactly the agent's hooks, and the
 * context-switch event the agent opens on each thread of its target: what
 * the kernel's hook mechanisms cost before the agent does any work. Used by
 * hook_floor (bystander.sh --floor) and bystander_toggle --floor.
 */
#ifndef LOOPSTALL_BENCH_HOOK_FLOOR_H
#define LOOPSTALL_BENCH_HOOK_FLOOR_H

#include <stdint.h>
#include <sys/types.h>

struct hook_floor_set;

/*
 * Attach the wait calls in `waits` (1 << enum lt_wait, as the agent hooks
 * those its target's loops use; LT_WAIT_ALL for all), fork and exit, and the
 * switch event on thread `tid` (0: the caller; -1: none, the hooks alone).
 * 0 or -errno.
 */
int hook_floor_set__new(pid_t tid, uint32_t waits, struct hook_floor_set **out);
void hook_floor_set__free(struct hook_floor_set *fs);

#endif
