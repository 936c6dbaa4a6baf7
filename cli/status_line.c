// SPDX-License-Identifier: BSD-2-Clause
#include <stdlib.h>
#include <unistd.h>
#include "status_line.h"

struct status_line {
	FILE *f;
	uint64_t start_ns;
	uint64_t drawn_ns;
	int drawn; /* something is on the line */
};

void status_line_format(char *buf, size_t len, uint64_t elapsed_ns, uint64_t stalls, uint64_t lost)
{
	snprintf(buf, len, "recording %.1f s, %llu stall%s, %llu event%s lost",
		 (double)elapsed_ns / 1e9, (unsigned long long)stalls, stalls == 1 ? "" : "s",
		 (unsigned long long)lost, lost == 1 ? "" : "s");
}

struct status_line *status_line__new(FILE *f, uint64_t start_ns)
{
	struct status_line *sl;

	if (!isatty(fileno(f)))
		return NULL;
	sl = calloc(1, sizeof(*sl));
	if (!sl)
		return NULL;
	sl->f = f;
	sl->start_ns = start_ns;
	return sl;
}

void status_line__update(struct status_line *sl, uint64_t now_ns, uint64_t stalls, uint64_t lost)
{
	char text[128];

	if (!sl || (sl->drawn && now_ns < sl->drawn_ns + STATUS_LINE_PERIOD_NS))
		return;
	status_line_format(text, sizeof(text), now_ns > sl->start_ns ? now_ns - sl->start_ns : 0,
			   stalls, lost);
	/* \033[K: what a longer line, or the traced command, left behind */
	fprintf(sl->f, "\r\033[Kloopstall: %s", text);
	fflush(sl->f);
	sl->drawn = 1;
	sl->drawn_ns = now_ns;
}

void status_line__free(struct status_line *sl)
{
	if (!sl)
		return;
	if (sl->drawn) {
		fputs("\r\033[K", sl->f);
		fflush(sl->f);
	}
	free(sl);
}
