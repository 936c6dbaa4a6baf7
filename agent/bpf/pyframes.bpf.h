/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The CPython frames of the current thread, read where the native stack is
 * copied (a blocking switch-out, a CPU sample), so both describe the same
 * instant. Only addresses are taken here: user space turns code objects
 * into names, files and lines (pyframes.c), reading them once per object.
 *
 * Everything read is the target's memory: every loop is bounded, a failed
 * read ends the walk, and a chain that does not end within the bounds is
 * reported as truncated, never followed further.
 */
#ifndef LOOPSTALL_PYFRAMES_BPF_H
#define LOOPSTALL_PYFRAMES_BPF_H

/* Processes running CPython, with their version's layout (user space fills it). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* tgid */
	__type(value, struct lt_py_proc);
} py_procs SEC(".maps");

/* The thread state last found for a thread, checked again before each use. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LT_MAX_THREADS);
	__type(key, __u32); /* tid */
	__type(value, __u64);
} py_tstates SEC(".maps");

/*
 * One frame's bytes: fields are read at offsets known only at run time.
 * 128 bytes: a read size masked with 127 always fits.
 */
struct py_frame_buf {
	__u64 w[16];
};

/*
 * The walk's state, per CPU. In a map value, not on the stack: the verifier
 * tracks no values through map memory, so a bpf_loop step is checked once
 * instead of once per distinct counter value (which exceeds its budget).
 */
struct py_scratch {
	struct lt_py_proc pp;
	struct py_frame_buf buf;
	__u64 frame;
	__u64 fsbase;
	__u64 interp;
	__u64 ts;
	__u64 found;
	__u32 interps;
	__u32 read;
	struct lt_py_stack py;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct py_scratch);
} py_scratch SEC(".maps");

/* Interpreters and threads per interpreter looked at to find a thread's state. */
#define PY_MAX_INTERPS 4
#define PY_MAX_THREADS 64
/* Entry shims (3.12+) are skipped: room for them beyond the frames kept. */
#define PY_MAX_STEPS (LT_PY_MAX_FRAMES + 32)
#define PY_OWNED_BY_CSTACK 3

static __always_inline __u64 py_read_ptr(__u64 addr)
{
	__u64 v = 0;

	if (!addr || bpf_probe_read_user(&v, sizeof(v), (void *)addr))
		return 0;
	return v;
}

/* A field of `size` bytes (1, 4 or 8) at byte offset off of a frame read into b. */
static __always_inline __u64 py_field(const struct py_frame_buf *b, __u32 off, __u32 size)
{
	__u32 idx = off / 8;
	__u64 w;

	/* fields never straddle words: 8-byte ones are aligned, smaller ones are within one */
	if (idx >= LT_PY_FRAME_READ / 8)
		return 0;
	w = b->w[idx] >> ((off % 8) * 8);
	if (size == 1)
		return w & 0xff;
	if (size == 4)
		return w & 0xffffffff;
	return w;
}

static __always_inline struct py_scratch *py_state(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&py_scratch, &zero);
}

/* One step of the search through the interpreters' thread lists (bpf_loop callback). */
static long py_find_step(__u64 i, void *arg)
{
	struct py_scratch *c = py_state();

	if (!c)
		return 1;
	if (!c->ts) {
		/* the next interpreter's list */
		if (c->interps++)
			c->interp = py_read_ptr(c->interp + c->pp.interp_next);
		if (!c->interp || c->interps > PY_MAX_INTERPS)
			return 1;
		c->ts = py_read_ptr(c->interp + c->pp.interp_threads);
		return 0;
	}
	if (py_read_ptr(c->ts + c->pp.tstate_thread_id) == c->fsbase) {
		c->found = c->ts;
		return 1;
	}
	c->ts = py_read_ptr(c->ts + c->pp.tstate_next);
	return 0;
}

/*
 * The thread state of the current thread: thread_id is what
 * PyThread_get_thread_ident returns, pthread_self(), which on x86-64 is the
 * thread's fs base.
 */
static __always_inline __u64 py_thread_state(struct py_scratch *c, struct task_struct *task,
					     __u32 tid)
{
	__u64 *cached;

	c->fsbase = BPF_CORE_READ(task, thread.fsbase);
	if (!c->fsbase)
		return 0;
	cached = bpf_map_lookup_elem(&py_tstates, &tid);
	if (cached && *cached && py_read_ptr(*cached + c->pp.tstate_thread_id) == c->fsbase)
		return *cached;
	c->interp = py_read_ptr(c->pp.runtime + c->pp.runtime_interp);
	c->ts = 0;
	c->found = 0;
	c->interps = 0;
	bpf_loop(PY_MAX_INTERPS * (PY_MAX_THREADS + 1), py_find_step, NULL, 0);
	if (c->found)
		bpf_map_update_elem(&py_tstates, &tid, &c->found, BPF_ANY);
	return c->found;
}

