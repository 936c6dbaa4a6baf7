/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The contract between task_regs.bpf.c and user space (agent/src/inflight.c):
 * the saved user registers of each thread of one process, read by a task
 * iterator when the agent attaches. A thread blocked in a system call has
 * all of them in its kernel stack's pt_regs; /proc/TID/syscall shows only
 * sp and pc, too few to unwind through code that keeps its frame in rbp.
 */
#ifndef LOOPSTALL_TASK_REGS_H
#define LOOPSTALL_TASK_REGS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TR_NREGS 17 /* x86-64 DWARF registers 0..16 (rax..r15, rip), as LT_NREGS */

/* tr_task.state */
#define TR_RUNNING 0 /* on a CPU or runnable: its registers are stale */
#define TR_BLOCKED 1 /* asleep: its registers stay as they are until it wakes */

/* One record per thread of the process, written to the iterator's file. */
struct tr_task {
	__u32 tid;
	__u32 state;	      /* TR_* */
	__s64 nr;	      /* orig_ax: the syscall it entered, -1 outside one */
	__u64 fsbase;	      /* its fs base: pthread_self(), CPython's id of the thread */
	__u64 regs[TR_NREGS]; /* DWARF numbering: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip */
};

#endif
