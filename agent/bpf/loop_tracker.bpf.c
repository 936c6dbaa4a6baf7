// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Loop tracker: finds the event-loop threads of traced processes and measures
 * each busy period (return from a wait syscall until the next entry into one),
 * splitting it into on-CPU, blocked (per syscall and fd) and run-queue time.
 *
 * Hooks are chosen so processes that are not traced pay (almost) nothing:
 * per-syscall tracepoints for the wait calls only, and no machine-wide
 * scheduler hook. Context switches of a loop thread come from a software
 * perf event user space opens on that thread alone (PERF_COUNT_SW_CONTEXT_SWITCHES,
 * every switch-out): on this kind of machine an empty program on sched_switch
 * already costs every other process ~190 ns per switch. The event fires only
 * at switch-out, so the end of an off-CPU interval is read lazily, at the
 * thread's next event, from the scheduler's own record of its last arrival.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "loop_tracker.h"
#include "user_regs.bpf.h"
#include "busy_account.h"
#include "pyframes.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define TASK_RUNNING 0

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* tgid */
	__type(value, struct lt_target);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LT_MAX_THREADS);
	__type(key, __u32); /* tid */
	__type(value, struct lt_thread);
} threads SEC(".maps");

/* Free indexes of `live`; user space fills it at start and returns freed ones. */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, LT_MAX_THREADS);
	__type(value, __u32);
} free_slots SEC(".maps");

/* Read by user space through the mapping of .bss (see lt_live). */
struct lt_live live[LT_MAX_THREADS];

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LT_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/*
 * Stack of the last blocking switch-out of each busy loop thread, kept until
 * the thread runs again and we know whether the block was long enough to send.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256); /* loop threads with a stack in flight */
	__type(key, __u32);
	__type(value, struct lt_stack_rec);
} pending_stacks SEC(".maps");

/*
 * Staging for CPU samples and the template of new pending_stacks entries,
 * one per CPU. A plain array indexed by CPU: per-CPU arrays cap values at
 * 32 KiB. User space sizes it to the number of possible CPUs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_stack_rec);
} stack_scratch SEC(".maps");

/* Set before load (see agent.c). */
const volatile __u32 stack_bytes = 16384;	   /* copied per stack, <= LT_STACK_MAX */
const volatile __u64 stack_min_block_ns = 1000000; /* shorter blocks get no stack */
const volatile __u64 sample_after_ns = 10000000;   /* CPU samples only past this */

/* See LT_TGID_FILTER. User space sets a target's byte before adding it to `targets`. */
__u8 tgid_filter[LT_TGID_FILTER];

/* Wait calls traced loops returned from (1 << enum lt_wait); user space reads and resets it. */
__u32 waits_seen;

/* A zeroed lt_thread: too large for the BPF stack, so new entries copy it. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_thread);
} zero_thread SEC(".maps");

static __always_inline void count_add(__u32 which, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		*c += n;
}

static __always_inline void count(__u32 which)
{
	count_add(which, 1);
}

/* A new busy period (start_ns), or none (0), in the thread's `live` entry. */
static __always_inline void live_set(struct lt_thread *t, __u64 start_ns)
{
	__u32 slot = t->live_slot;

	t->flags &= ~LT_THR_LOOP_GONE;
	if (slot >= LT_MAX_THREADS)
		return;
	live[slot].start_ns = start_ns;
	live[slot].iterations = t->iterations;
	live[slot].loop_gone = 0;
}

/* User space reopened the thread's context-switch event: what it saw says nothing now. */
static __always_inline void switches_resync(struct lt_thread *t)
{
	__u32 slot = t->live_slot;

	if (slot < LT_MAX_THREADS && live[slot].resync) {
		live[slot].resync = 0;
		t->flags &= ~LT_THR_SWITCHES;
	}
}

/* The running busy period outlived the loop: user space announces no stall for it. */
static __always_inline void loop_gone_mark(struct lt_thread *t)
{
	__u32 slot = t->live_slot;

	t->flags |= LT_THR_LOOP_GONE;
	if (slot < LT_MAX_THREADS)
		live[slot].loop_gone = 1;
}

static __always_inline void announce_thread(__u32 type, __u32 tgid, __u32 tid, __u32 slot)
{
	struct lt_thread_new_rec *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);

	if (!rec) {
		count(LT_CNT_LOST);
		return;
	}
	rec->type = type;
	rec->pid = tgid;
	rec->tid = tid;
	rec->slot = slot;
	bpf_ringbuf_submit(rec, 0);
}

static __always_inline struct lt_thread *thread_get_or_create(__u32 tgid, __u32 tid)
{
	struct lt_thread *t = bpf_map_lookup_elem(&threads, &tid);
	__u32 zero = 0, slot;
	void *tmpl;

	if (t)
		return t;
	tmpl = bpf_map_lookup_elem(&zero_thread, &zero);
	if (!tmpl)
		return NULL;
	/* fails only when full (or raced by ourselves, then the lookup finds it) */
	bpf_map_update_elem(&threads, &tid, tmpl, BPF_NOEXIST);
	t = bpf_map_lookup_elem(&threads, &tid);
	if (!t) {
		count(LT_CNT_THREADS_FULL);
		return NULL;
	}
	t->pid = tgid;
	t->tid = tid;
	if (bpf_map_pop_elem(&free_slots, &slot) || slot >= LT_MAX_THREADS) {
		slot = LT_SLOT_NONE;
	} else {
		live[slot].start_ns = 0;
		live[slot].iterations = 0;
		live[slot].pid = tgid;
		live[slot].tid = tid;
		live[slot].resync = 0;
		live[slot].lean = 0;
	}
	t->live_slot = slot;
	/* user space opens the thread's context-switch and CPU-sampling perf events */
	announce_thread(LT_REC_THREAD_NEW, tgid, tid, slot);
	return t;
}

