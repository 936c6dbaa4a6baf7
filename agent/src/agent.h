/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_AGENT_H
#define LOOPSTALL_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "stall.h"
#include "summary.h"

/*
 * The agent: loads loop_tracker.bpf.c, follows the loop threads of the
 * processes it is given and reports their stalls through callbacks. Used by
 * `loopstall record` and by loopstalld. Functions return 0 or -errno.
 */
struct ls_agent;

struct ls_agent_opts {
	uint64_t threshold_ns; /* a busy period this long is a stall */
	bool verbose;	       /* let libbpf print its own messages */
};

struct ls_agent_ops {
	/* A stall ended (or was cut short). A negative return stops the poll. */
	int (*stall)(void *ctx, const struct ls_stall *s);
	/* A stall is in progress: sent once per stall, soon after it crosses the threshold. */
	int (*stall_begin)(void *ctx, uint32_t pid, uint32_t tid, const char *comm,
			   uint64_t start_ns, uint64_t elapsed_ns, uint64_t threshold_ns);
};

int ls_agent__new(const struct ls_agent_opts *opts, const struct ls_agent_ops *ops, void *ctx,
		  struct ls_agent **out);
/*
 * Trace process pid (only thread only_tid when non-zero); follow_forks adds
 * its children. name is what the summary calls it (NULL: its comm now).
 */
int ls_agent__add_target(struct ls_agent *a, pid_t pid, pid_t only_tid, bool follow_forks,
			 const char *name);
/* Handle what the kernel sent and look for stalls in progress; waits up to timeout_ms. */
int ls_agent__poll(struct ls_agent *a, int timeout_ms);
/* How many traced processes are still running. */
unsigned ls_agent__alive(struct ls_agent *a);
/*
 * End of recording: handle what is left, report stalls still in progress as
 * cut short, and fill the run summary (owned by the agent).
 */
int ls_agent__finish(struct ls_agent *a, const struct ls_run_summary **sum);
void ls_agent__free(struct ls_agent *a);

#endif
