/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * loopstalld's parts: the totals behind /metrics (loopstalld_stats.c), the
 * HTTP endpoint (loopstalld_http.c), the /proc scan that finds processes to
 * attach (loopstalld_scan.c) and the capability drop (loopstalld_caps.c).
 * loopstalld.c ties them to the agent.
 */
#ifndef LOOPSTALLD_H
#define LOOPSTALLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "cgroup.h"
#include "config.h"
#include "metrics.h"
#include "stall.h"
#include "thread_stats.h"

/*
 * Per-target totals that only go up. BPF counts per loop thread, and a
 * thread's counters vanish with it (or with its process, or when loopstalld
 * detaches); these totals carry what vanished so the `target` series stay
 * monotonic across thread and process exits and restarts under one name.
 */
struct lsd_stats;

/* What the agent says about itself. */
struct lsd_self {
	const char *version;
	unsigned targets;
	uint64_t lost_events;
	uint64_t bpf_run_ns;
	uint64_t bpf_runs;
};

/*
 * A series: the configured name and where the process runs (NULL or "":
 * none). Bounded: only attached targets make series, and past
 * LSD_SERIES_MAX a new one drops its container_id and pod_uid.
 */
struct lsd_key {
	const char *target;
	const char *container_id;
	const char *pod_uid;
};

#define LSD_SERIES_MAX 1024

int lsd_stats__new(struct lsd_stats **out);
void lsd_stats__free(struct lsd_stats *s);
/* Create key's series (at zero), so they exist from attach on. */
int lsd_stats__target(struct lsd_stats *s, const struct lsd_key *key);
/* A stall of a process whose series is key. */
int lsd_stats__stall(struct lsd_stats *s, const struct lsd_key *key, const struct ls_stall *st);
/*
 * A snapshot of the live loop threads: begin, one lsd_stats__thread() per
 * thread (threshold_ns: its target's), end. Threads missing from the
 * snapshot are retired with the counters last seen.
 */
void lsd_stats__begin(struct lsd_stats *s, uint64_t now_ns);
int lsd_stats__thread(struct lsd_stats *s, const struct lsd_key *key,
		      const struct ls_thread_stats *t, uint64_t threshold_ns);
int lsd_stats__end(struct lsd_stats *s);
/* A loop thread's final counters (the agent's thread_exit). */
int lsd_stats__thread_exit(struct lsd_stats *s, const struct lsd_key *key,
			   const struct ls_thread_stats *t);
/* Every loopstall_* family (docs/architecture.md, Outputs), self-metrics too, into m. */
int lsd_stats__export(const struct lsd_stats *s, const struct lsd_self *self,
		      struct ls_metrics *m);

/*
 * /metrics over HTTP from its own thread. The event thread publishes each
 * new exposition; a scrape copies the latest under a mutex, so it never
 * waits for event processing.
 */
struct lsd_http;

int lsd_http__start(const struct sockaddr *addr, socklen_t addr_len, struct lsd_http **out);
/* Takes ownership of text (malloc'd). */
void lsd_http__publish(struct lsd_http *h, char *text, size_t len);
/* The port bound (useful when asked for port 0). */
unsigned lsd_http__port(const struct lsd_http *h);
void lsd_http__stop(struct lsd_http *h);

/* One process in /proc, as matching sees it. */
struct lsd_proc {
	pid_t pid;
	char comm[16];
	char exe[256]; /* basename of /proc/PID/exe; empty when unread or unreadable */
	bool exe_read;
	bool kthread; /* no executable at all (a hint: lsd_proc_traceable() decides) */
	const struct ls_cgroup *cg; /* where it runs, when the matching needs it; else NULL */
};

/*
 * Call fn for every process under proc_root ("/proc") except skip_pid.
 * Reads the executable only when comm alone did not decide (need_exe
 * returns true), as that costs a readlink per process per scan; and then
 * its cgroup too (p->cg) when want_cgroup, one more small read.
 */
int lsd_scan(const char *proc_root, pid_t skip_pid,
	     bool (*need_exe)(void *ctx, const struct lsd_proc *p), bool want_cgroup,
	     int (*fn)(void *ctx, const struct lsd_proc *p), void *ctx);
/* Everything about one process (-ESRCH when it is gone). */
int lsd_proc_read(const char *proc_root, pid_t pid, struct lsd_proc *p);
/* The comm of pid ("" when gone). */
void lsd_proc_comm(const char *proc_root, pid_t pid, char comm[16]);
/*
 * Whether pid can be attached: 0; -ESRCH when it is gone or a zombie waiting
 * for its parent; -EPERM for a kernel thread (PF_KTHREAD: no user space).
 */
int lsd_proc_traceable(const char *proc_root, pid_t pid);

/*
 * Keep only the capabilities loopstalld needs once its BPF programs are
 * loaded (see loopstalld_caps.c); describe says which, for the log.
 */
int lsd_drop_caps(char *describe, size_t len);

#endif
