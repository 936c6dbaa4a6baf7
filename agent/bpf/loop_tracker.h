/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The contract between loop_tracker.bpf.c and user space: map values and
 * ring-buffer records. Fixed-width types only, explicit padding, no pointers,
 * so both compilers lay the structs out identically (sizes are asserted on
 * the user side in agent/src/stall.c).
 */
#ifndef LOOPSTALL_LOOP_TRACKER_H
#define LOOPSTALL_LOOP_TRACKER_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Distinct (syscall, fd) pairs kept per busy period; the rest go to the last slot. */
#define LT_MAX_SLOTS 8
/* Busy-period histogram: log-linear, LT_HIST_SUB sub-buckets per power of two. */
#define LT_HIST_SUB_BITS 4
#define LT_HIST_SUB (1u << LT_HIST_SUB_BITS)
/* Values below 2^LT_HIST_MIN_SHIFT ns (1.024 us) share bucket 0. */
#define LT_HIST_MIN_SHIFT 10
/* Up to 2^40 ns (~18 min); larger values land in the last bucket. */
#define LT_HIST_MAX_SHIFT 40
/* bucket 0: below the minimum; the last bucket: at or above the maximum */
#define LT_HIST_BUCKETS ((LT_HIST_MAX_SHIFT - LT_HIST_MIN_SHIFT) * LT_HIST_SUB + 2)

/* Pseudo syscall numbers for off-CPU time outside a syscall. */
#define LT_NR_NONE 0xffffu  /* blocked outside a syscall (page fault, ...) */
#define LT_NR_OTHER 0xfffeu /* overflow slot: more distinct calls than slots */

/*
 * The wait calls a loop can wait in, one exit tracepoint each. Bit 1 << i of
 * `waits_seen` (in .bss) is set once a traced loop was seen returning from
 * wait call i: user space keeps hooked only the calls some loop uses (see
 * waitcalls.h), so other processes' calls run no program.
 */
enum lt_wait {
	LT_WAIT_EPOLL_WAIT,
	LT_WAIT_EPOLL_PWAIT,
	LT_WAIT_EPOLL_PWAIT2,
	LT_WAIT_POLL,
	LT_WAIT_PPOLL,
	LT_WAIT_SELECT,
	LT_WAIT_PSELECT6,
	LT_WAIT_IO_URING_ENTER,
	LT_WAIT_COUNT,
};
#define LT_WAIT_ALL ((1u << LT_WAIT_COUNT) - 1)
/*
 * The syscall of each enum lt_wait, as an array initializer for both sides:
 * x86-64 numbers, since BPF includes no libc header (test_waitplan holds
 * them to <sys/syscall.h>).
 */
#define LT_WAIT_NRS                                                                                \
	{                                                                                          \
		[LT_WAIT_EPOLL_WAIT] = 232, [LT_WAIT_EPOLL_PWAIT] = 281,                           \
		[LT_WAIT_EPOLL_PWAIT2] = 441, [LT_WAIT_POLL] = 7, [LT_WAIT_PPOLL] = 271,           \
		[LT_WAIT_SELECT] = 23, [LT_WAIT_PSELECT6] = 270, [LT_WAIT_IO_URING_ENTER] = 426,   \
	}

/* targets map value flags */
#define LT_TARGET_FOLLOW_FORKS 0x1u

/*
 * .bss tgid_filter[tgid & LT_TGID_FILTER_MASK] is non-zero for every
 * target's tgid (and for whatever else lands on the same byte). Every wait
 * call on the machine checks it before looking up `targets`: a byte load
 * instead of a hash lookup for the processes that are not traced. Bytes,
 * not bits: setting one is a plain store, no update can be lost.
 */
#define LT_TGID_FILTER 4096
#define LT_TGID_FILTER_MASK (LT_TGID_FILTER - 1)

