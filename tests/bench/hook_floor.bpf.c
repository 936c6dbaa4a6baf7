// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The floor under loopstall's cost to processes it does not trace: empty
 * programs on exactly the hooks the agent attaches (agent/bpf/loop_tracker.bpf.c),
 * so a bystander run against them measures what the kernel's hook mechanisms
 * cost before the agent does any work: the wait calls' exit tracepoints,
 * fork and exit, and a context-switch software event on one thread (the
 * agent opens one per thread of its target; any such event makes the kernel
 * look for software events at every context switch on the machine).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* attached to each wait call's exit tracepoint, as the agent's exit_wait */
SEC("tracepoint")
int exit_wait(void *ctx)
{
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *p)
{
	return 0;
}

SEC("perf_event")
int cpu_switch(struct bpf_perf_event_data *ctx)
{
	return 0;
}
