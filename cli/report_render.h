/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_REPORT_RENDER_H
#define LOOPSTALL_REPORT_RENDER_H

#include <stdio.h>
#include "aggregate.h"
#include "report_out.h"

/*
 * `loopstall report`: one aggregate, four renderers. Each shows at most
 * `top` culprits and `top` of the worst stalls. Pure: they only write to
 * the stream they are given.
 */
void report_text(const struct aggregate *agg, int top, struct out *o);
void report_markdown(const struct aggregate *agg, int top, FILE *f);
int report_json(const struct aggregate *agg, int top, FILE *f);
/*
 * Folded stacks for flamegraph.pl: "comm;outermost;...;innermost MS", one
 * line per distinct stack, weighted in whole milliseconds of stall time.
 */
void report_folded(const struct aggregate *agg, FILE *f);

#endif