/* Registers and the top of the user stack of `task`, which must be current. */
static __always_inline void copy_user_stack(struct lt_stack_rec *r, struct task_struct *task)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	__u64 sp, t0 = bpf_ktime_get_ns();
	__u32 i;

	r->size = 0;
	if (!regs)
		return;
	user_regs_read(regs, r->regs);
	sp = r->regs[7];
	/*
	 * One 8 KiB read fails whole when less than that lies above sp (a
	 * main thread near the top of its stack): copy in chunks until one fails.
	 */
	for (i = 0; i < LT_STACK_MAX / LT_STACK_CHUNK; i++) {
		if (i * LT_STACK_CHUNK >= stack_bytes)
			break;
		if (bpf_probe_read_user(&r->data[i * LT_STACK_CHUNK], LT_STACK_CHUNK,
					(void *)(sp + i * LT_STACK_CHUNK)))
			break;
		r->size = (i + 1) * LT_STACK_CHUNK;
	}
	/* self-measurement: what a captured stack costs the traced thread */
	count(LT_CNT_STACK_COPIES);
	count_add(LT_CNT_STACK_COPY_NS, bpf_ktime_get_ns() - t0);
}

static __always_inline void send_stack(struct lt_stack_rec *r)
{
	__u64 size = r->size;

	if (size > LT_STACK_MAX)
		size = LT_STACK_MAX;
	if (bpf_ringbuf_output(&events, r, offsetof(struct lt_stack_rec, data) + size, 0))
		count(LT_CNT_LOST);
}

static __always_inline struct lt_stack_rec *scratch_stack(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&stack_scratch, &cpu);
}

static __always_inline struct lt_stack_rec *pending_stack(__u32 tid, bool create)
{
	struct lt_stack_rec *r = bpf_map_lookup_elem(&pending_stacks, &tid);
	void *tmpl;

	if (r || !create)
		return r;
	tmpl = scratch_stack();
	if (!tmpl)
		return NULL;
	bpf_map_update_elem(&pending_stacks, &tid, tmpl, BPF_NOEXIST);
	return bpf_map_lookup_elem(&pending_stacks, &tid);
}

/* what a blocking call waits on: target_capture() at switch-out, target_send() at settle */
#include "target_capture.bpf.h"

/*
 * Which syscall a task that is being switched out is blocked in. orig_ax
 * holds the syscall number inside a syscall, but an exception's error code
 * inside a fault (a blocking page fault has orig_ax 4..7 = stat..poll), so
 * the instruction before the user ip must be `syscall` (0f 05) too.
 */
static __always_inline void blocked_in(struct task_struct *task, __u32 *nr, __s32 *fd)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	unsigned char insn[2] = {};
	long orig_ax;
	__u64 ip;

	*nr = LT_NR_NONE;
	*fd = -1;
	if (!regs)
		return;
	orig_ax = BPF_CORE_READ(regs, orig_ax);
	ip = BPF_CORE_READ(regs, ip);
	if (orig_ax < 0 || orig_ax >= 1024 || ip < 2)
		return;
	if (bpf_probe_read_user(insn, sizeof(insn), (void *)(ip - 2)))
		return;
	if (insn[0] != 0x0f || insn[1] != 0x05)
		return;
	*nr = (__u32)orig_ax;
	if (lt_syscall_takes_fd(*nr))
		*fd = (__s32)BPF_CORE_READ(regs, di);
}

/*
 * What tells one syscall from the next made from the same place: there is
 * no hook on syscall entry (it would cost every process on the machine), so
 * a block is the same call as the thread's previous block when the call,
 * its saved user registers (arguments, stack, callee-saved state) and the
 * task's count of completed read and write calls are all unchanged: a call
 * that blocks again on its way (fsync, a large write) leaves them as they
 * were, a new call almost always changes one (a buffer, a length, a
 * caller's loop variable, a read that completed between).
 */
static __always_inline __u64 call_witness(struct task_struct *task, __u32 nr, __s32 fd)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	__u64 w = ((__u64)nr << 32) ^ (__u32)fd;

	if (!regs)
		return w;
	w = w * 31 + BPF_CORE_READ(regs, di);
	w = w * 31 + BPF_CORE_READ(regs, si);
	w = w * 31 + BPF_CORE_READ(regs, dx);
	w = w * 31 + BPF_CORE_READ(regs, r10);
	w = w * 31 + BPF_CORE_READ(regs, r8);
	w = w * 31 + BPF_CORE_READ(regs, r9);
	w = w * 31 + BPF_CORE_READ(regs, sp);
	w = w * 31 + BPF_CORE_READ(regs, ip);
	w = w * 31 + BPF_CORE_READ(regs, bx);
	w = w * 31 + BPF_CORE_READ(regs, bp);
	w = w * 31 + BPF_CORE_READ(regs, r12);
	w = w * 31 + BPF_CORE_READ(regs, r13);
	w = w * 31 + BPF_CORE_READ(regs, r14);
	w = w * 31 + BPF_CORE_READ(regs, r15);
	if (bpf_core_field_exists(task->ioac))
		w = w * 31 + BPF_CORE_READ(task, ioac.syscr) * 7 + BPF_CORE_READ(task, ioac.syscw);
	return w;
}

/* Delayed dequeue (EEVDF, 6.12+) leaves a blocking task queued, marked. */
struct sched_entity___delayed {
	unsigned char sched_delayed;
} __attribute__((preserve_access_index));

static __always_inline bool se_delayed(struct task_struct *task)
{
	struct sched_entity___delayed *se = (void *)&task->se;

	if (!bpf_core_field_exists(se->sched_delayed))
		return false;
	return BPF_CORE_READ(se, sched_delayed);
}

/*
 * The clock of the run queue the task is leaving (group scheduling links a
 * task to it; the per-CPU `runqueues` symbol needs KALLSYMS_ALL). 0: unknown.
 */
static __always_inline __u64 out_rq_clock(struct task_struct *task)
{
	if (!bpf_core_field_exists(task->se.cfs_rq))
		return 0;
	return BPF_CORE_READ(task, se.cfs_rq, rq, clock);
}

/*
 * Close the off-CPU interval that began at the thread's last switch-out, if
 * any. Must run in the thread's own context: then it has been switched in
 * since, at sched_info.last_arrival (run-queue clock, as out_rq).
 */
