// SPDX-License-Identifier: BSD-2-Clause
/*
 * Reading a process's threads' registers through a task iterator: one
 * read() walks every task of the machine in the kernel and writes a record
 * per thread of the process (the program filters by tgid), so a target with
 * thousands of threads costs one iteration, not a ptrace stop each.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "inflight.h"
#include "task_regs.skel.h"
#include "task_regs_user.h"
#include "thread_events.h"
#include "unwind.h"
#include "waitplan.h"

/* Threads read at the most per process: a record each (~160 bytes) */
#define MAX_TASKS 65536

_Static_assert(sizeof(struct tr_task) == 24 + 8 * TR_NREGS, "tr_task layout");

struct ls_task_regs {
	struct task_regs *skel;
};

int ls_task_regs__new(struct ls_task_regs **out)
{
	struct ls_task_regs *tr = calloc(1, sizeof(*tr));
	int err;

	*out = NULL;
	if (!tr)
		return -ENOMEM;
	tr->skel = task_regs__open_and_load();
	if (!tr->skel) {
		err = -errno;
		free(tr);
		return err ? err : -EINVAL;
	}
	*out = tr;
	return 0;
}

void ls_task_regs__free(struct ls_task_regs *tr)
{
	if (!tr)
		return;
	task_regs__destroy(tr->skel);
	free(tr);
}

int ls_iter_open(struct bpf_program *prog, const struct bpf_iter_attach_opts *opts,
		 struct bpf_link **link)
{
	int fd, err;

	*link = bpf_program__attach_iter(prog, opts);
	if (!*link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(*link));
	if (fd < 0) {
		err = -errno;
		bpf_link__destroy(*link);
		*link = NULL;
		return err;
	}
	return fd;
}

int ls_task_regs__read(struct ls_task_regs *tr, pid_t pid, struct tr_task **out, size_t *n)
{
	struct tr_task *tasks = NULL, *grown;
	struct bpf_link *link = NULL;
	size_t have = 0, cap = 0;
	int fd = -1, err = 0;
	ssize_t got;

	*out = NULL;
	*n = 0;
	tr->skel->bss->tgid = (__u32)pid;
	fd = ls_iter_open(tr->skel->progs.task_regs, NULL, &link);
	if (fd < 0)
		return fd;
	for (;;) {
		if (have == cap) {
			if (cap == MAX_TASKS)
				break;
			cap = cap ? 2 * cap : 64;
			grown = realloc(tasks, cap * sizeof(*tasks));
			if (!grown) {
				err = -ENOMEM;
				goto cleanup;
			}
			tasks = grown;
		}
		/* the iterator writes whole records: a read returns a multiple of one */
		got = read(fd, &tasks[have], (cap - have) * sizeof(*tasks));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = -errno;
			goto cleanup;
		}
		if (got == 0)
			break;
		have += (size_t)got / sizeof(*tasks);
	}
	*out = tasks;
	*n = have;
	tasks = NULL;
cleanup:
	free(tasks);
	if (fd >= 0)
		close(fd);
	bpf_link__destroy(link);
	return err;
}

size_t ls_read_user_stack(pid_t pid, uint64_t sp, void *buf, size_t max)
{
	size_t done = 0, want;
	long page = sysconf(_SC_PAGESIZE);
	struct iovec local, remote;
	ssize_t got;

	if (page <= 0)
		page = 4096;
	/* one page at a time: a read across the stack's end fails as a whole */
	while (done < max) {
		want = (size_t)page - ((sp + done) & ((uint64_t)page - 1));
		if (want > max - done)
			want = max - done;
		local.iov_base = (char *)buf + done;
		local.iov_len = want;
		remote.iov_base = (void *)(uintptr_t)(sp + done);
		remote.iov_len = want;
		got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (got <= 0)
			break;
		done += (size_t)got;
		if ((size_t)got < want)
			break;
	}
	return done;
}

