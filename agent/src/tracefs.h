/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_TRACEFS_H
#define LOOPSTALL_TRACEFS_H

/*
 * Per-syscall tracepoints are attached through tracefs, which a fresh
 * machine may not have mounted. Mount it at /sys/kernel/tracing when neither
 * that nor debugfs' tracing directory is there. Returns 0 or -errno.
 */
int ls_tracefs_ensure(void);

#endif
