/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_STACK_COLLECTOR_H
#define LOOPSTALL_STACK_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>
#include "stall.h"
#include "unwind.h"

/*
 * Holds the raw stacks BPF sent during each loop thread's current busy
 * period (the longest block per call site, CPU samples) until the period
 * ends: unwinding and symbolizing are paid only when it became a stall.
 */
struct ls_collector;

struct ls_collector *ls_collector__new(void);
/* Keep a LT_REC_STACK or LT_REC_CPU_SAMPLE record. -EINVAL when malformed. */
int ls_collector__add(struct ls_collector *c, const void *data, size_t size);
/*
 * Give a stall its stacks (syscalls[].stack, cpu_stacks) in two steps, so
 * the slow one runs on the finisher's thread: take what was kept for the
 * stall's thread and busy period out of the collector (NULL: nothing, or no
 * memory), then unwind and symbolize it into the stall with the unwinder
 * alone, which frees it. The stall's stacks are freed with
 * ls_stall_free_stacks(); resolve returns 0 or -ENOMEM.
 */
struct ls_taken;
struct ls_taken *ls_collector__take(struct ls_collector *c, const struct ls_stall *s);
int ls_collector__resolve(struct ls_unwinder *u, struct ls_taken *taken, struct ls_stall *s);
void ls_taken__free(struct ls_taken *taken);
/* The thread exited: drop what is kept for it. */
void ls_collector__drop(struct ls_collector *c, uint32_t tid);
void ls_collector__free(struct ls_collector *c);

#endif
