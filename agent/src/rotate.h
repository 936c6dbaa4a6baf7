/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_ROTATE_H
#define LOOPSTALL_ROTATE_H

#include <stdbool.h>
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
 * Whether bytes more fit in the current file (an empty file takes anything).
 * A caller that must keep several lines together (a record and the stack
 * records it refers to) checks first, then calls ls_rotate__next_file.
 */
bool ls_rotate__fits(const struct ls_rotate *r, uint64_t bytes);
/* Rotate now, unless the current file is empty. */
int ls_rotate__next_file(struct ls_rotate *r);
/* The first write error seen, if any. NULL-safe. */
int ls_rotate__close(struct ls_rotate *r);

#endif