/* record types on the ring buffer */
enum lt_record_type {
	LT_REC_STALL = 1,	 /* a busy period over the threshold ended */
	LT_REC_THREAD_EXIT = 2,	 /* a loop thread exited: its final counters */
	LT_REC_PROC_FORK = 3,	 /* a traced process forked a followed child */
	LT_REC_THREAD_NEW = 4,	 /* a loop thread was seen for the first time */
	LT_REC_STACK = 5,	 /* user stack of a long block inside a busy period */
	LT_REC_CPU_SAMPLE = 6,	 /* user stack sampled on CPU in a long busy period */
	LT_REC_THREAD_CLONE = 7, /* a traced process created a thread (lt_thread_new_rec) */
	LT_REC_THREAD_GONE = 8,	 /* a thread of a traced process that was no loop thread exited */
	LT_REC_TARGET = 9, /* what a long block inside a busy period waited on (lt_target_rec) */
	/* lt_stack_rec: one sample of a thread that was running at attach (attach_probes) */
	LT_REC_ATTACH_SAMPLE = 10,
};

/*
 * User stacks are copied raw (registers + the top of the stack) and unwound
 * in user space with DWARF CFI, as perf --call-graph dwarf does: Debian's
 * libc has no frame pointers, so in-kernel frame-pointer walks stop at it.
 */
#define LT_STACK_MAX 32768 /* largest copy the records can hold */
#define LT_STACK_CHUNK 512 /* copied chunk by chunk: a read past the stack's end fails whole */
#define LT_NREGS 17	   /* x86-64 DWARF registers 0..16 (rax..r15, rip) */

/* stall record flags */
#define LT_STALL_CUT_SHORT 0x1u	   /* the thread exited before the period ended */
#define LT_STALL_KERNEL_TIMES 0x2u /* exec_ns and run_delay_ns are valid */
/*
 * The loop's own wait was gone when the period ended (its epoll fd closed,
 * or the thread exited from a frame outside the loop): the process's exit
 * after its loop returned, not a loop stall.
 */
#define LT_STALL_LOOP_GONE 0x4u
/*
 * The period was running when the agent attached (agent/src/inflight.c):
 * it began before start_ns, which is the attach time; its duration is a
 * lower bound.
 */
#define LT_STALL_BEFORE_ATTACH 0x8u
/*
 * The period began while the loop ran lean (its context-switch event closed,
 * lt_live.lean): blocks in its first milliseconds, before the agent followed
 * the thread again, are in the kernel's totals only, not in the slots.
 */
#define LT_STALL_PART_UNSEEN 0x10u

struct lt_target {
	__u64 threshold_ns; /* a busy period this long is a stall */
	__u32 flags;	    /* LT_TARGET_* */
	__u32 only_tid;	    /* 0: every thread of the process */
};

struct lt_slot {
	__u32 nr; /* syscall number, LT_NR_NONE or LT_NR_OTHER */
	__s32 fd; /* first argument of fd-based calls, else -1 */
	__u32 count;
	__u32 pad;
	__u64 total_ns;
	__u64 max_ns;
};

/* What one busy period accumulated so far. */
struct lt_busy {
	__u64 start_ns;	 /* return from the wait; 0 while waiting */
	__u64 offcpu_ns; /* voluntary switch-out to switch-in (with the wait for a CPU after wakeup)
			  */
	__u64 runq_ns;	 /* preempted: involuntary switch-out to switch-in */
	__u64 maj_flt_start;
	__u64 exec_start;      /* task's se.sum_exec_runtime at start */
	__u64 run_delay_start; /* task's sched_info.run_delay at start */
	__u32 nvcsw;
	__u32 nivcsw;
	__u32 nr_slots;
	__u32 pad;
	/* only the first nr_slots are this period's: the rest are stale */
	struct lt_slot slots[LT_MAX_SLOTS];
};

/*
 * The loop's own wait, learnt per thread: a loop waits from the same frame
 * every iteration (same user sp and ip at the syscall), a wait inside a
 * callback (poll under a socket timeout, a nested loop's epoll_wait) from
 * deeper in the stack. Any wait that is not the site is a blocking call of
 * the busy period. See loop_tracker.bpf.c, site_*().
 */
