/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_REPORT_H
#define LOOPSTALL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "aggregate.h"

/*
 * The command side of `loopstall report` and `loopstall doctor`: the
 * recordings they were given, loaded (report_load.c). What they print is
 * report_render.h (report) and doctor_rules.h (doctor); the words both
 * use, report_describe.h.
 */

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
 * How `report` and `doctor` (cmd) begin: argv parsed (doctor: with the
 * doctor's options), --help answered with usage, the filter made as of
 * now, the recordings loaded. Returns true to go on with args, filter,
 * *rec and *agg set; false when the command is done, with *status its exit
 * code (errors said on stderr).
 */
bool report_start(const char *cmd, int argc, char **argv, bool doctor, void (*usage)(FILE *f),
		  struct report_args *args, struct rf_filter *filter, struct recording **rec,
		  struct aggregate **agg, int *status);
/*
 * Every process of a recording, by pid, unless a filter already chose one:
 * how many there are (at most max; 0 or 1: one section).
 */
size_t report_sections(const struct recording *rec, const struct rf_filter *filter, uint32_t *pids,
		       size_t max);

#endif