size_t ls_blocked_record(struct ls_unwinder *u, pid_t pid, uint32_t tid, uint32_t nr,
			 const __u64 *regs, uint64_t fsbase, uint32_t stack_bytes,
			 struct lt_stack_rec *rec)
{
	memset(rec, 0, offsetof(struct lt_stack_rec, data));
	rec->type = LT_REC_STACK;
	rec->pid = (__u32)pid;
	rec->tid = tid;
	rec->nr = nr;
	rec->fd = lt_syscall_takes_fd(nr) ? (__s32)regs[5] : -1;
	memcpy(rec->regs, regs, sizeof(rec->regs));
	/* its Python frames hold still while it is blocked, as its stack does */
	ls_unwinder__python_walk(u, pid, fsbase, &rec->py);
	if (stack_bytes > LT_STACK_MAX)
		stack_bytes = LT_STACK_MAX;
	rec->size = (__u32)ls_read_user_stack(pid, regs[7], rec->data, stack_bytes);
	return offsetof(struct lt_stack_rec, data) + rec->size;
}

int ls_inflight_scan(struct ls_task_regs *tr, struct ls_unwinder *u, pid_t pid, pid_t only_tid,
		     uint32_t stack_bytes, ls_inflight_found_fn found,
		     ls_inflight_running_fn running, void *ctx)
{
	struct lt_stack_rec *rec = NULL;
	struct tr_task *tasks = NULL;
	struct ls_stack stack = {0};
	struct ls_pcs *pcs = NULL;
	size_t n = 0, i, size;
	uint64_t args[6];
	int err, wait;

	if (stack_bytes > LT_STACK_MAX)
		stack_bytes = LT_STACK_MAX;
	err = ls_task_regs__read(tr, pid, &tasks, &n);
	if (err)
		return err;
	rec = malloc(sizeof(*rec));
	pcs = malloc(sizeof(*pcs));
	if (!rec || !pcs) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < n && !err; i++) {
		const struct tr_task *t = &tasks[i];
		if (only_tid && t->tid != (uint32_t)only_tid)
			continue;
		/* a running thread's registers are stale: it is sampled instead */
		if (t->state == TR_RUNNING) {
			err = running(ctx, t->tid);
			continue;
		}
		/* one blocked in a fault has no call to name */
		if (t->nr < 0 || t->nr >= 1024)
			continue;
		size = ls_blocked_record(u, pid, t->tid, (uint32_t)t->nr, t->regs, t->fsbase,
					 stack_bytes, rec);
		if (!rec->size || ls_unwinder__unwind(u, rec, size, pcs))
			continue;
		if (ls_unwinder__names(u, pid, pcs, &stack))
			continue;
		/* asyncio's Handle._run is a Python frame: a stripped CPython names no Context.run
		 */
		if (rec->py.status == LT_PY_OK || rec->py.status == LT_PY_TRUNCATED)
			ls_unwinder__python(u, pid, &rec->py, &stack);
		args[0] = t->regs[5];
		args[1] = t->regs[4];
		args[2] = t->regs[1];
		args[3] = t->regs[10];
		args[4] = t->regs[8];
		args[5] = t->regs[9];
		if (ls_inflight_in_callback(stack.frames, stack.n,
					    ls_wait_is_loop(t->nr, args, &wait)))
			err = found(ctx, rec, size);
		free(stack.frames);
		stack.frames = NULL;
		stack.n = 0;
	}
cleanup:
	free(pcs);
	free(rec);
	free(tasks);
	return err;
}

static bool read_remote(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};

	return addr && process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

/* The first fds of poll(fds, nfds): the target's pollfd array, LT_CAP_FDS_MAX entries at most. */
static void poll_fds(pid_t pid, uint64_t base, uint64_t nfds, struct lt_capture *cap)
{
	struct {
		int32_t fd;
		int16_t events, revents;
	} pfd[LT_CAP_FDS_MAX];
	uint64_t n = nfds < LT_CAP_FDS_MAX ? nfds : LT_CAP_FDS_MAX, i;
	unsigned k = 0;

	cap->nfds = nfds > 0xffffffffull ? 0xffffffffu : (uint32_t)nfds;
	if (!n || !read_remote(pid, base, pfd, n * sizeof(pfd[0])))
		return;
	for (i = 0; i < n; i++)
		if (pfd[i].fd >= 0)
			cap->fds[k++] = pfd[i].fd;
}