static __always_inline void settle(struct lt_thread *t, struct task_struct *task)
{
	__u64 out = t->out_ns, arrival, off;
	struct lt_stack_rec *stack;
	__u32 kind = t->out_kind;

	if (!out)
		return;
	t->out_ns = 0;
	t->out_kind = LT_OUT_NONE;
	if (!t->cur.start_ns || out < t->cur.start_ns)
		return;
	if (t->out_rq && bpf_core_field_exists(task->sched_info.last_arrival)) {
		arrival = task->sched_info.last_arrival;
		/* two CPUs' run-queue clocks may disagree by a little */
		off = arrival > t->out_rq ? arrival - t->out_rq : 0;
	} else {
		/* no sched_info: counts the CPU time since the switch-in as off-CPU */
		off = bpf_ktime_get_ns() - out;
	}
	/* one stack per call site and busy period: its longest block */
	if (!lt_busy_settle(&t->cur, kind, t->out_nr, t->out_fd, off, t->out_newcall))
		return;
	target_send(t, off);
	if (off < stack_min_block_ns)
		return;
	stack = pending_stack(t->tid, false);
	if (stack && stack->busy_start_ns == t->cur.start_ns) {
		stack->blocked_ns = off;
		send_stack(stack);
	}
}

static __always_inline void emit_stall(struct lt_thread *t, struct task_struct *task, __u64 now,
				       __u32 flags)
{
	struct lt_stall_rec *rec;

	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count(LT_CNT_LOST);
		return;
	}
	rec->type = LT_REC_STALL;
	rec->flags = flags;
	rec->pid = t->pid;
	rec->tid = t->tid;
	bpf_probe_read_kernel_str(rec->comm, sizeof(rec->comm), task->comm);
	rec->end_ns = now;
	rec->maj_flt = task->maj_flt - t->cur.maj_flt_start;
	rec->exec_ns = task->se.sum_exec_runtime - t->cur.exec_start;
	rec->run_delay_ns = 0;
	if (bpf_core_field_exists(task->sched_info.run_delay)) {
		rec->run_delay_ns = task->sched_info.run_delay - t->cur.run_delay_start;
		rec->flags |= LT_STALL_KERNEL_TIMES;
	}
	__builtin_memcpy(&rec->busy, &t->cur, sizeof(rec->busy));
	bpf_ringbuf_submit(rec, 0);
}

/* Forget the busy period running, as if the thread were waiting. */
static __always_inline void busy_drop(struct lt_thread *t)
{
	t->flags &= ~LT_THR_BEFORE_ATTACH;
	t->cur.start_ns = 0;
	live_set(t, 0);
}

/* Close the busy period that is running, if any: histogram, counters, stall. */
static __always_inline void busy_end(struct lt_thread *t, struct lt_target *tg,
				     struct task_struct *task, __u64 now, __u32 flags)
{
	__u64 start = t->cur.start_ns, dur;
	__u32 b;

	if (!start || now < start)
		return;
	dur = now - start;
	if (t->flags & LT_THR_LOOP_GONE)
		flags |= LT_STALL_LOOP_GONE;
	if (t->flags & LT_THR_BEFORE_ATTACH)
		flags |= LT_STALL_BEFORE_ATTACH;
	if (t->flags & LT_THR_UNSEEN)
		flags |= LT_STALL_PART_UNSEEN;
	/*
	 * What ran after the loop was closed is no iteration of it: not in the
	 * counters; at exit it is sent, marked, so that readers can tell.
	 */
	if (flags & LT_STALL_LOOP_GONE) {
		if ((flags & LT_STALL_CUT_SHORT) && dur >= tg->threshold_ns)
			emit_stall(t, task, now, flags);
		busy_drop(t);
		return;
	}
	t->iterations++;
	t->busy_ns += dur;
	if (dur > t->max_busy_ns)
		t->max_busy_ns = dur;
	b = lt_hist_bucket(dur);
	if (b < LT_HIST_BUCKETS)
		t->hist[b]++;
	if (dur >= tg->threshold_ns) {
		t->stalls++;
		emit_stall(t, task, now, flags);
	}
	busy_drop(t);
}

/*
 * What the kernel may lag in updating a running task's CPU time
 * (se.sum_exec_runtime is brought up to date at ticks and switches): two
 * ticks at HZ=250.
 */
#define LEAN_SLACK_NS 8000000ull

/*
 * How long the busy period that began at start_ns ran, up to a block the
 * agent did not see that ended it (the loop's wait, while the thread ran
 * lean): its CPU time until it blocked, and its run-queue wait if it was
 * preempted. `cpu_now`: the task's CPU time at that block.
 */
static __always_inline __u64 unseen_length(struct lt_thread *t, struct task_struct *task,
					   __u64 cpu_now)
{
	__u64 len = cpu_now > t->cur.exec_start ? cpu_now - t->cur.exec_start : 0;

	if (task->nivcsw != t->nivcsw_start && bpf_core_field_exists(task->sched_info.run_delay))
		len += task->sched_info.run_delay - t->cur.run_delay_start;
	return len;
}

/*
 * End, at `end`, a busy period whose end the agent did not see. A length
 * that reaches the threshold is never reported from an estimate: user space
 * follows a lean thread again long before (lean_follow_ns), so it means the
 * agent fell behind; the period is dropped instead.
 */
static __always_inline void unseen_end_at(struct lt_thread *t, struct lt_target *tg,
					  struct task_struct *task, __u64 len)
{
	if (len >= tg->threshold_ns)
		busy_drop(t);
	else
		busy_end(t, tg, task, t->cur.start_ns + len, 0);
}

