// SPDX-License-Identifier: BSD-2-Clause
/*
 * The JSON Lines reader of `loopstall report` and `doctor` (recfile.c):
 * people hand it files, from other machines and other versions. Read the
 * input as a whole file, then aggregate it and render every report format
 * and the doctor's verdicts into /dev/null: all of it must hold up.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aggregate.h"
#include "doctor_rules.h"
#include "recfile.h"
#include "report_render.h"
#include "report_out.h"

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	devnull = fopen("/dev/null", "w");
	return 0;
}

static void render(const struct recording *rec)
{
	struct aggregate *agg = NULL;
	struct dr_verdict v;
	struct out o;
	char line[1024];
	size_t i;
	unsigned idx;

	if (aggregate__new(rec, &agg) || !agg)
		return;
	out_init(&o, devnull, 80, OUT_COLOR_ALWAYS);
	report_text(agg, 5, &o);
	report_markdown(agg, 5, devnull);
	report_json(agg, 5, devnull);
	report_folded(agg, devnull);
	doctor_overview(agg, line, sizeof(line));
	for (i = 0; i < agg->n_culprits; i++)
		doctor_verdict(agg, &agg->culprits[i], &v);
	for (idx = 0; idx < 64 && doctor_note(agg, idx, line, sizeof(line)); idx++)
		;
	aggregate__free(agg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recording *rec = NULL;
	struct rf_error err;
	FILE *f;

	if (!devnull)
		LLVMFuzzerInitialize(NULL, NULL);
	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	if (!recording__read(f, &rec, &err) && rec) {
		(void)recording__recorded_ms(rec);
		(void)recording__threshold_ms(rec);
		render(rec);
		recording__free(rec);
	} else if (strnlen(err.msg, sizeof(err.msg)) == sizeof(err.msg)) {
		abort();
	}
	fclose(f);
	return 0;
}
