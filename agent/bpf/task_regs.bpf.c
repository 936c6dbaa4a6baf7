// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Task iterator: the user registers of every thread of process `tgid`, for
 * the agent to judge at attach whether a blocked thread is inside one of its
 * loop's callbacks (a stall already running). Runs once per attach, from the
 * agent's read() of the iterator, not in any traced thread.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "task_regs.h"
#include "user_regs.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define TASK_RUNNING 0
#define PF_KTHREAD 0x00200000 /* include/linux/sched.h: not in BTF, a macro */

/* the process to read: set by user space before each iteration */
__u32 tgid;

SEC("iter/task")
int task_regs(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct tr_task rec = {};
	struct pt_regs *regs;

	if (!task || task->tgid != tgid || (task->flags & PF_KTHREAD))
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs)
		return 0;
	rec.tid = task->pid;
	rec.state = task->__state == TASK_RUNNING || task->on_cpu ? TR_RUNNING : TR_BLOCKED;
	rec.nr = BPF_CORE_READ(regs, orig_ax);
	rec.fsbase = BPF_CORE_READ(task, thread.fsbase);
	user_regs_read(regs, rec.regs);
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}