/*
 * A return from the loop's wait ends a busy period that began while the
 * thread ran lean (LT_THR_UNSEEN), and no switch-out ended it first. If the
 * thread never blocked, the period ends now, exactly. Otherwise the wait
 * may have blocked unseen (the loop was idle, the period ended then) or
 * returned at once after a block inside the period:
 * - followed again since follow_ns (every later switch-out is seen): the
 *   period's time must be its CPU, its run-queue wait, the blocks seen and
 *   at most the window before follow_ns. More than that is the wait having
 *   blocked before the agent followed the thread: the period ended then.
 * - never followed: the period never ran long (user space follows a lean
 *   thread whose period does), so it ended at the thread's last block,
 *   which was in the wait: the CPU time up to that block, and the run-queue
 *   wait if it was preempted. A block inside such a period shortens it by
 *   at most the follow line (lean_follow_ns); the period is counted, its
 *   length is that estimate.
 */
static __always_inline void unseen_end(struct lt_thread *t, struct lt_target *tg,
				       struct task_struct *task, __u64 now)
{
	__u64 start = t->cur.start_ns, len, bound;

	if (task->nvcsw == t->nvcsw_start) {
		busy_end(t, tg, task, now, 0);
		return;
	}
	if (t->follow_ns > start) {
		bound = task->se.sum_exec_runtime - t->cur.exec_start + t->cur.offcpu_ns +
			(t->follow_ns - start) + LEAN_SLACK_NS;
		if (bpf_core_field_exists(task->sched_info.run_delay))
			bound += task->sched_info.run_delay - t->cur.run_delay_start;
		if (now - start <= bound) {
			busy_end(t, tg, task, now, 0);
			return;
		}
	}
	/* prev_sum_exec_runtime: the CPU time at the last switch-in, the end of that block */
	len = unseen_length(t, task, task->se.prev_sum_exec_runtime);
	if (len > now - start)
		len = now - start;
	unseen_end_at(t, tg, task, len);
}

static __always_inline struct lt_target *traced(__u32 tgid, __u32 tid)
{
	struct lt_target *tg = bpf_map_lookup_elem(&targets, &tgid);

	if (!tg || (tg->only_tid && tg->only_tid != tid))
		return NULL;
	return tg;
}

/* x86-64 numbers of the calls a loop waits in */
#define NR_POLL 7
#define NR_SELECT 23
#define NR_EPOLL_WAIT 232
#define NR_PSELECT6 270
#define NR_PPOLL 271
#define NR_EPOLL_PWAIT 281
#define NR_IO_URING_ENTER 426
#define NR_EPOLL_PWAIT2 441
#define IORING_ENTER_GETEVENTS_FLAG 1u

/*
 * Is syscall `nr`, with the arguments still in the task's saved registers,
 * the loop waiting for events? select(0, NULL, NULL, NULL, &tv) is the
 * portable sleep (Python <= 3.10's time.sleep): with no fds it is a blocking
 * call inside the busy period; io_uring_enter waits only with GETEVENTS.
 */
static __always_inline bool is_loop_wait(__u32 nr, struct task_struct *task)
{
	struct pt_regs *regs;

	switch (nr) {
	case NR_EPOLL_WAIT:
	case NR_EPOLL_PWAIT:
	case NR_EPOLL_PWAIT2:
	case NR_POLL:
	case NR_PPOLL:
		return true;
	case NR_SELECT:
	case NR_PSELECT6:
		regs = (struct pt_regs *)bpf_task_pt_regs(task);
		return regs && BPF_CORE_READ(regs, di) != 0;
	case NR_IO_URING_ENTER:
		/* io_uring_enter(fd, to_submit, min_complete, flags, ...) */
		regs = (struct pt_regs *)bpf_task_pt_regs(task);
		return regs && (BPF_CORE_READ(regs, r10) & IORING_ENTER_GETEVENTS_FLAG) &&
		       (__u32)BPF_CORE_READ(regs, dx);
	}
	return false;
}

/* Wait calls whose first argument is the fd of the kernel object the loop is (epoll, io_uring). */
static __always_inline bool wait_takes_loop_fd(__u32 nr)
{
	return nr == NR_EPOLL_WAIT || nr == NR_EPOLL_PWAIT || nr == NR_EPOLL_PWAIT2 ||
	       nr == NR_IO_URING_ENTER;
}

/* The loop's epoll (or io_uring) fd was closed, or now names another file: the loop is gone. */
static __always_inline bool site_gone(const struct lt_site *s, struct task_struct *task)
{
	return s->file && (__u64)fd_file(task, s->fd) != s->file;
}

/* The buffer a poll-type wait reads its fds from: a loop passes the same one every iteration. */
static __always_inline __u64 wait_buffer(__u32 nr, struct pt_regs *regs)
{
	if (nr == NR_POLL || nr == NR_PPOLL)
		return regs->di;
	if (nr == NR_SELECT || nr == NR_PSELECT6)
		return regs->si; /* readfds */
	return 0;
}

/*
 * How far the sp of one fd-less wait may move and still be the same call
 * site: libc's wrappers take another path, with another syscall
 * instruction and a deeper frame, once the process has a second thread
 * (the cancellable path: 40 bytes deeper for poll here).
 */
#define SITE_SP_SLACK 128

/* A wait call as site_decide() sees it: read from the task by site_classify(). */
struct site_wait {
	__u64 sp, ip, buf;
	__u64 file;	 /* the struct file of its epoll/io_uring fd, 0: none */
	__u64 site_file; /* what the site's fd names now, 0: closed (or no fd) */
	__u64 mm;
	__s32 fd;
	__u32 nr;
	__u32 returned;
	__u32 pad;
};

static __always_inline void site_learn(struct lt_site *s, const struct site_wait *w)
{
	s->sp = w->sp;
	s->ip = w->ip;
	s->nr = w->nr;
	s->buf = w->buf;
	s->mm = w->mm;
	s->fd = w->fd;
	s->file = w->file;
	s->seen = 0;
	s->other = 0;
	s->nested_sp = 0;
	s->nested_ip = 0;
}

/* The site seen again: refresh where it is called from (the frame may move, see below). */
static __always_inline __u32 site_again(struct lt_site *s, const struct site_wait *w)
{
	s->sp = w->sp;
	s->ip = w->ip;
	s->nr = w->nr;
	s->buf = w->buf;
	s->other = 0;
	if (w->returned && s->seen < 0xffff)
		s->seen++;
	return LT_SITE_LOOP;
}

