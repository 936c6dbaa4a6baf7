/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a blocking call of a loop thread waits on, read at its switch-out
 * (cpu_switch), the one moment its fd table and memory are surely the ones
 * of the call: a callback that connects, reads and closes, or writes, fsyncs
 * and closes, has closed the fd by the time the stall ends. Kept per thread
 * in `pending_targets` and sent as LT_REC_TARGET when the block ends, under
 * the stack's rule: the longest block of its (syscall, fd) slot.
 *
 * Everything read here is bounded: a fixed number of dentries, names of at
 * most 255 bytes at offsets below 256 in a 512-byte buffer, the first few
 * pollfds and fd_set words. Included by loop_tracker.bpf.c.
 */
#ifndef LOOPSTALL_TARGET_CAPTURE_BPF_H
#define LOOPSTALL_TARGET_CAPTURE_BPF_H

#include <bpf/bpf_endian.h>

#define CAP_S_IFMT 0170000
#define CAP_S_IFSOCK 0140000
#define CAP_S_IFREG 0100000
#define CAP_S_IFBLK 0060000
#define CAP_S_IFDIR 0040000
#define CAP_S_IFCHR 0020000
#define CAP_S_IFIFO 0010000
#define CAP_AF_UNIX 1
#define CAP_AF_INET 2
#define CAP_AF_INET6 10
#define CAP_ANON_INODE_FS_MAGIC 0x09041934
/* x86-64 numbers of the wait calls (loop_tracker.bpf.c defines its own further down) */
#define CAP_NR_POLL 7
#define CAP_NR_SELECT 23
#define CAP_NR_CONNECT 42
#define CAP_NR_EPOLL_WAIT 232
#define CAP_NR_PSELECT6 270
#define CAP_NR_PPOLL 271
#define CAP_NR_EPOLL_PWAIT 281
#define CAP_NR_IO_URING_ENTER 426
#define CAP_NR_EPOLL_PWAIT2 441
/* select's fd_set words read: fds 0..511 */
#define CAP_FDSET_WORDS 8

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256); /* loop threads with a block in flight, as pending_stacks */
	__type(key, __u32);
	__type(value, struct lt_target_rec);
} pending_targets SEC(".maps");

/* Template of new pending_targets entries: too large for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_target_rec);
} target_zero SEC(".maps");

/* Set before load (agent.c): shorter blocks send no target, as they get no stack. */
const volatile __u64 target_min_block_ns = 1000000;

static __always_inline struct lt_target_rec *pending_target(__u32 tid)
{
	struct lt_target_rec *r = bpf_map_lookup_elem(&pending_targets, &tid);
	__u32 zero = 0;
	void *tmpl;

	if (r)
		return r;
	tmpl = bpf_map_lookup_elem(&target_zero, &zero);
	if (!tmpl)
		return NULL;
	bpf_map_update_elem(&pending_targets, &tid, tmpl, BPF_NOEXIST);
	return bpf_map_lookup_elem(&pending_targets, &tid);
}

/*
 * Which argument of syscall nr is a path: 1 the first (rdi), 2 the second
 * (rsi) with the dirfd in rdi (the *at calls); 0 none.
 */
static __always_inline int path_arg(__u32 nr)
{
	switch (nr) {
	case 2:	  /* open */
	case 4:	  /* stat */
	case 6:	  /* lstat */
	case 21:  /* access */
	case 59:  /* execve */
	case 76:  /* truncate */
	case 80:  /* chdir */
	case 82:  /* rename (the old name) */
	case 83:  /* mkdir */
	case 84:  /* rmdir */
	case 85:  /* creat */
	case 86:  /* link (the existing name) */
	case 87:  /* unlink */
	case 89:  /* readlink */
	case 90:  /* chmod */
	case 92:  /* chown */
	case 94:  /* lchown */
	case 132: /* utime */
	case 133: /* mknod */
	case 137: /* statfs */
	case 188: /* setxattr */
	case 189: /* lsetxattr */
	case 191: /* getxattr */
	case 192: /* lgetxattr */
	case 235: /* utimes */
		return 1;
	case 257: /* openat */
	case 258: /* mkdirat */
	case 259: /* mknodat */
	case 260: /* fchownat */
	case 262: /* newfstatat */
	case 263: /* unlinkat */
	case 264: /* renameat */
	case 265: /* linkat */
	case 267: /* readlinkat */
	case 268: /* fchmodat */
	case 269: /* faccessat */
	case 280: /* utimensat */
	case 316: /* renameat2 */
	case 332: /* statx */
	case 437: /* openat2 */
	case 439: /* faccessat2 */
	case 452: /* fchmodat2 */
		return 2;
	}
	return 0;
}

