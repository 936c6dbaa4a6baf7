/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_THREAD_EVENTS_H
#define LOOPSTALL_THREAD_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Perf events on the threads of traced processes, each opened on one thread
 * alone so nothing else on the machine pays for them:
 *  - on threads of a target, their context switches (each switch-out runs
 *    the BPF program `on_switch`): how a busy period splits into on-CPU,
 *    blocked and preempted time. Opened as soon as the thread is known, since
 *    a loop may block on its very first iteration;
 *  - on loop threads, a task-clock sampling event running `on_sample`, open
 *    only while a busy period has run long: an enabled sampling timer is
 *    reprogrammed at every switch of its thread, and even a disabled event
 *    makes each switch dearer, which costs a loop that wakes often dearly.
 *
 * A context-switch event makes every switch of its thread dearer too (~350 ns
 * per switch-out/in pair on the 2-vCPU VM, program or not), and a thread that
 * is no loop thread gains nothing from it once it is known not to run a loop:
 * a worker that wakes the loop on every request made that loop pay twice. So
 * a thread that is neither a loop thread nor its process's main thread
 * (where loops usually run) loses its event after LS_THREAD_PROBATION_NS
 * (ls_thread_events__retire); should it start a loop later, its first return
 * from the loop's wait makes it a loop thread and the event comes back
 * (ls_thread_events__loop). What its event also did, noting a wait call no
 * loop used yet that it blocks in, the agent does by reading /proc
 * (ls_thread_events__each_retired).
 */
#define LS_THREAD_PROBATION_NS 2000000000ull

struct ls_thread_events;
struct bpf_program;
struct bpf_link;
struct perf_event_attr;

/*
 * Open perf event attr on thread tid alone and run prog at each sample: the
 * link owns the event (destroying it closes it); *fd_out, if wanted, is its
 * fd. NULL and errno on failure.
 */
struct bpf_link *ls_thread_event_open(struct bpf_program *prog, struct perf_event_attr *attr,
				      uint32_t tid, int *fd_out);

/* on_sample NULL: no sampling events (stacks are off). */
struct ls_thread_events *ls_thread_events__new(struct bpf_program *on_switch,
					       struct bpf_program *on_sample,
					       uint64_t sample_period_ns);
/*
 * Follow the context switches of a thread of a target (no-op if it is known
 * already, its event retired or not).
 */
int ls_thread_events__watch(struct ls_thread_events *te, uint32_t pid, uint32_t tid);
/*
 * The thread turned out to be a loop thread: its context switches are
 * followed (again, if its event was retired) and it is sampled when a busy
 * period runs long.
 */
int ls_thread_events__loop(struct ls_thread_events *te, uint32_t pid, uint32_t tid);
/* Close the events of a thread that exited, or of every thread of a process. */
void ls_thread_events__close(struct ls_thread_events *te, uint32_t tid);
void ls_thread_events__close_pid(struct ls_thread_events *te, uint32_t pid);
/*
 * Sampling for the busy period that started at busy_start_ns: on while
 * `want`, off otherwise. A no-op when the state is already right.
 */
void ls_thread_events__sample(struct ls_thread_events *te, uint32_t tid, uint64_t busy_start_ns,
			      bool want);
/*
 * What ls_thread_events__retire asks of its caller about a thread:
 *  - idle: before closing its event, true to keep it for now (a thread
 *    blocked in a loop's wait call is an idle loop that has not returned
 *    from its wait since the agent came: its first callback must be seen
 *    whole when it wakes);
 *  - known: after closing it, true if the thread is a loop thread after all
 *    (BPF met it at a return from its loop's wait whose record is not read
 *    yet). Its event is then reopened at once; the switches missed in
 *    between are the caller's to account for.
 */
struct ls_thread_retire_ops {
	bool (*idle)(void *ctx, uint32_t pid, uint32_t tid);
	bool (*known)(void *ctx, uint32_t pid, uint32_t tid);
};
/*
 * Close the context-switch events of the threads followed for at least
 * LS_THREAD_PROBATION_NS that are neither loop threads nor their process's
 * main thread, nor idle loops (ops->idle). Returns how many were closed
 * and stay so.
 */
size_t ls_thread_events__retire(struct ls_thread_events *te, uint64_t now_ns,
				const struct ls_thread_retire_ops *ops, void *ctx);
/*
 * A loop that iterates fast and briefly pays its own context-switch event
 * at every wake-up (~400 ns, a fifth of an iteration that does little) and
 * gains nothing from it while no busy period runs long. Such a loop thread
 * runs "lean": its event is closed (__lean), BPF times each busy period
 * from the task's own counters (lt_live.lean), and when a period runs long
 * the agent follows the thread again (__follow) and reads the block it is
 * in (follow_seed in loop_tracker.bpf.c). 0 or -ENOENT (no such loop thread).
 */
int ls_thread_events__lean(struct ls_thread_events *te, uint32_t tid);
/* Reopen a lean thread's event: 1 if it was lean, 0 if not, -errno (gone). */
int ls_thread_events__follow(struct ls_thread_events *te, uint32_t tid);
/* fn for each thread of a target whose event was retired, while it lives. */
void ls_thread_events__each_retired(const struct ls_thread_events *te,
				    void (*fn)(void *ctx, uint32_t pid, uint32_t tid), void *ctx);
void ls_thread_events__free(struct ls_thread_events *te);

#endif
