/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_DOCTOR_RULES_H
#define LOOPSTALL_DOCTOR_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include "aggregate.h"

/*
 * `loopstall doctor`'s knowledge: what kind of mistake a culprit is, and
 * what to do about it in the language the process runs. Pure: text in
 * buffers, no I/O.
 */
enum dr_kind {
	DR_SLEEP,      /* an explicit sleep on the loop thread */
	DR_SOCKET,     /* blocking socket I/O */
	DR_DNS,	       /* a synchronous name lookup */
	DR_FILE,       /* regular-file I/O */
	DR_PIPE,       /* blocking pipe I/O */
	DR_CHILD,      /* waiting for a child process */
	DR_SYSCALL,    /* another blocking syscall */
	DR_CPU,	       /* computing without yielding */
	DR_LOCK,       /* waiting for a lock another thread holds */
	DR_PREEMPTED,  /* runnable, but no CPU */
	DR_PAGE_FAULT, /* major page faults */
	DR_UNKNOWN,
};

struct dr_verdict {
	enum dr_kind kind;
	bool mixed; /* no part held a majority: kind names the largest */
	char title[160];
	char evidence[1024];
	char remedy[1024];
};

/* The kind of mistake; *mixed tells when it is only the largest part. */
enum dr_kind doctor_kind(const struct agg_culprit *c, bool *mixed);
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
