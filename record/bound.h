/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_BOUND_H
#define LOOPSTALL_BOUND_H

#include <stddef.h>
#include <stdint.h>

/*
 * Records with a bounded line length, for log shippers (Fluent Bit's tail
 * input stops following a file at a line over its 32 KiB buffer). Each
 * distinct stack of a stall goes out once per output file as its own
 * record, {"type":"stack","id":ID,"frames":[...]}, and the stall keeps an
 * empty "stack" with "stack_ref":ID beside it. ID is a hash of the frames'
 * text, so a stack has the same id in every file and every run. A record
 * still over the bound is cut in the order docs/records.md gives, with
 * counts of what was cut; a line is never cut in the middle of its JSON.
 */

/* The smallest bound: a stall with its arrays emptied and long strings cut fits in it. */
#define LS_BOUND_MIN 1024
#define LS_BOUND_DEFAULT (16 * 1024)

struct ls_bound;

/* Lines to write together, in order, each without its newline. */
struct ls_lines {
	char **line;
	size_t n, cap;
	size_t bytes; /* their total length, newlines counted */
};

/* max_line counts the newline; at least LS_BOUND_MIN. Returns 0 or -errno. */
int ls_bound__new(size_t max_line, struct ls_bound **out);
void ls_bound__free(struct ls_bound *b);
/*
 * Append to out what to write for line (one record, no newline): the stack
 * records this file has not had yet, then the record, every one at most
 * max_line - 1 bytes. Returns 0, -EINVAL (not a JSON object), -E2BIG
 * (cannot be cut small enough: nothing appended) or -ENOMEM.
 */
int ls_bound__split(struct ls_bound *b, const char *line, struct ls_lines *out);
/* A new output file begins: its records need their stacks written again. */
void ls_bound__forget(struct ls_bound *b);
/* The bound given to ls_bound__new. */
size_t ls_bound__max_line(const struct ls_bound *b);

void ls_lines__clear(struct ls_lines *l);

#endif
