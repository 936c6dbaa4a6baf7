/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_AGGREGATE_H
#define LOOPSTALL_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "recfile.h"

/*
 * What `report` and `doctor` say about a recording, computed once: stalls
 * by cause, a histogram of their durations, culprits (stalls grouped by the
 * code that caused them), the stalls longest first and folded stacks for
 * flame graphs. Pure: no I/O, every order deterministic.
 */

/* The runtime a stalled thread ran, as its stack or its name shows. */
enum agg_lang {
	AGG_LANG_C,
	AGG_LANG_PYTHON,
	AGG_LANG_NODE,
};

struct agg_cause {
	const char *cause;
	unsigned stalls;
	double total_ms;
	double max_ms;
};

/* Stall durations on a 1-2-5 scale: [lo_ms, hi_ms). */
struct agg_bucket {
	double lo_ms;
	double hi_ms;
	unsigned stalls;
};

/*
 * Stalls with the same cause at the same call site. With stacks that is
 * the same innermost frames; without, the same process, first syscall and
 * what it waited on. The fields describing it come from its worst stall.
 */
struct agg_culprit {
	char *key;
	const struct rf_stall *worst;
	const char *cause;
	const char *comm;
	const struct rf_syscall *syscall; /* the worst stall's first syscall, or NULL */
	const struct rf_stack *stack;	  /* the worst stall's dominant stack, or NULL */
	const struct rf_frame *site;	  /* the frame of `stack` that names the call site */
	enum agg_lang lang;
	unsigned stalls;
	unsigned cut_short;
	double total_ms;
	double max_ms;
	/* sums over its stalls */
	double on_cpu_ms;
	double off_cpu_ms;
	double runqueue_ms;
	double fault_ms;
	double syscall_ms; /* in the worst stall's first syscall (by name) */
	uint64_t major_faults;
	uint64_t involuntary_switches;
};

/* One flame-graph line: frames outermost first, joined by ';'. */
struct agg_folded {
	char *frames;
	double weight_ms;
};

struct aggregate {
	const struct recording *rec;
	double recorded_ms;
	double threshold_ms;
	int64_t start_unix_ns; /* 0 when unknown */
	unsigned stalls;
	unsigned cut_short;
	double stalled_ms;
	double longest_ms;
	size_t n_causes; /* most stalled time first */
	struct agg_cause *causes;
	size_t n_buckets; /* from the first non-empty bucket to the last */
	struct agg_bucket *buckets;
	size_t n_culprits; /* most stalled time first */
	struct agg_culprit *culprits;
	const struct rf_stall **by_duration; /* all stalls, longest first */
	size_t n_folded;		     /* sorted by frames */
	struct agg_folded *folded;
};

int aggregate__new(const struct recording *rec, struct aggregate **out);
void aggregate__free(struct aggregate *agg);

const char *agg_lang_name(enum agg_lang lang);
enum agg_lang agg_stall_lang(const struct rf_stall *s);
/* The stack that explains most of a stall (see aggregate.c), or NULL. */
const struct rf_stack *agg_stall_stack(const struct rf_stall *s);
/*
 * The user's own code: a Python or JavaScript frame, or a native one outside
 * the interpreter, the runtime and the C library.
 */
bool agg_user_frame(const struct rf_frame *f);
/*
 * The innermost user frame (agg_user_frame), else the innermost frame past
 * the C runtime; NULL for an empty stack.
 */
const struct rf_frame *agg_call_site(const struct rf_stack *st);
/* A frame of the Python interpreter's own call machinery (_PyEval_EvalFrameDefault...). */
bool agg_interpreter_frame(const struct rf_frame *f);
/* Python or Node.js when the stack runs through their interpreter (bytecode, JavaScript). */
enum agg_lang agg_stack_runtime(const struct rf_stack *st);
/* A frame's name: its symbol, else "[module]", else "[unknown]"; ';' never appears. */
const char *agg_frame_name(const struct rf_frame *f, char *buf, size_t len);
/* The last path component. */
const char *agg_basename(const char *path);

#endif
