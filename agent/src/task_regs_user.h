/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_TASK_REGS_USER_H
#define LOOPSTALL_TASK_REGS_USER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "task_regs.h"

/*
 * The threads of a process as they are now, for the attach-time look at
 * stalls already running (inflight.h): each thread's saved user registers
 * from a BPF task iterator (task_regs.bpf.c), and the top of a blocked
 * thread's stack from its memory.
 */
struct ls_task_regs;

/* Loads the iterator. Returns 0 or -errno (a kernel without task iterators). */
int ls_task_regs__new(struct ls_task_regs **out);
void ls_task_regs__free(struct ls_task_regs *tr);

struct bpf_program;
struct bpf_link;
struct bpf_iter_attach_opts;
/*
 * Attach task iterator prog (opts: which tasks, NULL: all) and open one
 * read of it: the fd to read() and close, or -errno; *link, to destroy
 * after, is NULL on failure.
 */
int ls_iter_open(struct bpf_program *prog, const struct bpf_iter_attach_opts *opts,
		 struct bpf_link **link);
/*
 * Every thread of process pid: *out (malloc'd, the caller frees it) holds
 * *n records. Returns 0 or -errno.
 */
int ls_task_regs__read(struct ls_task_regs *tr, pid_t pid, struct tr_task **out, size_t *n);

/*
 * Copy up to max bytes of process pid's memory from sp upwards into buf,
 * page by page, stopping at the first page that cannot be read (the top of
 * the stack). Returns the bytes copied (a multiple of nothing: the first
 * page may start mid-page).
 */
size_t ls_read_user_stack(pid_t pid, uint64_t sp, void *buf, size_t max);

struct ls_unwinder;
struct lt_stack_rec;
struct lt_capture;

/*
 * A blocked thread's call as BPF's stack record (LT_REC_STACK): its saved
 * user registers (regs, LT_NREGS of them), syscall nr and the fd it names,
 * its Python frames (from its fs base), up to stack_bytes of its stack.
 * Its memory holds still while it stays blocked. Returns the record's size.
 */
size_t ls_blocked_record(struct ls_unwinder *u, pid_t pid, uint32_t tid, uint32_t nr,
			 const __u64 *regs, uint64_t fsbase, uint32_t stack_bytes,
			 struct lt_stack_rec *rec);

/*
 * What the blocked call of stack record rec (from ls_inflight_scan) waits
 * on, as BPF's target capture would have taken it at the switch-out: the
 * fds of a poll or select (from the target's memory), the file of the fd
 * (from /proc: mode, inode, device, filesystem, an anonymous inode's
 * name). Returns 0, or -ENOENT when the call names no fd.
 */
int ls_capture_blocked(const struct lt_stack_rec *rec, struct lt_capture *cap);

/*
 * The threads of process pid (only_tid: that one) blocked inside a loop's
 * callback now (inflight.h): for each, found() gets a stack record of the
 * call it blocks in (type LT_REC_STACK; registers, up to stack_bytes of its
 * stack, nr and fd, its Python frames), as BPF would have sent it. Returns 0
 * or -errno; found() returning non-zero stops the scan.
 */
typedef int (*ls_inflight_found_fn)(void *ctx, struct lt_stack_rec *rec, size_t size);
/* A thread on a CPU (or runnable) now: its registers are stale, sample it instead. */
typedef int (*ls_inflight_running_fn)(void *ctx, uint32_t tid);
int ls_inflight_scan(struct ls_task_regs *tr, struct ls_unwinder *u, pid_t pid, pid_t only_tid,
		     uint32_t stack_bytes, ls_inflight_found_fn found,
		     ls_inflight_running_fn running, void *ctx);
/*
 * A thread that was running at attach, sampled once (LT_REC_ATTACH_SAMPLE):
 * is it computing inside a callback? Unwinds and names the sample with its
 * Python frames. Returns 1 (yes), 0 (no) or -errno.
 */
int ls_inflight_judge_sample(struct ls_unwinder *u, const struct lt_stack_rec *rec, size_t size);

struct bpf_program;
struct bpf_link;
/* A task-clock event on thread tid running prog every period_ns of its CPU time; NULL: errno. */
struct bpf_link *ls_sample_thread(struct bpf_program *prog, uint32_t tid, uint64_t period_ns);

#endif
