// SPDX-License-Identifier: BSD-2-Clause
/* `loopstall doctor FILE`: a verdict and a remedy per culprit, or a clean bill of health. */
#include <stdio.h>
#include "cli.h"
#include "commands.h"
#include "doctor_rules.h"
#include "report.h"
#include "report_args.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: loopstall doctor FILE... [--top N] [--since WHEN] [--until WHEN]\n"
		"                        [--pid PID] [--target NAME] [--width N]\n"
		"                        [--color auto|always|never]\n"
		"Explains a recording from 'loopstall record' (FILE '-' reads stdin): for each\n"
		"culprit (stalls with the same cause at the same call site), what went wrong,\n"
		"the evidence, and what to do about it in the language the process runs.\n"
		"Several FILEs (a rotated set: stalls.jsonl*) read as one history, a section\n"
		"per process. --since/--until WHEN: a duration ago (5m, 2h), an RFC 3339 time\n"
		"or a unix time; --pid PID, --target NAME: one process or target only.\n"
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
		out_line(o, "%zu more culprit(s) not shown (--top N).",
			 agg->n_culprits - (size_t)top);
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
	struct rf_filter filter, one;
	uint32_t pids[1024];
	struct out o;
	size_t n, i;
	int ret;

	if (!report_start("doctor", argc, argv, true, usage, &args, &filter, &rec, &agg, &ret))
		return ret;
	out_init(&o, stdout, args.width, args.color);
	n = report_sections(rec, &filter, pids, sizeof(pids) / sizeof(pids[0]));
	if (n <= 1)
		diagnose(agg, args.top, &o);
	aggregate__free(agg);
	recording__free(rec);
	/* a verdict per process: one process's culprits are not another's */
	for (i = 0; n > 1 && i < n && !ret; i++) {
		one = filter;
		one.pid = pids[i];
		ret = report_load(&args, &one, &rec, &agg);
		if (ret)
			break;
		if (i)
			out_blank(&o);
		diagnose(agg, args.top, &o);
		aggregate__free(agg);
		recording__free(rec);
	}
	if (fflush(stdout) && !ret) {
		cli_error("doctor: cannot write the output");
		return 1;
	}
	return ret;
}
