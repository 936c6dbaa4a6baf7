/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_STALL_PIPELINE_H
#define LOOPSTALL_STALL_PIPELINE_H

#include "stall.h"

/*
 * A stall's way from BPF's numbers to a complete struct ls_stall, in stages:
 *
 *  1. decode (stall.c, classify.c): times, the syscalls and the cause, from
 *     a stall record or from a busy period still running;
 *  2. gather, on the thread that reads the ring buffer, while the process,
 *     its fds and libprobe's flight recorder still hold them: what each
 *     blocked call waited on, the callback libprobe saw, the raw stacks;
 *  3. resolve, on the finisher's thread (finisher.h: DWARF is slow): stacks
 *     unwound and symbolized, callbacks named;
 *  4. conclude: the kind of wait and the advice, as data in the stall.
 *
 * What leaves the pipeline is complete: serializers (jsonout.c) and the
 * agent's callers only read it.
 */
struct ls_collector;
struct ls_finisher;
struct ls_probe_set;
struct ls_target_store;

/* What the stages read; borrowed, each may be NULL. */
struct ls_stall_sources {
	struct ls_target_store *targets; /* what blocked calls waited on, as BPF saw it */
	struct ls_probe_set *probes;	 /* libprobe's regions */
	struct ls_collector *collector;	 /* raw stacks */
	struct ls_finisher *finisher;	 /* runs stages 3 and 4; NULL: 4 at once, no stacks */
};

/*
 * Stages 2 to 4 of a decoded stall. Returns 1 when *s is complete now
 * (hand it over, then ls_stall_free_stacks), 0 when the finisher took it
 * (ls_finisher__next gives it back complete, in order), -ENOMEM when it
 * was dropped.
 */
int ls_stall_pipeline(const struct ls_stall_sources *src, struct ls_stall *s);

/*
 * Stage 2, for tests: fills the targets and the callback and returns the
 * raw stacks taken for the stall (NULL: none, or no finisher to resolve
 * them). Stage 3 is ls_stall_resolve (finisher.h), 4 ls_stall_conclude.
 */
struct ls_taken *ls_stall_gather(const struct ls_stall_sources *src, struct ls_stall *s);

#endif
