// SPDX-License-Identifier: BSD-2-Clause
/* `loopstall doctor FILE`: a verdict and a remedy per culprit, or a clean bill of health. */
#include <stdio.h>
#include "cli.h"
#include "doctor_rules.h"
#include "report.h"
#include "report_args.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: loopstall doctor FILE [--top N] [--width N] [--color auto|always|never]\n"
		"Explains a recording from 'loopstall record' (FILE '-' reads stdin): for each\n"
		"culprit (stalls with the same cause at the same call site), what went wrong,\n"
		"the evidence, and what to do about it in the language the process runs.\n"
		"  -n, --top N        culprits to diagnose (default %d)\n"
		"      --width N      columns (default: the terminal's, $COLUMNS or 100)\n"
		"      --color WHEN   auto (default: on a terminal, unless NO_COLOR is set)\n",
		DOCTOR_DEFAULT_TOP);
}

static void diagnose(const struct aggregate *agg, int top, struct out *o)
{
	const struct recording *rec = agg->rec;
	struct dr_verdict v;
	char line[1024], num[16];
	unsigned idx;
	size_t i;

	if (rec->n_summaries)
		out_line(o, OUT_BOLD "loopstall doctor: %s (pid %u)" OUT_RESET, rec->summary.comm,
			 rec->summary.pid);
	else
		out_line(o, OUT_BOLD "loopstall doctor" OUT_RESET);
	doctor_overview(agg, line, sizeof(line));
	out_wrap(o, agg->stalls ? "" : OUT_GREEN, 0, line);
	for (i = 0; i < agg->n_culprits && (int)i < top; i++) {
		doctor_verdict(agg, &agg->culprits[i], &v);
		out_blank(o);
		snprintf(num, sizeof(num), "%zu. ", i + 1);
		snprintf(line, sizeof(line), "%s%s%s", num, v.title, v.mixed ? " (mixed)" : "");
		out_wrap(o, OUT_BOLD, 3, line);
		out_wrap(o, "   " OUT_DIM "evidence:" OUT_RESET " ", 13, v.evidence);
		out_wrap(o, "   " OUT_GREEN "remedy:" OUT_RESET "   ", 13, v.remedy);
	}
	if (agg->n_culprits > (size_t)top) {
		out_blank(o);
		out_line(o, "%zu more culprit(s) not shown (--top N).", agg->n_culprits - (size_t)top);
	}
	for (idx = 0; doctor_note(agg, idx, line, sizeof(line)); idx++) {
		if (!idx)
			out_blank(o);
		out_wrap(o, OUT_YELLOW "note:" OUT_RESET " ", 6, line);
	}
}

int cmd_doctor(int argc, char **argv)
{
	struct report_args args;
	struct recording *rec = NULL;
	struct aggregate *agg = NULL;
	struct out o;
	char msg[256];
	int ret;

	if (report_args_parse(argc, argv, true, &args, msg, sizeof(msg))) {
		cli_error("doctor: %s (see 'loopstall doctor --help')", msg);
		return 2;
	}
	if (args.help) {
		usage(stdout);
		return 0;
	}
	ret = report_load(args.file, &rec, &agg);
	if (ret)
		return ret;
	out_init(&o, stdout, args.width, args.color);
	diagnose(agg, args.top, &o);
	aggregate__free(agg);
	recording__free(rec);
	if (fflush(stdout)) {
		cli_error("doctor: cannot write the output");
		return 1;
	}
	return 0;
}
