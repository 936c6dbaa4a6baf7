/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_STALL_H
#define LOOPSTALL_STALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "loop_tracker.h"
#include "probe_info.h"
#include "syscall_class.h"
#include "target.h"

enum ls_cause {
	LS_CAUSE_BLOCKING_SYSCALL,
	LS_CAUSE_CPU,
	LS_CAUSE_LOCK_WAIT,
	LS_CAUSE_PREEMPTED,
	LS_CAUSE_PAGE_FAULT,
	LS_CAUSE_MIXED,
	LS_CAUSE_UNKNOWN,
	LS_CAUSE_COUNT,
};

#define LS_TARGET_MAX 256
/* Syscalls a stall names at most: one per BPF slot. */
#define LS_STALL_SYSCALLS LT_MAX_SLOTS
#define LS_MAX_FRAMES 128
#define LS_ADVICE_MAX 512
/* an asyncio Task's name, bytes with the NUL (longer ones are cut) */
#define LS_TASK_NAME_MAX 128

/* What runs in a frame: the JSON's "kind". */
enum ls_frame_kind {
	LS_FRAME_NATIVE = 0,
	LS_FRAME_PYTHON, /* symbol: qualified name, file: the .py, addr: the code object */
	LS_FRAME_JS,	 /* named from the JIT's perf map */
};

/* One symbolized frame; strings are interned by the symbolizer (or NULL). */
struct ls_frame {
	uint64_t addr;
	const char *symbol;
	const char *module;
	const char *file;
	int line;     /* 0 when unknown */
	bool inlined; /* a function inlined into the frame that follows */
	uint8_t kind; /* enum ls_frame_kind */
	/* a Python frame's address in the process (pyframes.h), else 0 */
	uint64_t pyframe;
};

const char *ls_frame_kind_name(enum ls_frame_kind kind);

/* A stall in progress, announced once soon after it crosses its threshold (stall_begin). */
struct ls_stall_begin {
	uint32_t pid;
	uint32_t tid;
	const char *comm;
	uint64_t start_ns; /* CLOCK_MONOTONIC */
	uint64_t elapsed_ns;
	uint64_t threshold_ns;
	bool began_before_attach; /* running at attach: start_ns is the attach time */
};

/* A user stack, innermost frame first. */
struct ls_stack {
	unsigned n;
	struct ls_frame *frames;
};

/* CPU samples that shared one stack. */
struct ls_cpu_stack {
	unsigned samples;
	struct ls_stack stack;
};

/* One syscall (with the fd it used) a stalled loop thread blocked in. */
struct ls_syscall_use {
	int nr; /* -1: calls that did not fit the per-stall table */
	int fd; /* -1 when the call takes no fd */
	const char *name;
	char target[LS_TARGET_MAX];	 /* what the fd is; empty when unknown */
	enum ls_target_kind target_kind; /* what kind of thing target is */
	uint32_t count;
	uint64_t total_ns;
	uint64_t max_ns;
	struct ls_stack stack; /* where the longest of these calls was made */
};

/* A stall as user space sees it: one busy period over the threshold. */
struct ls_stall {
	uint32_t pid;
	uint32_t tid;
	char comm[16];
	uint64_t start_ns; /* CLOCK_MONOTONIC */
	uint64_t end_ns;
	uint64_t threshold_ns;
	uint64_t on_cpu_ns;
	uint64_t off_cpu_ns; /* blocked, in and outside syscalls */
	uint64_t runq_ns;
	uint64_t fault_ns; /* blocked outside any syscall: page faults, mostly */
	uint64_t major_faults;
	uint32_t nvcsw;
	uint32_t nivcsw;
	bool cut_short; /* the thread exited, or recording ended, mid-stall */
	/*
	 * The period outlived the loop's own wait (its epoll fd closed, or the
	 * thread exited from outside the loop): the process's exit after its
	 * loop returned, written with "phase":"exit" and never blamed on code.
	 */
	bool loop_gone;
	/*
	 * The period was running when the agent attached: start_ns is the
	 * attach time and the duration a lower bound ("began_before_attach").
	 */
	bool began_before_attach;
	/*
	 * The period began while its loop ran lean (LT_STALL_PART_UNSEEN): the
	 * switches of its first milliseconds were not seen, so the kernel's CPU
	 * time decides the split with no more slack than its own lag.
	 */
	bool part_unseen;
	unsigned n_syscalls;
	struct ls_syscall_use syscalls[LS_STALL_SYSCALLS];
	/* hottest first; stacks are valid only during the stall callback */
	struct ls_cpu_stack *cpu_stacks;
	unsigned n_cpu_stacks;
	unsigned cpu_samples;
	enum ls_cause cause;
	/* the callback libprobe saw running, when it is in the process (probe_info.h) */
	struct ls_stall_callback callback;
	/*
	 * The asyncio task the loop ran, from its Python frames: its coroutine
	 * and where it is (pyframes.h). coroutine NULL: none seen. Interned.
	 */
	struct {
		const char *coroutine;
		const char *file;
		int line;
		char name[LS_TASK_NAME_MAX]; /* the Task's name, "" when not read (pytask.h) */
	} task;
	/* the pipeline's conclusion (ls_stall_conclude): what the stall was, and what to do */
	enum ls_wait wait;
	char advice[LS_ADVICE_MAX];
};

const char *ls_cause_name(enum ls_cause cause);
/* Free the stacks attached to a stall (the frames' strings are not owned). */
void ls_stall_free_stacks(struct ls_stall *s);

/*
 * Fill a stall from what BPF accumulated for one busy period ending at end_ns
 * (a record, or a snapshot of a period still running). Sorts syscalls by
 * total time, derives on-CPU time and classifies the cause. fd targets are
 * left empty: resolving them needs /proc (see fdtarget.h).
 */
void ls_stall_from_busy(struct ls_stall *s, const struct lt_busy *busy, uint32_t pid, uint32_t tid,
			const char *comm, uint64_t end_ns, uint64_t threshold_ns,
			uint64_t major_faults);

/*
 * Reconcile the switch-by-switch split with the kernel's own accounting of
 * the period (CPU time, run-queue wait): a switch the tracer did not see
 * shows up as on-CPU time the kernel did not count. Reclassifies.
 */
void ls_stall_apply_kernel_times(struct ls_stall *s, uint64_t exec_ns, uint64_t run_delay_ns);

/* Decode a ring-buffer stall record; -EINVAL when it is malformed. */
int ls_stall_from_record(struct ls_stall *s, const void *data, size_t size, uint64_t threshold_ns);

/* The cause that explains most of the stall (see classify.c for the rules). */
enum ls_cause ls_classify(const struct ls_stall *s);

/* The kind of wait the stall was, from its cause and the call that dominated. */
enum ls_wait ls_stall_wait(const struct ls_stall *s);
/* One or two sentences of advice for this stall, grounded in its numbers. */
void ls_advice(const struct ls_stall *s, char *buf, size_t len);
/* The pipeline's last stage (stall_pipeline.h): wait and advice from the stall's other fields. */
void ls_stall_conclude(struct ls_stall *s);

#endif
