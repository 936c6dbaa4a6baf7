/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_STATUS_LINE_H
#define LOOPSTALL_STATUS_LINE_H

#include <stdint.h>
#include <stdio.h>

/*
 * `record`'s live status on a terminal: one line (elapsed, stalls so far,
 * events lost) rewritten in place with \r about every 250 ms, and cleared
 * at the end. status_line__new() returns NULL when f is not a terminal:
 * the other calls then do nothing, so callers need no checks.
 */
#define STATUS_LINE_PERIOD_NS 250000000ull

struct status_line;

struct status_line *status_line__new(FILE *f, uint64_t start_ns);
/* Redraw if a period has passed since the last redraw. */
void status_line__update(struct status_line *sl, uint64_t now_ns, uint64_t stalls, uint64_t lost);
/* Clear the line; NULL-safe. */
void status_line__free(struct status_line *sl);
/* The text of the line, without \r or escapes. Pure, for tests. */
void status_line_format(char *buf, size_t len, uint64_t elapsed_ns, uint64_t stalls, uint64_t lost);

#endif
