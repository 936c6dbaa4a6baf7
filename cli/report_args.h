/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_REPORT_ARGS_H
#define LOOPSTALL_REPORT_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "recfile.h"
#include "report_out.h"

enum report_format {
	REPORT_TEXT,
	REPORT_JSON,
	REPORT_FOLDED,
	REPORT_MARKDOWN,
};

#define REPORT_DEFAULT_TOP 5
#define DOCTOR_DEFAULT_TOP 10

struct report_args {
	const char *file; /* the first of files; "-": stdin (then the only one) */
	char **files;	  /* read as one history: rotated sets, several recordings */
	size_t n_files;
	const char *since; /* as given: see report_filter.h */
	const char *until;
	uint32_t pid;	    /* 0: every process */
	const char *target; /* NULL: every target */
	enum report_format format;
	int top;
	int width; /* 0: the terminal's, $COLUMNS or 100 */
	enum out_color color;
	bool help;
};

/*
 * Parse `loopstall report` (argv[0] "report") or, with doctor, `loopstall
 * doctor` arguments, which take no --format. On error returns -EINVAL with
 * one line (no newline) in err. Pure: no I/O.
 */
int report_args_parse(int argc, char **argv, bool doctor, struct report_args *args, char *err,
		      size_t err_len);
/*
 * The records the arguments select, --since and --until taken against
 * now_unix_ns. -EINVAL with one line in err when a time does not parse or
 * the window is empty.
 */
int report_args_filter(const struct report_args *args, int64_t now_unix_ns,
		       struct rf_filter *filter, char *err, size_t err_len);

#endif
