/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * hook_floor.bpf.c's empty programs on exactly the agent's hooks, and the
 * context-switch event the agent opens on each thread of its target: what
 * the kernel's hook mechanisms cost before the agent does any work. Used by
 * hook_floor (bystander.sh --floor) and bystander_toggle --floor.
 */
#ifndef LOOPSTALL_BENCH_HOOK_FLOOR_H
#define LOOPSTALL_BENCH_HOOK_FLOOR_H

#include <sys/types.h>

struct hook_floor_set;

/* Attach everything, the switch event on thread `tid` (0: the caller). 0 or -errno. */
int hook_floor_set__new(pid_t tid, struct hook_floor_set **out);
void hook_floor_set__free(struct hook_floor_set *fs);

#endif