/* One frame of the chain, innermost first (bpf_loop callback). */
static long py_walk_step(__u64 i, void *arg)
{
	struct py_scratch *c = py_state();
	__u64 code, instr, frame;
	__u32 n, flags, lasti;

	if (!c || !c->frame)
		return 1;
	n = c->py.n;
	if (n >= LT_PY_MAX_FRAMES) {
		c->py.status = LT_PY_TRUNCATED;
		return 1;
	}
	/* the mask, for the verifier: read was clamped before the loop */
	if (bpf_probe_read_user(&c->buf, c->read & 127, (void *)c->frame)) {
		c->py.status = LT_PY_READ_FAILED;
		return 1;
	}
	code = py_field(&c->buf, c->pp.frame_code, 8);
	frame = c->frame;
	c->frame = py_field(&c->buf, c->pp.frame_back, 8);
	if (c->pp.frame_owner != LT_PY_NO_FIELD &&
	    py_field(&c->buf, c->pp.frame_owner, 1) == PY_OWNED_BY_CSTACK) {
		/* the shim an eval call pushes first: the frame after it began that call */
		if (n > 0)
			c->py.frames[(n - 1) & (LT_PY_MAX_FRAMES - 1)].flags |= LT_PY_ENTRY;
		return 0;
	}
	flags = 0;
	if (c->pp.chain == LT_PY_CHAIN_FRAMEOBJ) {
		/* one PyFrameObject per eval call */
		flags = LT_PY_ENTRY;
		lasti = (__u32)py_field(&c->buf, c->pp.frame_instr, 4);
	} else {
		instr = py_field(&c->buf, c->pp.frame_instr, 8);
		lasti = LT_PY_NO_LASTI;
		if (instr >= code + c->pp.code_adaptive &&
		    instr - code - c->pp.code_adaptive < (1ull << 31))
			lasti = (__u32)((instr - code - c->pp.code_adaptive) / 2);
		if (c->pp.frame_entry != LT_PY_NO_FIELD && py_field(&c->buf, c->pp.frame_entry, 1))
			flags = LT_PY_ENTRY;
	}
	c->py.frames[n & (LT_PY_MAX_FRAMES - 1)].code = code;
	c->py.frames[n & (LT_PY_MAX_FRAMES - 1)].lasti = lasti;
	c->py.frames[n & (LT_PY_MAX_FRAMES - 1)].flags = flags;
	c->py.frames[n & (LT_PY_MAX_FRAMES - 1)].frame = frame;
	c->py.n = n + 1;
	return 0;
}

/* The Python frames of the current thread into r->py (status LT_PY_NONE if it runs none). */
static __always_inline void py_walk(struct lt_stack_rec *r, struct task_struct *task)
{
	__u64 id = bpf_get_current_pid_tgid(), tstate, frame;
	__u32 tgid = id >> 32;
	struct lt_py_proc *pp;
	struct py_scratch *c;

	r->py.n = 0;
	r->py.status = LT_PY_NONE;
	pp = bpf_map_lookup_elem(&py_procs, &tgid);
	c = py_state();
	if (!pp || !c)
		return;
	c->pp = *pp;
	tstate = py_thread_state(c, task, (__u32)id);
	if (!tstate) {
		r->py.status = LT_PY_NO_THREAD;
		return;
	}
	frame = py_read_ptr(tstate + c->pp.tstate_frame);
	if (c->pp.chain == LT_PY_CHAIN_CFRAME)
		frame = py_read_ptr(frame + c->pp.cframe_current);
	/* no more than the frame: a generator's frame may end its allocation */
	c->read = c->pp.frame_read;
	if (c->read == 0 || c->read > LT_PY_FRAME_READ)
		c->read = LT_PY_FRAME_READ;
	c->frame = frame;
	c->py.n = 0;
	c->py.status = LT_PY_OK;
	bpf_loop(PY_MAX_STEPS, py_walk_step, NULL, 0);
	/* steps ran out on entry shims before the chain did */
	if (c->frame && c->py.status == LT_PY_OK)
		c->py.status = LT_PY_TRUNCATED;
	/* the whole array: a constant size is what the verifier checks */
	r->py.status = c->py.status;
	r->py.n = c->py.n;
	bpf_probe_read_kernel(r->py.frames, sizeof(r->py.frames), c->py.frames);
}

#endif
