/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A task's saved user registers in DWARF numbering (rax rdx rcx rbx rsi rdi
 * rbp rsp r8..r15 rip), as every stack record carries them for the unwinder:
 * for the current task at a switch-out or sample, and for a blocked one
 * read by a task iterator. Shared by loop_tracker.bpf.c and task_regs.bpf.c.
 */
#ifndef LOOPSTALL_USER_REGS_BPF_H
#define LOOPSTALL_USER_REGS_BPF_H

static __always_inline void user_regs_read(struct pt_regs *regs, __u64 *out)
{
	out[0] = BPF_CORE_READ(regs, ax);
	out[1] = BPF_CORE_READ(regs, dx);
	out[2] = BPF_CORE_READ(regs, cx);
	out[3] = BPF_CORE_READ(regs, bx);
	out[4] = BPF_CORE_READ(regs, si);
	out[5] = BPF_CORE_READ(regs, di);
	out[6] = BPF_CORE_READ(regs, bp);
	out[7] = BPF_CORE_READ(regs, sp);
	out[8] = BPF_CORE_READ(regs, r8);
	out[9] = BPF_CORE_READ(regs, r9);
	out[10] = BPF_CORE_READ(regs, r10);
	out[11] = BPF_CORE_READ(regs, r11);
	out[12] = BPF_CORE_READ(regs, r12);
	out[13] = BPF_CORE_READ(regs, r13);
	out[14] = BPF_CORE_READ(regs, r14);
	out[15] = BPF_CORE_READ(regs, r15);
	out[16] = BPF_CORE_READ(regs, ip);
}

#endif
