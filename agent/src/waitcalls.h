/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_WAITCALLS_H
#define LOOPSTALL_WAITCALLS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "waitplan.h"

/*
 * The wait calls' exit tracepoints, hooked only while some target loop
 * waits in them (the policy is waitplan.h's). The agent tells it where its
 * targets' threads are (scan), when the targets changed (forget, learn) and
 * applies the plan (apply) as it polls.
 */
struct ls_waitcalls;
struct bpf_program;

/*
 * prog: the program to run at the exit of each wait call hooked (the
 * agent's exit_wait, or the benchmarks' empty one); seen: BPF's waits_seen.
 */
struct ls_waitcalls *ls_waitcalls__new(struct bpf_program *prog, volatile uint32_t *seen, bool all);
/* Attach prog to the exit tracepoint of wait call i (enum lt_wait). NULL and errno on failure. */
struct bpf_link *ls_waitcalls_attach(struct bpf_program *prog, int i);
/*
 * Read where thread tid of pid is now: a call it waits in is kept hooked.
 * Returns true when its call could not be read (it was running).
 */
bool ls_waitcalls__scan(struct ls_waitcalls *w, pid_t pid, uint32_t tid);
/* Is thread tid of pid blocked in a loop's wait call now (an idle loop, likely)? */
bool ls_waitcalls_waiting(pid_t pid, uint32_t tid);
/*
 * A target went: what was seen may be its calls alone. What is hooked stays
 * so for a learning window while the remaining loops show theirs (scan the
 * remaining targets after this).
 */
void ls_waitcalls__forget(struct ls_waitcalls *w, uint64_t now_ns);
/* Hook every call for a while (a thread whose call is unknown may use any). */
void ls_waitcalls__learn(struct ls_waitcalls *w, uint64_t now_ns);
/*
 * Hook and unhook to match the plan; with no target (idle), unhook every
 * call. 0 or the first attach error (-errno).
 */
int ls_waitcalls__apply(struct ls_waitcalls *w, uint64_t now_ns, bool idle);
/* Every call hooked (true) or only those in use, from the next apply. */
void ls_waitcalls__set_all(struct ls_waitcalls *w, bool all);
/* The calls hooked now (1 << enum lt_wait). */
uint32_t ls_waitcalls__hooked(const struct ls_waitcalls *w);
void ls_waitcalls__free(struct ls_waitcalls *w);

#endif