struct lt_site {
	__u64 sp;    /* user stack pointer at the syscall; 0: nothing learnt yet */
	__u64 ip;    /* user instruction pointer after the syscall instruction */
	__u64 file;  /* kernel address of its epoll/io_uring fd's struct file, 0: none */
	__u64 buf;   /* poll/ppoll: the pollfd array it passes, else 0 */
	__u64 mm;    /* the address space it was learnt in: an exec starts over */
	__s32 fd;    /* that fd, -1: none (poll, select) */
	__u32 nr;    /* the syscall */
	__u32 seen;  /* returns from the site since it was learnt (saturates) */
	__u32 other; /* consecutive returns from one other wait (other_sp, other_ip) */
	__u64 other_sp;
	__u64 other_ip;
	/*
	 * A wait the agent found the thread blocked in at attach, inside a
	 * callback (inflight.c): while nothing is learnt, a return from this
	 * sp and ip is a blocking call of the period, not the loop's wait.
	 */
	__u64 nested_sp;
	__u64 nested_ip;
};

/* How a wait call relates to the thread's learnt site (site_classify). */
enum lt_site_verdict {
	LT_SITE_LOOP = 0,   /* the loop's own wait: the busy period ends */
	LT_SITE_NESTED = 1, /* a wait inside the busy period: a blocking call */
	LT_SITE_NEW = 2,    /* the loop's wait moved here (relearnt): the busy period ends */
	LT_SITE_MOVED = 3,  /* the old site is gone (its fd closed): the period is dropped */
};

/* Per loop-thread state, the value of the `threads` map (key: tid). */
struct lt_thread {
	__u32 pid;
	__u32 tid;
	__u64 first_seen_ns; /* first return from a wait */
	__u64 iterations;    /* completed busy periods */
	__u64 busy_ns;	     /* their total */
	__u64 max_busy_ns;
	__u64 stalls;
	/*
	 * The last switch-out inside a busy period, until the thread's next
	 * event settles it (BPF sees switch-outs only; see loop_tracker.bpf.c).
	 */
	__u64 out_ns;	  /* switch-out time, 0 when nothing is pending */
	__u64 out_rq;	  /* the run queue's clock then (sched_info's time base) */
	__u64 out_exec;	  /* the task's se.sum_exec_runtime then */
	__u64 out_pcount; /* the task's sched_info.pcount then: it changes once it runs again */
	__u32 out_kind;	  /* LT_OUT_* */
	__u32 out_nr;	  /* syscall it blocked in */
	__s32 out_fd;
	__u32 flags;	    /* LT_THR_* */
	__u32 live_slot;    /* its entry in `live`, LT_SLOT_NONE if none was free */
	__u32 out_newcall;  /* the pending block is a call's first (see call_witness) */
	__u64 nvcsw_start;  /* the task's voluntary switches when the busy period began */
	__u64 nivcsw_start; /* and its involuntary ones (preemptions) */
	/*
	 * A busy period that began while the thread's context-switch event was
	 * closed (LT_THR_UNSEEN): when its switches began to be followed
	 * again (follow_seed), 0 while they are not.
	 */
	__u64 follow_ns;
	__u64 call_witness;  /* of the last block in a syscall (see call_witness) */
	__u64 call_busy;     /* the busy period that block was in */
	struct lt_site site; /* where the loop itself waits */
	struct lt_busy cur;
	__u32 hist[LT_HIST_BUCKETS];
};

/* lt_thread flags */
#define LT_THR_SWITCHES 0x2u	  /* its context-switch event has fired: its blocks are seen */
#define LT_THR_LOOP_GONE 0x4u	  /* the running busy period outlived the loop's wait (site_gone) */
#define LT_THR_BEFORE_ATTACH 0x8u /* the running busy period began before attach (inflight.c) */
/*
 * The running busy period began while the thread's context-switch event was
 * closed (lt_live.lean): its blocks before follow_ns were not seen one by one.
 */
