// SPDX-License-Identifier: BSD-2-Clause
/* `loopstall report FILE`: what a recording says, for a person or a script. */
#include <stdio.h>
#include "cli.h"
#include "report.h"
#include "report_args.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: loopstall report FILE [--format text|json|folded|markdown] [--top N]\n"
		"                        [--width N] [--color auto|always|never]\n"
		"Summarizes a recording from 'loopstall record' (FILE '-' reads stdin):\n"
		"time recorded, loop threads and their heartbeat gaps, stalls by cause and\n"
		"duration, the top culprits by call site and the worst stalls with their stacks.\n"
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

int cmd_report(int argc, char **argv)
{
	struct report_args args;
	struct recording *rec = NULL;
	struct aggregate *agg = NULL;
	struct out o;
	char msg[256];
	int ret;

	if (report_args_parse(argc, argv, false, &args, msg, sizeof(msg))) {
		cli_error("report: %s (see 'loopstall report --help')", msg);
		return 2;
	}
	if (args.help) {
		usage(stdout);
		return 0;
	}
	ret = report_load(args.file, &rec, &agg);
	if (ret)
		return ret;
	switch (args.format) {
	case REPORT_JSON:
		ret = report_json(agg, args.top, stdout) ? 1 : 0;
		break;
	case REPORT_FOLDED:
		report_folded(agg, stdout);
		break;
	case REPORT_MARKDOWN:
		report_markdown(agg, args.top, stdout);
		break;
	default:
		out_init(&o, stdout, args.width, args.color);
		report_text(agg, args.top, &o);
		break;
	}
	aggregate__free(agg);
	recording__free(rec);
	if (fflush(stdout) && !ret) {
		cli_error("report: cannot write the output");
		ret = 1;
	}
	return ret;
}