/* The first fds set in select's fd_set: its first 64 words at most (4096 fds). */
static void select_fds(pid_t pid, uint64_t nfds, uint64_t set, struct lt_capture *cap)
{
	uint64_t words[64], n = (nfds + 63) / 64, fd;
	unsigned k = 0, w, b;

	cap->nfds = 0;
	if (n > 64)
		n = 64;
	if (!n || !read_remote(pid, set, words, n * sizeof(words[0])))
		return;
	for (w = 0; w < n; w++)
		for (b = 0; b < 64 && words[w]; b++) {
			if (!(words[w] & (1ull << b)))
				continue;
			fd = (uint64_t)w * 64 + b;
			if (fd >= nfds)
				break;
			cap->nfds++;
			if (k < LT_CAP_FDS_MAX)
				cap->fds[k++] = (int32_t)fd;
		}
}

int ls_capture_blocked(const struct lt_stack_rec *rec, struct lt_capture *cap)
{
	pid_t pid = (pid_t)rec->pid;
	char path[64], link[LT_CAP_PATH];
	const __u64 *r = rec->regs;
	struct statfs sfs;
	struct stat st;
	int32_t fd = -1;
	ssize_t n;
	unsigned i;

	memset(cap, 0, sizeof(*cap));
	cap->dirfd = LT_CAP_AT_FDCWD;
	for (i = 0; i < LT_CAP_FDS_MAX; i++)
		cap->fds[i] = -1;
	/* arguments: rdi r[5], rsi r[4], rdx r[1] */
	switch (rec->nr) {
	case SYS_poll:
	case SYS_ppoll:
		cap->flags |= LT_CAP_FDS;
		poll_fds(pid, r[5], r[4], cap);
		fd = cap->fds[0];
		break;
	case SYS_select:
	case SYS_pselect6:
		cap->flags |= LT_CAP_FDS;
		select_fds(pid, r[5], r[4] ? r[4] : r[1], cap);
		fd = cap->fds[0];
		break;
	case SYS_epoll_wait:
	case SYS_epoll_pwait:
	case SYS_epoll_pwait2:
	case SYS_io_uring_enter:
		fd = (int32_t)r[5];
		break;
	default:
		fd = rec->fd;
	}
	if (fd < 0)
		return cap->flags ? 0 : -ENOENT;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	/* stat and statfs follow the fd's link without opening it (a FIFO would block) */
	if (stat(path, &st) || statfs(path, &sfs))
		return cap->flags ? 0 : -ENOENT;
	cap->flags |= LT_CAP_FILE;
	cap->mode = st.st_mode;
	cap->ino = st.st_ino;
	cap->dev = (uint32_t)(major(st.st_dev) << 20 | (minor(st.st_dev) & 0xfffff));
	cap->magic = (uint32_t)sfs.f_type;
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 11 && !memcmp(link, "anon_inode:", 11)) {
		/* "[eventfd]", as BPF reads the anonymous inode's dentry */
		memcpy(cap->path, link + 11, (size_t)n - 11);
		cap->path_len = (uint16_t)(n - 11 + 1);
		cap->flags |= LT_CAP_ANON;
	}
	return 0;
}

int ls_inflight_judge_sample(struct ls_unwinder *u, const struct lt_stack_rec *rec, size_t size)
{
	struct ls_stack stack = {0};
	struct ls_pcs *pcs = malloc(sizeof(*pcs));
	int ret;

	if (!pcs)
		return -ENOMEM;
	ret = ls_unwinder__unwind(u, rec, size, pcs);
	if (!ret)
		ret = ls_unwinder__names(u, (pid_t)rec->pid, pcs, &stack);
	free(pcs);
	if (ret)
		return ret;
	/* asyncio's Handle._run is a Python frame: the interpreter's frames tell */
	if (rec->py.status == LT_PY_OK || rec->py.status == LT_PY_TRUNCATED)
		ls_unwinder__python(u, (pid_t)rec->pid, &rec->py, &stack);
	ret = ls_inflight_in_callback(stack.frames, stack.n, false) ? 1 : 0;
	free(stack.frames);
	return ret;
}

struct bpf_link *ls_sample_thread(struct bpf_program *prog, uint32_t tid, uint64_t period_ns)
{
	struct perf_event_attr attr = {
	    .type = PERF_TYPE_SOFTWARE,
	    .size = sizeof(attr),
	    .config = PERF_COUNT_SW_TASK_CLOCK,
	    .sample_period = period_ns,
	};

	return ls_thread_event_open(prog, &attr, tid, NULL);
}
