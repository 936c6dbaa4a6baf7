// SPDX-License-Identifier: BSD-2-Clause
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "report_out.h"

#define LINE_MAX_BYTES 8192

static int clamp_width(long w)
{
	if (w < OUT_MIN_WIDTH)
		return OUT_MIN_WIDTH;
	return w > OUT_MAX_WIDTH ? OUT_MAX_WIDTH : (int)w;
}

void out_init(struct out *o, FILE *f, int width, enum out_color color)
{
	struct winsize ws;
	bool tty = isatty(fileno(f));
	const char *cols = getenv("COLUMNS");

	o->f = f;
	if (width > 0)
		o->width = clamp_width(width);
	else if (tty && !ioctl(fileno(f), TIOCGWINSZ, &ws) && ws.ws_col)
		o->width = clamp_width(ws.ws_col);
	else if (cols && atol(cols) > 0)
		o->width = clamp_width(atol(cols));
	else
		o->width = OUT_DEFAULT_WIDTH;
	if (color == OUT_COLOR_AUTO)
		o->color = tty && !getenv("NO_COLOR");
	else
		o->color = color == OUT_COLOR_ALWAYS;
}

int out_parse_color(const char *text)
{
	if (!strcmp(text, "auto"))
		return OUT_COLOR_AUTO;
	if (!strcmp(text, "always"))
		return OUT_COLOR_ALWAYS;
	if (!strcmp(text, "never"))
		return OUT_COLOR_NEVER;
	return -1;
}

static const char *sgr(char marker)
{
	switch (marker) {
	case 'b':
		return "\033[1m";
	case 'd':
		return "\033[2m";
	case 'r':
		return "\033[31m";
	case 'y':
		return "\033[33m";
	case 'g':
		return "\033[32m";
	case 'c':
		return "\033[36m";
	case 'm':
		return "\033[35m";
	case 'z':
		return "\033[0m";
	default:
		return NULL;
	}
}

static bool is_marker(const char *s)
{
	return s[0] == '\001' && s[1] && sgr(s[1]);
}

/* A UTF-8 continuation byte takes no column of its own. */
static bool continuation(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

size_t out_visible(const char *s)
{
	size_t n = 0;

	while (*s) {
		if (is_marker(s)) {
			s += 2;
			continue;
		}
		if (!continuation((unsigned char)*s))
			n++;
		s++;
	}
	return n;
}

/*
 * Write up to `cols` visible columns of s; control bytes in the data become
 * '?', so a recorded name cannot drive the terminal.
 */
static void emit(struct out *o, const char *s, size_t cols, bool *colored)
{
	size_t n = 0;

	while (*s) {
		if (is_marker(s)) {
			if (o->color) {
				fputs(sgr(s[1]), o->f);
				*colored = s[1] != 'z';
			}
			s += 2;
			continue;
		}
		if (!continuation((unsigned char)*s)) {
			if (n == cols)
				break;
			n++;
		}
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, o->f);
		s++;
	}
}

static void put_line(struct out *o, const char *text)
{
	size_t vis = out_visible(text);
	bool colored = false;

	if (vis <= (size_t)o->width) {
		emit(o, text, vis, &colored);
	} else {
		emit(o, text, (size_t)o->width - 3, &colored);
		fputs("...", o->f);
	}
	if (colored)
		fputs(sgr('z'), o->f);
	fputc('\n', o->f);
}

void out_line(struct out *o, const char *fmt, ...)
{
	char buf[LINE_MAX_BYTES];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put_line(o, buf);
}

void out_blank(struct out *o)
{
	fputc('\n', o->f);
}

void out_wrap(struct out *o, const char *lead, int indent, const char *text)
{
	char line[LINE_MAX_BYTES], word[LINE_MAX_BYTES];
	size_t len, bare, n, take;
	size_t used, cols;
	const char *p = text;

	snprintf(line, sizeof(line), "%s", lead);
	len = bare = strlen(line);
	used = out_visible(line);
	for (;;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		n = strcspn(p, " ");
		take = n < sizeof(word) ? n : sizeof(word) - 1;
		memcpy(word, p, take);
		word[take] = '\0';
		p += n;
		cols = out_visible(word);
		/* the word goes to the next line, unless it is the first of this one */
		if (len > bare &&
		    (used + 1 + cols > (size_t)o->width || len + 1 + take >= sizeof(line))) {
			put_line(o, line);
			snprintf(line, sizeof(line), "%*s", indent, "");
			len = bare = strlen(line);
			used = len;
		}
		if (len + 1 + take >= sizeof(line))
			continue;
		if (len > bare) {
			line[len++] = ' ';
			used++;
		}
		memcpy(line + len, word, take + 1);
		len += take;
		used += cols;
	}
	put_line(o, line);
}

const char *out_ms(double ms, char *buf, size_t len)
{
	if (ms < 1.0)
		snprintf(buf, len, "%.2f ms", ms);
	else if (ms < 1000.0)
		snprintf(buf, len, "%.1f ms", ms);
	else
		snprintf(buf, len, "%.2f s", ms / 1000.0);
	return buf;
}

const char *out_secs(double ms, char *buf, size_t len)
{
	snprintf(buf, len, ms < 10000.0 ? "%.2f s" : "%.1f s", ms / 1000.0);
	return buf;
}

const char *out_edge(double ms, char *buf, size_t len)
{
	if (ms < 1.0)
		snprintf(buf, len, "%g us", ms * 1000.0);
	else if (ms < 1000.0)
		snprintf(buf, len, "%g ms", ms);
	else
		snprintf(buf, len, "%g s", ms / 1000.0);
	return buf;
}

const char *out_utc(long long unix_ns, char *buf, size_t len)
{
	time_t t = (time_t)(unix_ns / 1000000000LL);
	struct tm tm;

	if (unix_ns <= 0 || !gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, len, "an unknown time");
	return buf;
}
