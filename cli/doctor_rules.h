/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_DOCTOR_RULES_H
#define LOOPSTALL_DOCTOR_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include "aggregate.h"
#include "syscall_class.h"

/*
 * `loopstall doctor`'s knowledge: what kind of mistake a culprit is (the
 * kinds of wait of syscall_class.h, which the agent's advice speaks of too),
 * and what to do about it in the language the process runs. Pure: text in
 * buffers, no I/O.
 */

struct dr_verdict {
	enum ls_wait kind;
	bool mixed; /* no part held a majority: kind names the largest */
	char title[160];
	char evidence[1024];
	char remedy[1024];
};

/* The kind of mistake; *mixed tells when it is only the largest part. */
enum ls_wait doctor_kind(const struct agg_culprit *c, bool *mixed);
void doctor_verdict(const struct aggregate *agg, const struct agg_culprit *c, struct dr_verdict *v);
/*
 * The run in one sentence: how many stalls in how long, with the heartbeat
 * p99; when nothing is wrong it says so ("no stall over 50 ms in 12.3 s; ...").
 */
void doctor_overview(const struct aggregate *agg, char *buf, size_t len);
/*
 * Things worth knowing beside the culprits (events lost, a loop close to
 * saturation, stalls cut short), one per call: idx from 0 until it returns false.
 */
bool doctor_note(const struct aggregate *agg, unsigned idx, char *buf, size_t len);

#endif
