/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_PROCSTAT_H
#define LOOPSTALL_PROCSTAT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The head of /proc/PID/stat: enough to tell a kernel thread (which has no
 * user space to trace) and a zombie from a process loopstall can attach to.
 */
#define LS_PF_KTHREAD 0x00200000u /* include/linux/sched.h */

struct ls_procstat {
	pid_t pid;
	char comm[64]; /* kernel threads' names can be longer than a comm's 15 bytes */
	char state;    /* R, S, D, Z, X, ... */
	pid_t ppid;
	uint32_t flags;	 /* PF_* */
	uint64_t majflt; /* major faults so far (0 when the line stops before them) */
};

/*
 * Parse one stat line: "PID (COMM) STATE PPID PGRP SESSION TTY TPGID FLAGS ...".
 * COMM may hold anything, spaces and ')' included: it ends at the last ')'.
 * Pure; -EINVAL when the line does not have that shape.
 */
int ls_procstat_parse(const char *line, struct ls_procstat *st);
/*
 * Read and parse PROC_ROOT/PID/stat: -ESRCH when the process is gone. A
 * thread's: PROC_ROOT "/proc/PID/task", PID its tid.
 */
int ls_procstat_read(const char *proc_root, pid_t pid, struct ls_procstat *st);
/*
 * A process's name (PROC_ROOT/PID/comm), or with TID > 0 one of its threads'
 * (PROC_ROOT/PID/task/TID/comm), without its newline. COMM is "" and the
 * result -ESRCH when it is gone, another -errno when unreadable.
 */
int ls_proc_comm(const char *proc_root, pid_t pid, pid_t tid, char comm[16]);

static inline bool ls_procstat_kthread(const struct ls_procstat *st)
{
	return st->flags & LS_PF_KTHREAD;
}

/* Exiting, or a zombie waiting for its parent. */
static inline bool ls_procstat_dead(const struct ls_procstat *st)
{
	return st->state == 'Z' || st->state == 'X' || st->state == 'x';
}

#endif
