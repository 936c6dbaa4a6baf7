// SPDX-License-Identifier: BSD-2-Clause
/* `loopstall report FILE`: what a recording says, for a person or a script. */
#include <stdio.h>
#include "cli.h"
#include "commands.h"
#include "report.h"
#include "report_render.h"
#include "report_args.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: loopstall report FILE... [--format text|json|folded|markdown] [--top N]\n"
	    "                        [--since WHEN] [--until WHEN] [--pid PID] [--target NAME]\n"
	    "                        [--width N] [--color auto|always|never]\n"
	    "Summarizes a recording from 'loopstall record' (FILE '-' reads stdin):\n"
	    "time recorded, loop threads and their heartbeat gaps, stalls by cause and\n"
	    "duration, the top culprits by call site and the worst stalls with their stacks.\n"
	    "Several FILEs (a rotated set: stalls.jsonl*) read as one history; a history of\n"
	    "several processes gets a section per process (json: an array of reports).\n"
	    "      --since WHEN   stalls that began at or after WHEN: a duration ago (5m,\n"
	    "                     2h, 1d), an RFC 3339 time (2026-12-07T18:20:00Z) or a\n"
	    "                     unix time (s, or ms/us/ns by size)\n"
	    "      --until WHEN   ... and before WHEN; the time recorded is cut to the window\n"
	    "                     (heartbeat percentiles stay the whole recording's)\n"
	    "  -p, --pid PID      that process only\n"
	    "      --target NAME  records whose target (loopstalld) or comm is NAME\n"
	    "  -f, --format FMT   text (default), json (the aggregate as one object),\n"
	    "                     folded (for flamegraph.pl), markdown (for tickets)\n"
	    "  -n, --top N        culprits and worst stalls to show (default %d)\n"
	    "      --width N      columns of text (default: the terminal's, $COLUMNS or 100)\n"
	    "      --color WHEN   auto (default: on a terminal, unless NO_COLOR is set)\n"
	    "folded: 'comm;outermost;...;innermost MS' lines, weighted in milliseconds of\n"
	    "stall time: a CPU stack gets its share (by samples) of the stall's on-CPU time,\n"
	    "a syscall's stack its blocked time; time without a stack shows as [on-CPU],\n"
	    "[SYSCALL], [run queue] or [page fault]. flamegraph.pl --countname=ms reads it.\n",
	    REPORT_DEFAULT_TOP);
}

static int render(const struct report_args *args, const struct aggregate *agg)
{
	struct out o;

	switch (args->format) {
	case REPORT_JSON:
		return report_json(agg, args->top, stdout) ? 1 : 0;
	case REPORT_FOLDED:
		report_folded(agg, stdout);
		return 0;
	case REPORT_MARKDOWN:
		report_markdown(agg, args->top, stdout);
		return 0;
	default:
		out_init(&o, stdout, args->width, args->color);
		report_text(agg, args->top, &o);
		return 0;
	}
}

/* One report per process, in pid order: a text, markdown or json array of sections. */
static int render_sections(const struct report_args *args, const struct rf_filter *filter,
			   const uint32_t *pids, size_t n)
{
	struct rf_filter one = *filter;
	struct recording *rec;
	struct aggregate *agg;
	size_t i;
	int ret = 0;

	if (args->format == REPORT_JSON)
		fputs("[\n", stdout);
	for (i = 0; i < n && !ret; i++) {
		one.pid = pids[i];
		ret = report_load(args, &one, &rec, &agg);
		if (ret)
			break;
		if (i)
			fputs(args->format == REPORT_JSON ? ",\n" : "\n", stdout);
		ret = render(args, agg);
		aggregate__free(agg);
		recording__free(rec);
	}
	if (args->format == REPORT_JSON && !ret)
		fputs("]\n", stdout);
	return ret;
}

int cmd_report(int argc, char **argv)
{
	struct report_args args;
	struct recording *rec = NULL;
	struct aggregate *agg = NULL;
	struct rf_filter filter;
	uint32_t pids[1024];
	size_t n;
	int ret;

	if (!report_start("report", argc, argv, false, usage, &args, &filter, &rec, &agg, &ret))
		return ret;
	/* folded stacks start with the comm: one flame graph holds every process */
	n = report_sections(rec, &filter, pids, sizeof(pids) / sizeof(pids[0]));
	if (n > 1 && args.format != REPORT_FOLDED)
		ret = render_sections(&args, &filter, pids, n);
	else
		ret = render(&args, agg);
	aggregate__free(agg);
	recording__free(rec);
	if (fflush(stdout) && !ret) {
		cli_error("report: cannot write the output");
		ret = 1;
	}
	return ret;
}