/*
 * Is this wait call the loop's own wait, or a wait inside one of its
 * callbacks?
 *
 * The first wait a thread is seen in is learnt. Then, for a loop that waits
 * on an epoll (or io_uring) fd, the loop is that kernel object: a wait on
 * the same struct file is the loop's, whatever the stack says (CPython's
 * specializing interpreter moves the call 112 bytes up after warm-up); a
 * wait on another one is a nested loop's. For poll/select loops the site is
 * the frame: the same user sp and ip; the same fd buffer; with no buffer
 * (a poll of timers only), the same call within SITE_SP_SLACK bytes.
 *
 * A site learnt from one wait only (at attach the thread may sit in a
 * callback's poll) gives way to a shallower wait at once. A confirmed one is
 * replaced when its epoll fd is gone (the loop was closed: asyncio.run()
 * ended, another loop runs now) or the thread exec'd, or when one other
 * wait returns LT_SITE_RELEARN times in a row with no return from the site
 * between (for epoll loops a shallower one only: a nested loop runs deeper):
 * a callback's frames can sit above the loop's poll wrapper, so one
 * shallower wait proves nothing.
 *
 * A global function: verified once, on its own, rather than along every
 * path of each of the nine programs that call it (100 ms of verifier time
 * at each start when inlined).
 */
__noinline int site_decide(struct lt_site *s, const struct site_wait *w)
{
	if (!s || !w)
		return LT_SITE_LOOP;
	if (!s->sp) {
		/* the callback's wait the thread was blocked in at attach returns */
		if (s->nested_sp && w->sp == s->nested_sp && w->ip == s->nested_ip)
			return LT_SITE_NESTED;
		site_learn(s, w);
		return LT_SITE_LOOP;
	}
	/* the thread exec'd another program: what ran across the exec was no iteration */
	if (s->mm != w->mm) {
		site_learn(s, w);
		return LT_SITE_MOVED;
	}
	if (s->file) {
		if (w->file == s->file)
			return site_again(s, w);
		/* the loop was closed (the same frame may run a new one, asyncio.run() again) */
		if (w->site_file != s->file) {
			site_learn(s, w);
			return LT_SITE_MOVED;
		}
	} else if (w->ip == s->ip && w->sp == s->sp) {
		return site_again(s, w);
	} else if (w->nr == s->nr) {
		/* a loop passes the same fd buffer every time; a callback its own */
		if (s->buf && w->buf) {
			if (w->buf == s->buf)
				return site_again(s, w);
		} else if (w->sp + SITE_SP_SLACK >= s->sp && w->sp <= s->sp + SITE_SP_SLACK) {
			return site_again(s, w);
		}
	}
	if (w->sp > s->sp && s->seen < 2) {
		site_learn(s, w);
		return LT_SITE_NEW;
	}
	/* a nested loop on its own epoll fd while the loop's is open: nested, however often */
	if (!w->returned || (s->file && w->sp < s->sp))
		return LT_SITE_NESTED;
	if (s->other && s->other_sp == w->sp && s->other_ip == w->ip) {
		s->other++;
	} else {
		s->other_sp = w->sp;
		s->other_ip = w->ip;
		s->other = 1;
	}
	if (s->other < LT_SITE_RELEARN)
		return LT_SITE_NESTED;
	site_learn(s, w);
	return LT_SITE_NEW;
}

/*
 * site_decide() for wait call `nr` of `task` (its saved user registers say
 * from where). The loop's own wait seen again from the same place, the
 * common case, is decided here and walks no fd table; a stall's end
 * (long_busy) checks that an epoll loop is still there.
 */
static __always_inline __u32 site_classify(struct lt_site *s, __u32 nr, struct task_struct *task,
					   bool returned, bool long_busy)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct site_wait w = {};

	if (!regs)
		return LT_SITE_LOOP;
	w.sp = regs->sp;
	w.ip = regs->ip;
	w.fd = wait_takes_loop_fd(nr) ? (__s32)regs->di : -1;
	w.mm = (__u64)task->mm;
	w.nr = nr;
	w.returned = returned;
	if (s->sp && w.sp == s->sp && w.ip == s->ip && w.fd == s->fd && w.mm == s->mm &&
	    (!long_busy || !s->file)) {
		s->other = 0;
		if (returned && s->seen < 0xffff)
			s->seen++;
		return LT_SITE_LOOP;
	}
	w.buf = wait_buffer(nr, regs);
	w.file = (__u64)fd_file(task, w.fd);
	if (s->file)
		w.site_file = (__u64)fd_file(task, s->fd);
	return site_decide(s, &w);
}

/*
 * The busy period running when the thread exits outlived its loop: the
 * loop's epoll fd is closed, or the thread exits from a frame shallower
 * than the loop's wait (main returned after the loop did). A callback that
 * calls exit() does so from deeper than the loop's wait.
 */
static __always_inline bool loop_gone_at_exit(struct lt_thread *t, struct task_struct *task)
{
	struct pt_regs *regs;

	if (t->flags & LT_THR_LOOP_GONE)
		return true;
	if (!t->site.sp)
		return false;
	if (site_gone(&t->site, task))
		return true;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	return regs && BPF_CORE_READ(regs, sp) > t->site.sp;
}

/* The wait calls by enum lt_wait: bit i of waits_seen is wait_nrs[i]'s. */
static const __u32 wait_nrs[LT_WAIT_COUNT] = LT_WAIT_NRS;

static __always_inline __u32 wait_bit(long nr)
{
	__u32 i;

	for (i = 0; i < LT_WAIT_COUNT; i++)
		if (wait_nrs[i] == nr)
			return 1u << i;
	return 0;
}

/*
 * A thread of a target waits in loop wait call nr (returned from it, or
 * blocks in it): user space hooks only the calls in waits_seen. Read first:
 * the common case writes nothing shared. Not atomic (that takes BPF v3): a
 * bit lost to a race is set again the next time.
 */
static __always_inline void see_wait(long nr)
{
	__u32 bit = wait_bit(nr);

	if (!(waits_seen & bit))
		waits_seen |= bit;
}

