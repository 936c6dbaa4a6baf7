/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_REPORT_DESCRIBE_H
#define LOOPSTALL_REPORT_DESCRIBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "aggregate.h"

/* Words shared by the renderers (and doctor): report_describe.c. */
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

#endif