static __always_inline struct file *fd_file(struct task_struct *task, __s32 fd)
{
	struct file *file = NULL, **fds;
	struct fdtable *fdt;

	if (fd < 0)
		return NULL;
	fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || (__u32)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (!fds || bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]))
		return NULL;
	return file;
}

struct dentry_walk {
	struct lt_capture *c;
	struct dentry *d, *root_d;
	struct vfsmount *vm, *root_m;
	__u32 off;
};

/* One step of cap_dentries: 0 to go on, 1 when done. */
static long dentry_step(__u32 i, void *ctx)
{
	struct dentry_walk *w = ctx;
	struct lt_capture *c = w->c;
	/* locals: BPF_CORE_READ on w->x would relocate dentry_walk itself */
	struct dentry *d = w->d, *parent;
	struct vfsmount *vm = w->vm;
	struct mount *m, *pm;
	long n;

	if (d == w->root_d && vm == w->root_m) {
		c->flags &= ~LT_CAP_CUT;
		return 1;
	}
	if (d == BPF_CORE_READ(vm, mnt_root)) {
		m = container_of(vm, struct mount, mnt);
		pm = BPF_CORE_READ(m, mnt_parent);
		/* the namespace's root: the process's root lies elsewhere (chroot) */
		if (!pm || pm == m) {
			c->flags &= ~LT_CAP_CUT;
			return 1;
		}
		w->d = BPF_CORE_READ(m, mnt_mountpoint);
		w->vm = (struct vfsmount *)((void *)pm + bpf_core_field_offset(struct mount, mnt));
		return 0;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (!parent || parent == d) {
		c->flags &= ~LT_CAP_CUT;
		return 1;
	}
	if (w->off >= LT_CAP_PATH - LT_CAP_NAME)
		return 1;
	n = bpf_probe_read_kernel_str(&c->path[w->off & (LT_CAP_NAME - 1)], LT_CAP_NAME,
				      BPF_CORE_READ(d, d_name.name));
	if (n <= 0)
		return 1;
	w->off = (w->off & (LT_CAP_NAME - 1)) + (__u32)n;
	w->d = parent;
	return 0;
}

/*
 * The file's name, walking dentries towards the process's root and
 * crossing mount points, leaf first: "x\0tmp\0" is /tmp/x (user space
 * reverses it). Stops at the process's root, as /proc/PID/fd shows paths.
 * bpf_loop: an open-coded walk of LT_CAP_DEPTH steps took the verifier
 * past its limit of instructions.
 */
static __always_inline void cap_dentries(struct lt_capture *c, struct file *file,
					 struct task_struct *task)
{
	struct dentry_walk w = {
	    .c = c,
	    .d = BPF_CORE_READ(file, f_path.dentry),
	    .vm = BPF_CORE_READ(file, f_path.mnt),
	    .root_d = BPF_CORE_READ(task, fs, root.dentry),
	    .root_m = BPF_CORE_READ(task, fs, root.mnt),
	};

	c->flags |= LT_CAP_DENTRIES | LT_CAP_CUT;
	bpf_loop(LT_CAP_DEPTH, dentry_step, &w, 0);
	c->path_len = w.off;
}

static __always_inline void cap_socket(struct lt_capture *c, struct file *file)
{
	struct socket *sock = BPF_CORE_READ(file, private_data);
	struct unix_address *ua;
	struct unix_sock *us;
	struct sock *sk, *peer;
	int len;

	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return;
	c->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	c->sock_type = BPF_CORE_READ(sk, sk_type);
	c->protocol = BPF_CORE_READ(sk, sk_protocol);
	if (c->family == CAP_AF_INET || c->family == CAP_AF_INET6) {
		c->flags |= LT_CAP_INET;
		c->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		c->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (c->family == CAP_AF_INET) {
			BPF_CORE_READ_INTO((__u32 *)c->laddr, sk, __sk_common.skc_rcv_saddr);
			BPF_CORE_READ_INTO((__u32 *)c->raddr, sk, __sk_common.skc_daddr);
		} else {
			BPF_CORE_READ_INTO((struct in6_addr *)c->laddr, sk,
					   __sk_common.skc_v6_rcv_saddr);
			BPF_CORE_READ_INTO((struct in6_addr *)c->raddr, sk,
					   __sk_common.skc_v6_daddr);
		}
		return;
	}
	if (c->family != CAP_AF_UNIX)
		return;
	/* struct sock is the first member of unix_sock: a client has no name, its peer may */
	us = (struct unix_sock *)sk;
	ua = BPF_CORE_READ(us, addr);
	if (!ua) {
		peer = BPF_CORE_READ(us, peer);
		if (peer)
			ua = BPF_CORE_READ((struct unix_sock *)peer, addr);
	}
	if (!ua)
		return;
	len = BPF_CORE_READ(ua, len) - (int)sizeof(__u16);
	if (len <= 0)
		return;
	if (len > 108)
		len = 108;
	/* a fixed size the verifier takes; only len bytes count (abstract names hold NULs) */
	if (bpf_probe_read_kernel(c->path, 108,
				  (void *)ua + bpf_core_field_offset(struct unix_address, name) +
				      sizeof(__u16)))
		return;
	c->path_len = len;
	c->flags |= LT_CAP_UNIX;
}

/* connect's sockaddr: the peer when the socket does not know it yet. */
static __always_inline void cap_sockaddr(struct lt_capture *c, struct pt_regs *regs)
{
	/* sa_family, port, then v4 address, or v6 flowinfo and address */
	__u8 sa[24] = {};
	__u16 family;
	__u64 len = BPF_CORE_READ(regs, dx);

	if (c->rport || len < 8)
		return;
	if (bpf_probe_read_user(sa, len >= sizeof(sa) ? sizeof(sa) : 8,
				(void *)BPF_CORE_READ(regs, si)))
		return;
	family = *(__u16 *)sa;
	if (family == CAP_AF_INET) {
		__builtin_memcpy(c->raddr, sa + 4, 4);
	} else if (family == CAP_AF_INET6 && len >= sizeof(sa)) {
		__builtin_memcpy(c->raddr, sa + 8, 16);
	} else {
		return;
	}
	c->family = family;
	c->rport = bpf_ntohs(*(__u16 *)(sa + 2));
	c->flags |= LT_CAP_SOCKADDR;
}

/*
 * The first pollfds of poll/ppoll(fds = base, nfds = n, ...); returns the
 * first fd to describe. A global function, as cap_fdset: its loop's
 * outcomes would multiply the states of everything after it.
 */
__noinline int cap_pollfds(struct lt_capture *c, __u64 base, __u64 n)
{
	struct {
		__s32 fd;
		__s16 events, revents;
	} pfd;
	__s32 first = -1;
	__u32 i, k = 0;

	if (!c)
		return -1;
	c->flags |= LT_CAP_FDS;
	c->nfds = n > 0xffffffffull ? 0xffffffffu : (__u32)n;
	/* the entry is reused: fds not found now must not read as an earlier call's */
	for (i = 0; i < LT_CAP_FDS_MAX; i++)
		c->fds[i] = -1;
	for (i = 0; i < LT_CAP_FDS_MAX; i++) {
		if (i >= n ||
		    bpf_probe_read_user(&pfd, sizeof(pfd), (void *)(base + i * sizeof(pfd))))
			break;
		/* a negative fd is a pollfd poll skips */
		if (pfd.fd < 0)
			continue;
		c->fds[k++ & (LT_CAP_FDS_MAX - 1)] = pfd.fd;
		if (first < 0)
			first = pfd.fd;
	}
	return first;
}

/* log2 of a power of two, branch-free as lt_hist_bucket (no ctz in BPF) */

static __always_inline __u32 popcount(__u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (__u32)((x * 0x0101010101010101ull) >> 56);
}

/*
 * Index of the one bit set in `bit`: the bits below it, counted without a
 * branch (a binary search took the verifier 300 ms: its branches multiply
 * with the scan's).
 */
static __always_inline __u32 bit_index(__u64 bit)
{
	return popcount(bit - 1);
}

struct fdset_walk {
	__u64 set, nfds;
	__u32 words, k, total;
	__s32 fds[LT_CAP_FDS_MAX];
};

/* One 64-bit word of an fd_set: its fds, up to LT_CAP_FDS_MAX in all. 0 to go on, 1 when done. */
static long fdset_word(__u32 i, void *ctx)
{
	struct fdset_walk *w = ctx;
	__u64 word;
	__u32 j, k;

	if (i >= w->words || i >= CAP_FDSET_WORDS ||
	    bpf_probe_read_user(&word, sizeof(word), (void *)(w->set + i * 8)))
		return 1;
	/* bits past nfds are not waited on */
	if (i == w->words - 1 && w->nfds % 64)
		word &= (1ull << (w->nfds % 64)) - 1;
	w->total += popcount(word);
	for (j = 0; j < LT_CAP_FDS_MAX && word; j++) {
		k = w->k;
		if (k >= LT_CAP_FDS_MAX)
			break;
		/* or clang drops the mask the check made redundant, and the verifier needs it */
		barrier_var(k);
		k &= LT_CAP_FDS_MAX - 1;
		w->fds[k] = (__s32)(i * 64 + bit_index(word & -word));
		w->k = k + 1;
		word &= word - 1;
	}
	return 0;
}

/*
 * select/pselect6(nfds, readfds, writefds, ...): the fds set, readfds first.
 * A global function, and its words a bpf_loop: open-coded, the two nested
 * loops took the verifier 160,000 instructions (~50 ms of every attach).
 */
__noinline int cap_fdset(struct lt_capture *c, __u64 nfds, __u64 set)
{
	struct fdset_walk w = {.set = set, .nfds = nfds};
	__u32 i;

	if (!c)
		return -1;
	c->flags |= LT_CAP_FDS;
	for (i = 0; i < LT_CAP_FDS_MAX; i++)
		w.fds[i] = -1;
	w.words = nfds >= CAP_FDSET_WORDS * 64 ? CAP_FDSET_WORDS : (__u32)((nfds + 63) / 64);
	if (set)
		bpf_loop(CAP_FDSET_WORDS, fdset_word, &w, 0);
	for (i = 0; i < LT_CAP_FDS_MAX; i++)
		c->fds[i] = w.fds[i];
	c->nfds = w.total;
	return w.k ? w.fds[0] : -1;
}

/*
 * What file descriptor dfd of the current task is (syscall nr blocked on
 * it): a socket's addresses, an anonymous inode's name, a file's path.
 * reuse/reuse_len: the flags and path length the entry held for the same
 * call earlier in this busy period (0: none), kept when the file is the
 * same. A global function: checked once, not after each way the calls
 * before it found dfd (those multiplied the verifier's work by ten).
 */
__noinline int cap_file(struct lt_capture *c, __s32 dfd, __u32 nr, __u32 reuse, __u32 reuse_len)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct inode *inode;
	struct file *file;
	__u32 kind, dev;
	__u64 ino;
	long n;

	if (!c || !regs)
		return 0;
	file = fd_file(task, dfd);
	if (!file)
		return 0;
	inode = BPF_CORE_READ(file, f_inode);
	ino = BPF_CORE_READ(inode, i_ino);
	dev = BPF_CORE_READ(inode, i_sb, s_dev);
	c->flags |= LT_CAP_FILE;
	c->mode = BPF_CORE_READ(inode, i_mode);
	c->magic = (__u32)BPF_CORE_READ(inode, i_sb, s_magic);
	kind = c->mode & CAP_S_IFMT;
	if (kind == CAP_S_IFSOCK) {
		cap_socket(c, file);
		if (nr == CAP_NR_CONNECT)
			cap_sockaddr(c, regs);
	} else if (c->magic == CAP_ANON_INODE_FS_MAGIC) {
		/* eventfd, timerfd, signalfd, epoll, io_uring share one inode: the dentry names it
		 */
		n = bpf_probe_read_kernel_str(c->path, 32,
					      BPF_CORE_READ(file, f_path.dentry, d_name.name));
		if (n > 0) {
			c->flags |= LT_CAP_ANON;
			c->path_len = (__u16)n;
		}
	} else if (kind == CAP_S_IFREG || kind == CAP_S_IFIFO || kind == CAP_S_IFDIR ||
		   kind == CAP_S_IFCHR || kind == CAP_S_IFBLK) {
		if ((reuse & LT_CAP_DENTRIES) && c->ino == ino && c->dev == dev) {
			c->flags |= reuse & (LT_CAP_DENTRIES | LT_CAP_CUT);
			c->path_len = reuse_len;
		} else {
			cap_dentries(c, file, task);
		}
	}
	c->ino = ino;
	c->dev = dev;
	return 0;
}

