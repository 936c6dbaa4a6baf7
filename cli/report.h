/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_REPORT_H
#define LOOPSTALL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "aggregate.h"
#include "report_out.h"

/*
 * `loopstall report`: one aggregate, four renderers. Each shows at most
 * `top` culprits and `top` of the worst stalls. Pure: they only write to
 * the stream they are given.
 */
void report_text(const struct aggregate *agg, int top, struct out *o);
void report_markdown(const struct aggregate *agg, int top, FILE *f);
int report_json(const struct aggregate *agg, int top, FILE *f);
/*
 * Folded stacks for flamegraph.pl: "comm;outermost;...;innermost MS", one
 * line per distinct stack, weighted in whole milliseconds of stall time.
 */
void report_folded(const struct aggregate *agg, FILE *f);

/* Words shared by the renderers (and doctor). */
/* The plural ending for a count: "1 frame", "2 frames". */
#define PLURAL(n) ((n) == 1 ? "" : "s")
/* "usleep (demo.c:42)", "time_sleep (libpython3.11.so.1.0)", "0x7f12 ([unknown])" */
const char *report_frame(const struct rf_frame *f, char *buf, size_t len);
/* "on_read (io watcher, started 300.2 ms before the stall ended, ran 300.1 ms)" */
const char *report_callback(const struct rf_callback *cb, char *buf, size_t len);
/* Where a culprit's stalls happened, in a few words. */
const char *report_where(const struct agg_culprit *c, char *buf, size_t len);
/* When a stall began, from the start of the recording: "+1.25 s" */
const char *report_offset(const struct aggregate *agg, const struct rf_stall *s, char *buf,
			  size_t len);
/*
 * What of a stall is worth showing in a listing: the first syscalls, the
 * first one's stack when it explains a good part of the stall, and the
 * busiest CPU stack when CPU time does.
 */
struct report_parts {
	size_t syscalls_shown;
	bool syscall_stack;
	double syscalls_rest_ms;
	const struct rf_cpu_stack *cpu; /* NULL: none worth showing */
	size_t cpu_rest;		/* other CPU stacks */
	uint64_t samples;		/* in all CPU stacks */
};
void report_parts(const struct rf_stall *s, struct report_parts *p);
/* The loop thread's most telling heartbeat numbers over all threads. */
double report_max_p99(const struct aggregate *agg);

/*
 * Read args' FILEs ("-": stdin) as one history, keeping the records filter
 * selects, and aggregate them. Several files: stalls in order of their
 * start. On failure print one line ("loopstall: FILE:LINE: malformed
 * JSON") and return the exit code (2: bad input; 1: nothing matches the
 * filter, or no memory).
 */
struct report_args;
int report_load(const struct report_args *args, const struct rf_filter *filter,
		struct recording **rec, struct aggregate **agg);
/*
 * Every process of a recording, by pid, unless a filter already chose one:
 * how many there are (at most max; 0 or 1: one section).
 */
size_t report_sections(const struct recording *rec, const struct rf_filter *filter, uint32_t *pids,
		       size_t max);

#endif
