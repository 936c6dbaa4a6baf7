/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_ROTATE_H
#define LOOPSTALL_ROTATE_H

#include <stdint.h>

/*
 * JSON Lines to a size-rotated file: DIR/NAME grows until the next line
 * would take it past max_bytes, then NAME.1 .. NAME.keep shift up by one
 * (the oldest is dropped) and NAME starts empty. A line is never split
 * across files. Functions return 0 or -errno.
 */
struct ls_rotate;

/* Append to DIR/NAME (DIR is created, 0750, when missing). */
int ls_rotate__open(const char *dir, const char *name, uint64_t max_bytes, unsigned keep,
		    struct ls_rotate **out);
/* Write one line and its newline straight to the file (no user-space buffer to flush). */
int ls_rotate__line(struct ls_rotate *r, const char *line);
/*
 * One record under b's line bound (bound.h): the stack records it refers to
 * that the current file lacks, then the record, all in one file; when they
 * do not fit, the file rotates first and the new one gets its stacks again.
 * -E2BIG / -EINVAL: the record cannot be bounded, nothing written (not a
 * write error: r stays usable).
 */
struct ls_bound;
int ls_rotate__bounded(struct ls_rotate *r, struct ls_bound *b, const char *line);
/* The first write error seen, if any. NULL-safe. */
int ls_rotate__close(struct ls_rotate *r);

#endif
