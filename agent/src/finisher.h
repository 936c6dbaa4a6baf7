/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_FINISHER_H
#define LOOPSTALL_FINISHER_H

#include <stdbool.h>
#include <sys/types.h>
#include "stack_collector.h"
#include "stall.h"
#include "unwind.h"

/*
 * The last stages of the stall pipeline (stall_pipeline.h) on a thread of
 * its own, in the order stalls were handed in: unwinds and symbolizes their
 * stacks, names their callbacks, concludes their advice. Symbolizing can
 * take a while (the first stack that needs a module's DWARF makes libdw read
 * and decompress it: ~100 ms for libc's); done on the thread that reads the
 * ring buffer, it would hold up the scan that reports stalls in progress. It
 * owns the unwinder: nothing else may use it while the finisher lives. With
 * nothing to do, it writes the modules' symbolizer stores into the
 * debug-info cache (ls_unwinder__idle), and finishes that when freed.
 */
struct ls_finisher;

struct ls_finisher *ls_finisher__new(struct ls_unwinder *u);
/* Resolve `taken` (may be NULL: nothing to resolve) into a copy of *s. */
int ls_finisher__submit(struct ls_finisher *f, const struct ls_stall *s, struct ls_taken *taken);
/* Open a new loop thread's modules while its /proc entry exists (ls_unwinder__prepare). */
int ls_finisher__prepare(struct ls_finisher *f, pid_t pid);
/*
 * Run fn with the unwinder on the worker, after the jobs queued before it,
 * and wait for it: what else needs the unwinder (the attach-time look at
 * blocked threads) shares its caches. Returns what fn returned, or -ENOMEM.
 * A stall done before it holds the worker until the caller takes and
 * releases it (__next, __release): meanwhile the call runs drain(ctx),
 * which must do that and return whether it took one. Not while a stall
 * taken with __next is held: drain finds nothing then, and the call waits
 * for a release that does not come.
 */
typedef int (*ls_finisher_fn)(struct ls_unwinder *u, void *ctx);
typedef bool (*ls_finisher_drain_fn)(void *ctx);
int ls_finisher__call(struct ls_finisher *f, ls_finisher_fn fn, void *ctx,
		      ls_finisher_drain_fn drain, void *drain_ctx);
/* Readable (an eventfd) when a stall is done. */
int ls_finisher__fd(const struct ls_finisher *f);
/*
 * The next done stall, in submission order: true and *out filled, or false;
 * with `wait`, blocks until one is done or nothing is left to do. Its frames
 * point into the unwinder's caches: call ls_finisher__release once it has
 * been used (and before the next call), and the worker goes on.
 */
bool ls_finisher__next(struct ls_finisher *f, struct ls_stall *out, bool wait);
void ls_finisher__release(struct ls_finisher *f);
/* The unwinder's counters, as of the last job done. */
void ls_finisher__stats(struct ls_finisher *f, struct ls_unwind_stats *stats);
/*
 * Stage 3 of a stall, as the finisher's thread runs it before concluding:
 * its stacks unwound and symbolized (taken may be NULL, and is freed), its
 * callbacks named. The unwinder is the caller's alone while it runs.
 */
void ls_stall_resolve(struct ls_unwinder *u, struct ls_taken *taken, struct ls_stall *s);
/* Stops the thread; stalls not yet taken with __next are dropped. */
void ls_finisher__free(struct ls_finisher *f);

#endif
