/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_REPORT_OUT_H
#define LOOPSTALL_REPORT_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Text for a person: lines cut to the terminal width, paragraphs wrapped,
 * colour only when asked for. Colour is written as markers (below) inside
 * the text, so that cutting and wrapping count only what is visible.
 */
#define OUT_BOLD "\001b"
#define OUT_DIM "\001d"
#define OUT_RED "\001r"
#define OUT_YELLOW "\001y"
#define OUT_GREEN "\001g"
#define OUT_CYAN "\001c"
#define OUT_MAGENTA "\001m"
#define OUT_RESET "\001z"

#define OUT_DEFAULT_WIDTH 100
#define OUT_MIN_WIDTH 40
#define OUT_MAX_WIDTH 1000

enum out_color {
	OUT_COLOR_AUTO,
	OUT_COLOR_ALWAYS,
	OUT_COLOR_NEVER,
};

struct out {
	FILE *f;
	int width;
	bool color;
};

/*
 * Settle width and colour for f: an explicit width (> 0) wins, then the
 * terminal's (TIOCGWINSZ), then $COLUMNS, then OUT_DEFAULT_WIDTH. Colour in
 * auto mode: only on a terminal, and never with $NO_COLOR set.
 */
void out_init(struct out *o, FILE *f, int width, enum out_color color);
/* Parse "auto", "always", "never"; -1 otherwise. */
int out_parse_color(const char *text);

/* One line: printf-style, markers allowed, cut to the width with "...". */
void out_line(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * A paragraph wrapped at the width: the first line starts with `lead`
 * (markers allowed), the others are indented by `indent` spaces.
 */
void out_wrap(struct out *o, const char *lead, int indent, const char *text);
void out_blank(struct out *o);

/* "0.42 ms", "12.3 ms", "1.25 s" */
const char *out_ms(double ms, char *buf, size_t len);
/* A span of time in seconds: "0.72 s", "12.3 s" */
const char *out_secs(double ms, char *buf, size_t len);
/* A histogram edge: "500 us", "200 ms", "2 s" */
const char *out_edge(double ms, char *buf, size_t len);
/* "2026-11-26 12:30:08 UTC" */
const char *out_utc(long long unix_ns, char *buf, size_t len);
/* Visible columns of UTF-8 text with markers. */
size_t out_visible(const char *s);

#endif