/* __schedule has dequeued a task that blocks (or, with delayed dequeue, marked it so). */
static __always_inline bool blocks(struct task_struct *task)
{
	return task->__state != TASK_RUNNING && (!task->on_rq || se_delayed(task));
}

/*
 * A thread of a target that is no loop thread yet blocks: if in a loop's
 * wait call, that call gets hooked, and the thread's next return from it
 * makes it a loop thread. The syscall number alone (blocked_in also reads
 * the caller's code): this runs at every block of every such thread.
 */
static __always_inline void note_wait_block(struct task_struct *task)
{
	struct pt_regs *regs;
	long nr;

	if (!blocks(task))
		return;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs)
		return;
	nr = BPF_CORE_READ(regs, orig_ax);
	if (wait_bit(nr) && is_loop_wait(nr, task))
		see_wait(nr);
}

/*
 * A wait returned: the busy period before it ends (unless the wait blocked,
 * which ended it at the switch-out, see cpu_switch) and the next begins.
 * There is no hook on entering a wait: processes that are not traced pay
 * for one tracepoint per wait instead of two. A wait that returns at once
 * took microseconds, so ending the period at its return is as good.
 */
static __always_inline int wait_exit(__u32 nr)
{
	__u64 id = bpf_get_current_pid_tgid(), now;
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct task_struct *task;
	struct lt_target *tg;
	struct lt_thread *t;
	__u32 verdict;

	/* every process on the machine comes here: most leave after one byte */
	if (!tgid_filter[tgid & LT_TGID_FILTER_MASK])
		return 0;
	tg = traced(tgid, tid);
	if (!tg)
		return 0;
	task = bpf_get_current_task_btf();
	if (!is_loop_wait(nr, task))
		return 0;
	t = thread_get_or_create(tgid, tid);
	if (!t)
		return 0;
	now = bpf_ktime_get_ns();
	settle(t, task);
	verdict = site_classify(&t->site, nr, task, true,
				t->cur.start_ns && now - t->cur.start_ns >= tg->threshold_ns);
	/* a wait inside a callback: the busy period goes on */
	if (verdict == LT_SITE_NESTED)
		return 0;
	see_wait(nr);
	if (verdict == LT_SITE_MOVED) {
		/* the old loop was closed: what ran since was no iteration of it */
		busy_drop(t);
	} else if (t->cur.start_ns) {
		/*
		 * No switch-out ended the period, but the thread did block:
		 * before its context-switch event was open (a thread just
		 * created, or one whose event was reopened), the block may have
		 * been in the wait itself.
		 */
		switches_resync(t);
		if (t->flags & LT_THR_UNSEEN)
			unseen_end(t, tg, task, now);
		else if (!(t->flags & LT_THR_SWITCHES) && task->nvcsw != t->nvcsw_start)
			busy_drop(t);
		else
			busy_end(t, tg, task, now, 0);
	}
	if (!t->first_seen_ns)
		t->first_seen_ns = now;
	/* the counters only: slots are zeroed as they are taken (lt_slot_claim) */
	__builtin_memset(&t->cur, 0, offsetof(struct lt_busy, slots));
	t->cur.start_ns = now;
	live_set(t, now);
	t->nvcsw_start = task->nvcsw;
	t->nivcsw_start = task->nivcsw;
	/* its context-switch event is closed: this period's blocks go unseen */
	t->follow_ns = 0;
	if (t->live_slot < LT_MAX_THREADS && live[t->live_slot].lean)
		t->flags |= LT_THR_UNSEEN;
	else
		t->flags &= ~LT_THR_UNSEEN;
	t->cur.maj_flt_start = task->maj_flt;
	t->cur.exec_start = task->se.sum_exec_runtime;
	if (bpf_core_field_exists(task->sched_info.run_delay))
		t->cur.run_delay_start = task->sched_info.run_delay;
	return 0;
}

/*
 * One program on the exit tracepoint of each wait call some loop waits in:
 * user space attaches it itself, only to those (waitcalls.c). One program
 * rather than one per call: the verifier checks it once at load, not eight
 * times (~50 ms of every attach); the call is the tracepoint's syscall number.
 */
SEC("tracepoint")
int exit_wait(struct trace_event_raw_sys_exit *ctx)
{
	return wait_exit((__u32)ctx->id);
}

/*
 * A block inside a busy period, at its switch-out: the thread's stack and
 * Python frames (its memory is the current one only now) and what the call
 * waits on. A global function, like site_decide(): the verifier checks it
 * once on its own instead of along every path of cpu_switch that reaches
 * it, which was most of the agent's load time (70 ms of verification for
 * cpu_switch alone on the development VM).
 */
__noinline int block_capture(struct lt_thread *t, __u32 nr, __s32 fd, __u64 now)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct lt_stack_rec *stack;

	if (!t)
		return 0;
	stack = pending_stack(t->tid, true);
	if (stack) {
		copy_user_stack(stack, task);
		py_walk(stack, task);
		stack->type = LT_REC_STACK;
		stack->pid = t->pid;
		stack->tid = t->tid;
		stack->nr = nr;
		stack->fd = fd;
		stack->busy_start_ns = t->cur.start_ns;
		stack->time_ns = now;
	}
	target_capture(t, task, nr, fd);
	return 0;
}

/*
 * At a switch-out inside a busy period: note when and why (preempted, or
 * blocked in which call, with its stack). Runs in the loop thread's context,
 * from its own context-switch perf event, before the switch.
 */