#define LT_THR_UNSEEN 0x10u
/* A confirmed site gives way to another wait that returns this many times in a row. */
#define LT_SITE_RELEARN 16

enum lt_out_kind {
	LT_OUT_NONE = 0,
	LT_OUT_BLOCKED = 1,
	LT_OUT_PREEMPTED = 2,
};

struct lt_stall_rec {
	__u32 type; /* LT_REC_STALL */
	__u32 flags;
	__u32 pid;
	__u32 tid;
	char comm[16];
	__u64 end_ns;
	__u64 maj_flt;
	/*
	 * The kernel's own accounting over the period: CPU time (stale by up
	 * to a tick) and run-queue wait, exact. They do not depend on seeing
	 * every switch, so user space checks the switch-by-switch split with them.
	 */
	__u64 exec_ns;
	__u64 run_delay_ns;
	struct lt_busy busy;
};

struct lt_thread_exit_rec {
	__u32 type; /* LT_REC_THREAD_EXIT */
	__u32 pad;
	__u64 exit_ns;
	char comm[16];
	struct lt_thread thread;
};

/* LT_REC_THREAD_NEW, LT_REC_THREAD_CLONE, LT_REC_THREAD_GONE */
struct lt_thread_new_rec {
	__u32 type;
	__u32 pid;
	__u32 tid;
	__u32 slot; /* LT_REC_THREAD_NEW: its `live` entry (or LT_SLOT_NONE), else 0 */
};

/*
 * What user space needs to see stalls in progress, one entry per loop thread
 * in a global array it reads through a memory mapping: no syscall per thread
 * per scan. BPF takes a free index from the `free_slots` queue when it first
 * sees a loop thread; user space gives it back when the thread is gone.
 */
#define LT_MAX_THREADS 4096 /* the size of the `threads` map too */
#define LT_SLOT_NONE 0xffffffffu

struct lt_live {
	__u64 start_ns;	  /* the busy period running now (as lt_busy.start_ns), 0: waiting */
	__u64 iterations; /* as lt_thread.iterations */
	__u32 pid;
	__u32 tid;	 /* 0: the entry is free */
	__u32 loop_gone; /* the loop's own wait is gone: the period is no loop stall */
	/*
	 * Set by user space when it closed and reopened the thread's
	 * context-switch event (thread_events.h: it retired a thread that had
	 * just become a loop thread): switches in between went unseen. The
	 * thread's next wait return treats its period as one whose blocks may
	 * be missing, and clears it.
	 */
	__u32 resync;
	/*
	 * Set by user space while the thread's context-switch event is closed
	 * because the loop iterates fast and briefly (thread_events.h, "lean"):
	 * each busy period is timed from the task's own CPU and scheduling
	 * counters at the next return from the wait, until a period runs long
	 * and user space follows the thread again (follow_seed).
	 */
	__u32 lean;
	__u32 pad;
};

/*
 * CPython frames, read by BPF next to the native stack (pyframes.bpf.h):
 * the interpreter's own frame chain of the current thread, innermost first,
 * as (code object address, instruction index) pairs. User space reads the
 * code objects (name, file, line table) and places each run of frames at the
 * native _PyEval_EvalFrameDefault call that executes it.
 */
#define LT_PY_MAX_FRAMES 64
#define LT_PY_ENTRY 0x1u /* the outermost frame of one native _PyEval_EvalFrameDefault call */
#define LT_PY_NO_LASTI 0xffffffffu

enum lt_py_status {
	LT_PY_NONE = 0,	       /* no interpreter known in this process */
	LT_PY_OK = 1,	       /* the whole chain is in frames[] (may be empty) */
	LT_PY_TRUNCATED = 2,   /* more frames than fit: the outermost are missing */
	LT_PY_NO_THREAD = 3,   /* no thread state for this thread (not a Python thread) */
	LT_PY_READ_FAILED = 4, /* a read of the target's memory failed mid-chain */
};