/*
 * At a blocking switch-out of loop thread t in syscall nr (fd: its slot's
 * fd, see blocked_in): note what the call waits on. Runs in t's context.
 */
static __always_inline void target_capture(struct lt_thread *t, struct task_struct *task, __u32 nr,
					   __s32 fd)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct lt_target_rec *r = pending_target(t->tid);
	__u32 old, old_len, at;
	struct lt_capture *c;
	__s32 dfd = fd;
	bool same;
	long n;

	if (!r || !regs)
		return;
	c = &r->cap;
	/* the same fd-based call again in this busy period: its walked path may still hold */
	same = fd >= 0 && r->busy_start_ns == t->cur.start_ns && r->nr == nr && r->fd == fd;
	old = c->flags;
	old_len = c->path_len;
	r->type = LT_REC_TARGET;
	r->pid = t->pid;
	r->tid = t->tid;
	r->nr = nr;
	r->fd = fd;
	r->busy_start_ns = t->cur.start_ns;
	r->blocked_ns = 0;
	c->flags = 0;
	c->path_len = 0;
	c->rport = 0;
	c->dirfd = LT_CAP_AT_FDCWD;
	if (nr == LT_NR_NONE)
		return;
	switch (nr) {
	case CAP_NR_POLL:
	case CAP_NR_PPOLL:
		dfd = cap_pollfds(c, BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si));
		break;
	case CAP_NR_SELECT:
	case CAP_NR_PSELECT6:
		dfd = cap_fdset(c, BPF_CORE_READ(regs, di),
				BPF_CORE_READ(regs, si) ?: BPF_CORE_READ(regs, dx));
		break;
	case CAP_NR_EPOLL_WAIT:
	case CAP_NR_EPOLL_PWAIT:
	case CAP_NR_EPOLL_PWAIT2:
	case CAP_NR_IO_URING_ENTER:
		dfd = (__s32)BPF_CORE_READ(regs, di);
		break;
	default:
		at = path_arg(nr);
		if (!at)
			break;
		if (at == 2)
			c->dirfd = (__s32)BPF_CORE_READ(regs, di);
		n = bpf_probe_read_user_str(
		    c->path, LT_CAP_PATH,
		    (void *)(at == 2 ? BPF_CORE_READ(regs, si) : BPF_CORE_READ(regs, di)));
		if (n > 0) {
			c->flags |= LT_CAP_PATH_ARG;
			/* a path that filled the buffer was cut */
			if (n >= LT_CAP_PATH)
				c->flags |= LT_CAP_CUT;
			c->path_len = (__u16)n;
		}
		return;
	}
	cap_file(c, dfd, nr, same ? old : 0, old_len);
}

/* The block settled in t's slot is its longest yet (settle): send what it waited on. */
static __always_inline void target_send(struct lt_thread *t, __u64 blocked_ns)
{
	struct lt_target_rec *r;
	__u32 tid = t->tid;

	if (blocked_ns < target_min_block_ns)
		return;
	r = bpf_map_lookup_elem(&pending_targets, &tid);
	if (!r || r->busy_start_ns != t->cur.start_ns || r->nr != t->out_nr || r->fd != t->out_fd)
		return;
	r->blocked_ns = blocked_ns;
	if (bpf_ringbuf_output(&events, r, sizeof(*r), 0))
		count(LT_CNT_LOST);
}

#endif