SEC("perf_event")
int cpu_switch(struct bpf_perf_event_data *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), nr = LT_NR_NONE;
	struct task_struct *task;
	struct lt_target *tg;
	struct lt_thread *t;
	__u32 verdict;
	__s32 fd = -1;
	bool blocked;
	__u64 now;

	t = bpf_map_lookup_elem(&threads, &tid);
	if (!t) {
		note_wait_block(bpf_get_current_task_btf());
		return 0;
	}
	/* its switches are seen: wait_exit can trust that a block it did not see was none */
	t->flags |= LT_THR_SWITCHES;
	task = bpf_get_current_task_btf();
	settle(t, task);
	if (!t->cur.start_ns)
		return 0;
	now = bpf_ktime_get_ns();
	/* one preempted before it could block stays queued */
	blocked = blocks(task);
	if (blocked) {
		blocked_in(task, &nr, &fd);
		/* blocking in the loop's wait ends the busy period: nothing to settle later */
		if (nr != LT_NR_NONE && is_loop_wait(nr, task)) {
			tg = traced(t->pid, tid);
			verdict = site_classify(&t->site, nr, task, false,
						tg && now - t->cur.start_ns >= tg->threshold_ns);
			if (verdict != LT_SITE_NESTED) {
				/* a loop that moved to a call not hooked yet */
				see_wait(nr);
				if (tg && verdict != LT_SITE_MOVED)
					busy_end(t, tg, task, now, 0);
				else
					busy_drop(t);
				return 0;
			}
		}
	}
	t->out_ns = now;
	/* __schedule just updated it; sched_info.last_arrival is taken with it */
	t->out_rq = out_rq_clock(task);
	t->out_exec = task->se.sum_exec_runtime;
	t->out_pcount = 0;
	if (bpf_core_field_exists(task->sched_info.pcount))
		t->out_pcount = task->sched_info.pcount;
	if (!blocked) {
		t->out_kind = LT_OUT_PREEMPTED;
		t->cur.nivcsw++;
		return 0;
	}
	t->out_kind = LT_OUT_BLOCKED;
	t->out_nr = nr;
	t->out_fd = fd;
	t->out_newcall = 1;
	if (nr != LT_NR_NONE) {
		__u64 w = call_witness(task, nr, fd);

		t->out_newcall = w != t->call_witness || t->call_busy != t->cur.start_ns;
		t->call_witness = w;
		t->call_busy = t->cur.start_ns;
	}
	t->cur.nvcsw++;
	block_capture(t, nr, fd, now);
	return 0;
}

/* Per-thread task-clock perf event (user space opens one per loop thread). */
SEC("perf_event")
int cpu_sample(struct bpf_perf_event_data *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct lt_stack_rec *r;
	struct lt_thread *t;
	__u64 now;

	t = bpf_map_lookup_elem(&threads, &tid);
	if (!t)
		return 0;
	settle(t, bpf_get_current_task_btf());
	if (!t->cur.start_ns)
		return 0;
	now = bpf_ktime_get_ns();
	/* short busy periods are the loop working normally: nothing to sample */
	if (now - t->cur.start_ns < sample_after_ns)
		return 0;
	/* a long period whose loop was closed (the program goes on, or exits) */
	if (!(t->flags & LT_THR_LOOP_GONE) && site_gone(&t->site, bpf_get_current_task_btf()))
		loop_gone_mark(t);
	r = scratch_stack();
	if (!r)
		return 0;
	copy_user_stack(r, bpf_get_current_task_btf());
	py_walk(r, bpf_get_current_task_btf());
	r->type = LT_REC_CPU_SAMPLE;
	r->pid = t->pid;
	r->tid = tid;
	r->nr = LT_NR_NONE;
	r->fd = -1;
	r->busy_start_ns = t->cur.start_ns;
	r->blocked_ns = 0;
	r->time_ns = now;
	send_stack(r);
	return 0;
}

/* The thread follow_seed looks at: set by user space before each read of its iterator. */
__u32 follow_tid;

#define ENOSYS 38

/*
 * User space just reopened the context-switch event of a lean loop thread
 * whose busy period runs long (thread_events.h): from now on its switch-outs
 * are seen, but the thread may be blocked in a call it entered before, and
 * no switch-out of that call will come. A task iterator, run once from the
 * agent, reads the thread as the switch-out would have:
 * - blocked in the loop's own wait: the loop is idle, the period ended when
 *   it blocked there (its length from the CPU time, frozen since);
 * - blocked in any other call: that block is pending, from its switch-out
 *   (the last arrival plus the CPU time of the slice that followed) to the
 *   next arrival, settled as any other; user space takes its stack and
 *   target from the registers written out here;
 * - running: nothing is pending.
 * The thread may wake while this runs: its switch-in count is read around
 * the reads, and a change leaves the block unseen (in the kernel's totals).
 */
SEC("iter/task")
int follow_seed(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct lt_follow_rec rec = {};
	__u64 now, pcount, arrival, cpu, prev;
	struct lt_target *tg;
	struct pt_regs *regs;
	struct lt_thread *t;
	__u32 tid;
	long nr;

	if (!task || task->pid != follow_tid)
		return 0;
	tid = task->pid;
	t = bpf_map_lookup_elem(&threads, &tid);
	if (!t)
		return 0;
	rec.tid = tid;
	rec.fd = -1;
	rec.nr = LT_NR_NONE;
	rec.busy_start_ns = t->cur.start_ns;
	now = bpf_ktime_get_ns();
	/* its event is open again: a block wait_exit did not see from now on was none */
	t->flags |= LT_THR_SWITCHES;
	/*
	 * A period that began before the event closed (user space set
	 * `resync` then) is as unseen from the close on as one that began
	 * lean: it is judged the same way from here.
	 */
	if (t->cur.start_ns && t->live_slot < LT_MAX_THREADS && live[t->live_slot].resync) {
		live[t->live_slot].resync = 0;
		t->flags |= LT_THR_UNSEEN;
		t->follow_ns = 0;
	}
	if (!t->cur.start_ns || !(t->flags & LT_THR_UNSEEN) || t->follow_ns)
		goto out;
	t->follow_ns = now;
	/* a block seen before the event closed is still pending: settle() ends it */
	if (t->out_ns)
		goto out;
	if (task->__state == TASK_RUNNING || task->on_cpu ||
	    !bpf_core_field_exists(task->sched_info.pcount)) {
		rec.state = LT_FOLLOW_RUNNING;
		goto out;
	}
	pcount = task->sched_info.pcount;
	arrival = task->sched_info.last_arrival;
	cpu = task->se.sum_exec_runtime;
	prev = task->se.prev_sum_exec_runtime;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs)
		goto out;
	/* inside a syscall the entry code leaves -ENOSYS in ax until it returns */
	nr = BPF_CORE_READ(regs, orig_ax);
	if (nr < 0 || nr >= 1024 || BPF_CORE_READ(regs, ax) != (__u64)-ENOSYS)
		nr = LT_NR_NONE;
	rec.nr = (__u32)nr;
	if (rec.nr != LT_NR_NONE && lt_syscall_takes_fd(rec.nr))
		rec.fd = (__s32)BPF_CORE_READ(regs, di);
	user_regs_read(regs, rec.regs);
	rec.fsbase = BPF_CORE_READ(task, thread.fsbase);
	/* it ran meanwhile: what was read may mix two states */
	if (task->sched_info.pcount != pcount) {
		rec.state = LT_FOLLOW_RUNNING;
		goto out;
	}
	if (rec.nr != LT_NR_NONE && is_loop_wait(rec.nr, task) &&
	    site_classify(&t->site, rec.nr, task, false, true) != LT_SITE_NESTED) {
		rec.state = LT_FOLLOW_IDLE;
		tg = traced(t->pid, tid);
		if (tg)
			unseen_end_at(t, tg, task, unseen_length(t, task, cpu));
		else
			busy_drop(t);
		goto out;
	}
	rec.state = LT_FOLLOW_BLOCKED;
	t->out_rq = arrival + (cpu > prev ? cpu - prev : 0);
	t->out_exec = cpu;
	t->out_pcount = pcount;
	t->out_kind = LT_OUT_BLOCKED;
	t->out_nr = rec.nr;
	t->out_fd = rec.fd;
	t->out_newcall = 1;
	t->cur.nvcsw++;
	/* last: settle() looks at out_ns first */
	t->out_ns = now;
