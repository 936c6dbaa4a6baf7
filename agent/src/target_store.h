/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_TARGET_STORE_H
#define LOOPSTALL_TARGET_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "loop_tracker.h"

/*
 * The LT_REC_TARGET records of each loop thread's current busy period, one
 * per (syscall, fd) slot, until the period ends: a stall names its calls'
 * targets from them (ls_target_resolve), a period that was no stall drops them.
 */
struct ls_target_store;

struct ls_target_store *ls_target_store__new(void);
/* Keep a record (a later one of the same slot replaces it). -EINVAL: malformed; -ENOMEM. */
int ls_target_store__add(struct ls_target_store *st, const void *data, size_t size);
/* The capture of a slot of thread tid's busy period that began at busy_start_ns, or NULL. */
const struct lt_capture *ls_target_store__find(const struct ls_target_store *st, uint32_t tid,
					       uint64_t busy_start_ns, uint32_t nr, int32_t fd);
/* The thread exited. */
void ls_target_store__drop(struct ls_target_store *st, uint32_t tid);
void ls_target_store__free(struct ls_target_store *st);

#endif
