/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_UNWIND_H
#define LOOPSTALL_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "loop_tracker.h"
#include "stall.h"

/*
 * User-space stack unwinding and symbolization with elfutils' libdwfl, from
 * a stack copied by BPF (registers + the top of the stack), the way
 * `perf record --call-graph dwarf` does it: DWARF CFI first, frame pointers
 * where CFI is missing (JIT code). One Dwfl per traced process, rebuilt when
 * its mappings change (libraries loaded after attach); symbols cached per
 * module build-id: each address's frames, and per function what names any
 * other address in it (funcache.h). LOOPSTALL_SYMBOLIZE=full in the
 * environment names every address with libdw alone; =check does both and
 * prints how many addresses differ when the unwinder is freed. Separate
 * debug files come inflated from the debug-info cache (debugcache.h).
 */
struct ls_unwinder;

struct ls_unwinder *ls_unwinder__new(void);
void ls_unwinder__free(struct ls_unwinder *u);

/* Return addresses, innermost first; activation[i] false for return addresses. */
struct ls_pcs {
	unsigned n;
	uint64_t pc[LS_MAX_FRAMES];
	bool activation[LS_MAX_FRAMES];
};

/* Unwind one stack record of process pid. Returns 0 (n >= 1) or -errno. */
int ls_unwinder__unwind(struct ls_unwinder *u, const struct lt_stack_rec *rec, size_t size,
			struct ls_pcs *out);
/*
 * Symbolize pcs into frames (inlined functions become frames of their own).
 * Fills stack->frames (malloc'd) and stack->n. Returns 0 or -ENOMEM.
 */
int ls_unwinder__symbolize(struct ls_unwinder *u, pid_t pid, const struct ls_pcs *pcs,
			   struct ls_stack *stack);
/*
 * Name pcs the cheap way: each frame's function from the symbol table and
 * its module, no DWARF: no inlined frames, no file or line. A frame is a
 * module's only inside that module's executable segments; JIT code stays
 * unnamed (the perf map is left alone: it is read when a stall needs it,
 * after the JIT wrote what the stall ran). What the attach-time judge
 * needs (inflight.h), at a tenth of the cost of a first
 * ls_unwinder__symbolize in a large binary.
 */
int ls_unwinder__names(struct ls_unwinder *u, pid_t pid, const struct ls_pcs *pcs,
		       struct ls_stack *stack);
/*
 * Name the function that starts at addr in process pid (a callback libprobe
 * recorded): its symbol and module into the buffers. Returns 0, -ENOENT when
 * nothing names it, or -ENOMEM.
 */
int ls_unwinder__name(struct ls_unwinder *u, pid_t pid, uint64_t addr, char *symbol,
		      size_t symbol_len, char *module, size_t module_len);
/* What unwinding and symbolizing cost so far. */
struct ls_unwind_stats {
	uint64_t unwound;
	uint64_t unwind_ns;
	uint64_t symbolized; /* stacks */
	uint64_t symbolize_ns;
	uint64_t debuginfo_cached;   /* debug files opened from the debug-info cache */
	uint64_t debuginfo_stored;   /* ... and written to it (debugcache.h) */
	uint64_t debuginfo_inflated; /* compressed debug files the agent inflated itself */
	uint64_t lines_read;	     /* line lookups the agent read itself (linetab.h) */
	uint64_t lines_libdw;	     /* ... left to libdw (a unit the reader does not take) */
};

/* The calling thread symbolizes no more: its own signal stack goes back. */
void ls_unwinder__thread_done(void);
void ls_unwinder__stats(const struct ls_unwinder *u, struct ls_unwind_stats *stats);
/*
 * Work for when no stall waits: write one module's symbolizer store
 * (funstore.h) into the debug-info cache. Returns true when it did some
 * (call again), false when nothing is left to do now.
 */
bool ls_unwinder__idle(struct ls_unwinder *u);
/* Load what symbolizing process pid needs while it is alive (it may be killed mid-stall). */
void ls_unwinder__prepare(struct ls_unwinder *u, pid_t pid);
/* Check process pid's mappings again on next use (an exec, a dlopen may have changed them). */
void ls_unwinder__refresh(struct ls_unwinder *u, pid_t pid);
/*
 * Python frames (pyframes.h): BPF's map of interpreters to fill. From then
 * on, prepare also finds a process's CPython, and ls_unwinder__python puts
 * the Python frames a record carries into its symbolized stack.
 */
int ls_unwinder__set_python(struct ls_unwinder *u, int py_procs_fd);
/* Find process pid's CPython now (any thread may call it, as ls_unwinder__prepare does). */
void ls_unwinder__attach_python(struct ls_unwinder *u, pid_t pid);
int ls_unwinder__python(struct ls_unwinder *u, pid_t pid, const struct lt_py_stack *ps,
			struct ls_stack *stack);
/* ls_pyframes__walk(): the Python frames of a blocked thread, read from its memory. */
void ls_unwinder__python_walk(struct ls_unwinder *u, pid_t pid, uint64_t fsbase,
			      struct lt_py_stack *out);
/* A stack record arrived: read its Python code objects while the process runs (any thread). */
void ls_unwinder__python_warm(struct ls_unwinder *u, const struct lt_stack_rec *rec);
/* The frame of the asyncio task's coroutine in a stack ls_unwinder__python filled, or NULL. */
const struct ls_frame *ls_unwinder__python_task(struct ls_unwinder *u, pid_t pid,
						const struct ls_stack *stack);
/* A stall of tid is going on: note the asyncio Tasks running now (pyframes.h). */
void ls_unwinder__python_snapshot(struct ls_unwinder *u, pid_t pid, pid_t tid,
				  uint64_t busy_start_ns);
/* The name of the Task that ran the coroutine frame `frame` in that period: true, or false. */
bool ls_unwinder__python_task_name(struct ls_unwinder *u, pid_t pid, pid_t tid,
				   uint64_t busy_start_ns, uint64_t frame, char *out, size_t len);
/* Forget what is cached about process pid (it exited). */
void ls_unwinder__forget(struct ls_unwinder *u, pid_t pid);

/*
 * Walk a frame-pointer chain inside a copied stack: from frame pointer fp,
 * each frame is [saved fp][return address]. Pure, for unit tests. Appends at
 * most max - *n return addresses to pcs; stops at the first frame outside
 * [sp, sp + size) or one that does not move up the stack.
 */
void ls_fp_walk(const uint8_t *stack, uint64_t sp, size_t size, uint64_t fp, uint64_t *pcs,
		bool *activation, unsigned *n, unsigned max);

#endif