out:
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}

/*
 * Threads that were running when the agent attached, each to be sampled
 * once (value: the attach time, the busy period's start if it is one):
 * user space opens a task-clock event on each with attach_sample and judges
 * the stack from the sample whether the thread is inside a callback.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} attach_probes SEC(".maps");

SEC("perf_event")
int attach_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct task_struct *task;
	struct lt_stack_rec *r;
	__u64 *start, busy_start;

	start = bpf_map_lookup_elem(&attach_probes, &tid);
	if (!start)
		return 0;
	busy_start = *start;
	/* once: a later sample of the same event finds nothing */
	bpf_map_delete_elem(&attach_probes, &tid);
	r = scratch_stack();
	if (!r)
		return 0;
	task = bpf_get_current_task_btf();
	copy_user_stack(r, task);
	py_walk(r, task);
	r->type = LT_REC_ATTACH_SAMPLE;
	r->pid = id >> 32;
	r->tid = tid;
	r->nr = LT_NR_NONE;
	r->fd = -1;
	r->busy_start_ns = busy_start;
	r->blocked_ns = 0;
	r->time_ns = bpf_ktime_get_ns();
	send_stack(r);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	struct lt_target *tg, copy;
	struct lt_fork_rec *rec;

	tg = bpf_map_lookup_elem(&targets, &ptgid);
	/* a new thread shares the tgid: user space follows its context switches */
	if (ptgid == ctgid) {
		if (tg && !tg->only_tid)
			announce_thread(LT_REC_THREAD_CLONE, ctgid, child->pid, 0);
		return 0;
	}
	if (!tg || !(tg->flags & LT_TARGET_FOLLOW_FORKS))
		return 0;
	copy = *tg;
	copy.only_tid = 0;
	tgid_filter[ctgid & LT_TGID_FILTER_MASK] = 1;
	bpf_map_update_elem(&targets, &ctgid, &copy, BPF_ANY);
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count(LT_CNT_LOST);
		return 0;
	}
	rec->type = LT_REC_PROC_FORK;
	rec->parent_pid = ptgid;
	rec->child_pid = ctgid;
	rec->pad = 0;
	bpf_ringbuf_submit(rec, 0);
	return 0;
}

/* A loop thread exits: an unfinished stall is cut short; hand over its totals. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *p)
{
	__u32 tid = p->pid, tgid = p->tgid, slot;
	struct lt_thread_exit_rec *rec;
	struct lt_target *tg;
	struct lt_thread *t;
	__u64 now;

	t = bpf_map_lookup_elem(&threads, &tid);
	if (!t) {
		/* user space closes the perf events it had opened on it */
		if (bpf_map_lookup_elem(&targets, &tgid))
			announce_thread(LT_REC_THREAD_GONE, tgid, tid, 0);
		return 0;
	}
	now = bpf_ktime_get_ns();
	/* p is current: its last off-CPU interval, if it had one, ended */
	settle(t, p);
	tg = bpf_map_lookup_elem(&targets, &tgid);
	/* only a thread that finished an iteration has shown it is a loop */
	if (tg && t->iterations && t->cur.start_ns && now - t->cur.start_ns >= tg->threshold_ns)
		busy_end(t, tg, p, now,
			 LT_STALL_CUT_SHORT | (loop_gone_at_exit(t, p) ? LT_STALL_LOOP_GONE : 0));
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (rec) {
		rec->type = LT_REC_THREAD_EXIT;
		rec->pad = 0;
		rec->exit_ns = now;
		bpf_probe_read_kernel_str(rec->comm, sizeof(rec->comm), p->comm);
		/* too large for an inlined memcpy */
		bpf_probe_read_kernel(&rec->thread, sizeof(rec->thread), t);
		bpf_ringbuf_submit(rec, 0);
	} else {
		count(LT_CNT_LOST);
	}
	slot = t->live_slot;
	bpf_map_delete_elem(&threads, &tid);
	if (slot < LT_MAX_THREADS) {
		live[slot].tid = 0;
		live[slot].start_ns = 0;
		bpf_map_push_elem(&free_slots, &slot, 0);
	}
	/* the pending stack goes with the thread, or the map fills with the dead */
	bpf_map_delete_elem(&pending_stacks, &tid);
	bpf_map_delete_elem(&pending_targets, &tid);
	return 0;
}