struct lt_py_frame {
	__u64 code;  /* PyCodeObject * */
	__u32 lasti; /* instruction index in code units, or LT_PY_NO_LASTI */
	__u32 flags; /* LT_PY_ENTRY */
	__u64 frame; /* the frame's address: names the coroutine it runs (pytask.h) */
};

struct lt_py_stack {
	__u32 n;
	__u32 status; /* enum lt_py_status */
	struct lt_py_frame frames[LT_PY_MAX_FRAMES];
};

/* How the frame chain is linked, per CPython version. */
enum lt_py_chain {
	LT_PY_CHAIN_FRAMEOBJ = 1, /* 3.10: PyFrameObject.f_back, f_lasti */
	LT_PY_CHAIN_CFRAME = 2, /* 3.11, 3.12: tstate->cframe->current_frame, _PyInterpreterFrame */
	LT_PY_CHAIN_DIRECT = 3, /* 3.13: tstate->current_frame */
};
#define LT_PY_NO_FIELD 0xffffu
#define LT_PY_FRAME_READ 104 /* bytes of a frame read at once: every field used lies below */

/*
 * Value of the `py_procs` map (key: tgid), set by user space for a process
 * that runs CPython: where _PyRuntime is and the offsets of its version.
 */
struct lt_py_proc {
	__u64 runtime;	      /* address of _PyRuntime */
	__u32 chain;	      /* enum lt_py_chain */
	__u16 runtime_interp; /* _PyRuntimeState.interpreters.head */
	__u16 interp_next;
	__u16 interp_threads; /* PyInterpreterState's first thread state */
	__u16 tstate_next;
	__u16 tstate_thread_id; /* PyThread_get_thread_ident(): pthread_self(), the fs base */
	__u16 tstate_frame;	/* frame, cframe or current_frame (enum lt_py_chain) */
	__u16 cframe_current;	/* _PyCFrame.current_frame */
	__u16 frame_back;	/* f_back or previous */
	__u16 frame_code;	/* f_code or f_executable */
	__u16 frame_instr;	/* f_lasti (int), prev_instr or instr_ptr */
	__u16 frame_entry;	/* 3.11's is_entry, else LT_PY_NO_FIELD */
	__u16 frame_owner;	/* 3.12+: owner (3: a C stack's entry shim), else LT_PY_NO_FIELD */
	__u16 code_adaptive;	/* PyCodeObject.co_code_adaptive (3.11+) */
	__u16 frame_read;	/* bytes of a frame to read, <= LT_PY_FRAME_READ */
};

/*
 * Syscalls whose first argument is the fd they wait on: a block is counted
 * per (syscall, fd), by BPF at a switch-out and by the agent at attach.
 */
static inline int lt_syscall_takes_fd(__u32 nr)
{
	switch (nr) {
	case 0:	  /* read */
	case 1:	  /* write */
	case 5:	  /* fstat */
	case 16:  /* ioctl */
	case 17:  /* pread64 */
	case 18:  /* pwrite64 */
	case 19:  /* readv */
	case 20:  /* writev */
	case 40:  /* sendfile (out_fd) */
	case 42:  /* connect */
	case 43:  /* accept */
	case 44:  /* sendto */
	case 45:  /* recvfrom */
	case 46:  /* sendmsg */
	case 47:  /* recvmsg */
	case 48:  /* shutdown */
	case 72:  /* fcntl */
	case 73:  /* flock */
	case 74:  /* fsync */
	case 75:  /* fdatasync */
	case 77:  /* ftruncate */
	case 217: /* getdents64 */
	case 275: /* splice */
	case 277: /* sync_file_range */
	case 285: /* fallocate */
	case 288: /* accept4 */
	case 295: /* preadv */
	case 296: /* pwritev */
	case 299: /* recvmmsg */
	case 306: /* syncfs */
	case 307: /* sendmmsg */
	case 326: /* copy_file_range */
	case 327: /* preadv2 */
	case 328: /* pwritev2 */
		return 1;
	}
	return 0;
}

/* LT_REC_STACK and LT_REC_CPU_SAMPLE; `size` bytes of stack follow `regs`. */
struct lt_stack_rec {
	__u32 type;
	__u32 pid;
	__u32 tid;
	__u32 nr;	     /* LT_REC_STACK: syscall blocked in (LT_NR_NONE outside one) */
	__s32 fd;	     /* LT_REC_STACK: its fd, else -1 */
	__u32 size;	     /* bytes of stack copied from regs[7] (rsp) upwards */
	__u64 busy_start_ns; /* the busy period this belongs to */
	__u64 blocked_ns;    /* LT_REC_STACK: how long this block lasted */
	__u64 time_ns;
	__u64 regs[LT_NREGS]; /* DWARF numbering: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip */
	struct lt_py_stack py;
	__u8 data[LT_STACK_MAX];
};

/*
 * What follow_seed found when user space began to follow a lean loop
 * thread again in the middle of a busy period (written to the iterator's
 * file, one record at most).
 */
enum lt_follow_state {
	LT_FOLLOW_NONE = 0,    /* nothing to add: no period runs unseen, or its block was seen */
	LT_FOLLOW_RUNNING = 1, /* on a CPU or runnable: its blocks from now on are seen */
	LT_FOLLOW_IDLE = 2, /* blocked in the loop's own wait: the period ended when it blocked */
	LT_FOLLOW_BLOCKED = 3, /* blocked inside the period (nr, fd): that block is pending */
};

struct lt_follow_rec {
	__u32 tid;
	__u32 state; /* enum lt_follow_state */
	__u32 nr;    /* LT_FOLLOW_BLOCKED: the syscall (LT_NR_NONE outside one) */
	__s32 fd;
	__u64 busy_start_ns;
	__u64 fsbase;	      /* LT_FOLLOW_BLOCKED: its fs base (CPython's thread id) */
	__u64 regs[LT_NREGS]; /* LT_FOLLOW_BLOCKED: its saved user registers (for its stack) */
};

struct lt_fork_rec {
	__u32 type; /* LT_REC_PROC_FORK */
	__u32 parent_pid;
	__u32 child_pid;
	__u32 pad;
};

/*
 * What a blocking call waited on, read at its switch-out while the thread's
 * fd table and memory are current (target_capture.bpf.h): a later close()
 * in the same callback does not lose it. `flags` says which parts are valid.
 */
#define LT_CAP_FILE 0x1u      /* mode, ino, dev, magic: the fd's file */
#define LT_CAP_INET 0x2u      /* family, sock_type, protocol, ports, addresses */
#define LT_CAP_UNIX 0x4u      /* path: the unix socket's address (its own, else its peer's) */
#define LT_CAP_DENTRIES 0x8u  /* path: the file's dentry names, leaf first, each NUL-ended */
#define LT_CAP_PATH_ARG 0x10u /* path: the call's path argument from user memory; dirfd */
#define LT_CAP_ANON 0x20u     /* path: an anonymous inode's name ("[eventfd]") */
#define LT_CAP_CUT 0x40u      /* path is incomplete (too deep, too long, unreadable) */
#define LT_CAP_SOCKADDR 0x80u /* the peer address came from connect's sockaddr argument */
#define LT_CAP_FDS 0x100u     /* fds: the first fds a poll/select waited on; nfds */

#define LT_CAP_PATH 512	     /* path buffer; names are read 256 bytes at most at offsets < 256 */
#define LT_CAP_NAME 256	     /* one dentry name (NAME_MAX + NUL) */
#define LT_CAP_DEPTH 24	     /* dentries walked towards the root, mount points included */
#define LT_CAP_FDS_MAX 4     /* poll/select fds kept */
#define LT_CAP_AT_FDCWD -100 /* dirfd meaning "the working directory" */

struct lt_capture {
	__u32 flags; /* LT_CAP_* */
	__u32 mode;  /* the inode's i_mode */
	__u64 ino;
	__u32 dev;	 /* the superblock's kernel dev_t: major << 20 | minor */
	__u32 magic;	 /* the superblock's s_magic: tells pipefs and anon inodes apart */
	__u16 family;	 /* AF_INET, AF_INET6, AF_UNIX */
	__u16 sock_type; /* SOCK_STREAM, SOCK_DGRAM, ... */
	__u16 protocol;	 /* IPPROTO_TCP, IPPROTO_UDP, ... */
	__u16 lport;	 /* host byte order; 0: none */
	__u16 rport;
	__u16 path_len; /* bytes of path used */
	__u8 laddr[16]; /* network byte order; AF_INET in the first 4 bytes */
	__u8 raddr[16];
	__s32 dirfd; /* LT_CAP_PATH_ARG: the *at call's dirfd, else LT_CAP_AT_FDCWD */
	__u32 nfds;  /* LT_CAP_FDS: how many fds the call waited on in all */
	__s32 fds[LT_CAP_FDS_MAX];
	char path[LT_CAP_PATH];
};

/* LT_REC_TARGET: sent with the block, under the same rule as its stack (the slot's longest). */
struct lt_target_rec {
	__u32 type;
	__u32 pid;
	__u32 tid;
	__u32 nr; /* the (syscall, fd) slot, as lt_slot */
	__s32 fd;
	__u32 pad;
	__u64 busy_start_ns;
	__u64 blocked_ns;
	struct lt_capture cap;
};

/* Global counters, one per CPU (index into the `counters` array map). */
enum lt_counter {
	LT_CNT_LOST = 0,      /* ring-buffer reservations that failed */
	LT_CNT_THREADS_FULL,  /* thread map full: a loop thread went untracked */
	LT_CNT_STACK_COPIES,  /* user stacks copied (blocks and CPU samples) */
	LT_CNT_STACK_COPY_NS, /* time spent copying them */
	LT_CNT_MAX,
};

/*
 * Histogram bucket of a duration in ns. Shared by the BPF side (which fills
 * the histogram) and user space (which reads percentiles from it): bucket i
 * covers [lt_hist_lower(i), lt_hist_lower(i + 1)).
 */
static __always_inline __u32 lt_hist_bucket(__u64 v)
{
	__u32 msb = 0;
	__u64 x = v;

	if (v < (1ull << LT_HIST_MIN_SHIFT))
		return 0;
	/* branch-free log2, verifier friendly (no loop) */
	if (x >> 32) {
		msb += 32;
		x >>= 32;
	}
	if (x >> 16) {
		msb += 16;
		x >>= 16;
	}
	if (x >> 8) {
		msb += 8;
		x >>= 8;
	}
	if (x >> 4) {
		msb += 4;
		x >>= 4;
	}
	if (x >> 2) {
		msb += 2;
		x >>= 2;
	}
	if (x >> 1) {
		msb += 1;
	}
	if (msb >= LT_HIST_MAX_SHIFT)
		return LT_HIST_BUCKETS - 1;
	return 1 + (msb - LT_HIST_MIN_SHIFT) * LT_HIST_SUB +
	       (__u32)((v >> (msb - LT_HIST_SUB_BITS)) & (LT_HIST_SUB - 1));
}

static __always_inline __u64 lt_hist_lower(__u32 i)
{
	__u32 msb, sub;

	if (i == 0)
		return 0;
	if (i >= LT_HIST_BUCKETS - 1)
		return 1ull << LT_HIST_MAX_SHIFT;
	msb = LT_HIST_MIN_SHIFT + (i - 1) / LT_HIST_SUB;
	sub = (i - 1) % LT_HIST_SUB;
	return (1ull << msb) + ((__u64)sub << (msb - LT_HIST_SUB_BITS));
}

#endif
