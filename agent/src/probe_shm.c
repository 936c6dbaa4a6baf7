// SPDX-License-Identifier: BSD-2-Clause
/*
 * The agent's reader of libprobe regions (see probe_shm.h for the trust
 * rules). The region's writer is the traced program: every number read
 * from it is checked before it is used as an index, offset or length, and
 * entries are copied under libprobe's per-entry sequence numbers, so a
 * torn or forged entry is dropped rather than believed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "clock.h"
#include "grow.h"
#include "lprobe_shm.h"
#include "probe_shm.h"
#include "stall.h"
#include "summary.h"

struct ls_probe_shm {
	const unsigned char *base;
	size_t size;
	struct lps_header hdr; /* checked copy: the only geometry ever used */
	bool broken;	       /* a read faulted: the file shrank under the mapping */
	dev_t dev;
	ino_t ino;
	int memfd; /* the target's /proc/PID/mem, for names the region lacks; -1: none */
	bool py;   /* version 2: written by the CPython probe */
};

/*
 * SIGBUS while reading a region: jump back to the read that faulted. The
 * handler is in place only while a read runs (the program may have its
 * own); one read at a time, so the handler it replaced is known.
 */
static __thread sigjmp_buf *guard_jb;
static struct sigaction prev_sigbus;
static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	if (guard_jb)
		siglongjmp(*guard_jb, 1);
	/* not a region read: whatever was there before decides */
	if ((prev_sigbus.sa_flags & SA_SIGINFO) && prev_sigbus.sa_sigaction) {
		prev_sigbus.sa_sigaction(sig, si, uc);
	} else if (prev_sigbus.sa_handler != SIG_DFL && prev_sigbus.sa_handler != SIG_IGN) {
		prev_sigbus.sa_handler(sig);
	} else {
		signal(SIGBUS, SIG_DFL);
		raise(SIGBUS);
	}
}

/* Run fn over the mapping; a fault marks the region broken instead of killing the agent. */
static int guarded(struct ls_probe_shm *p, int (*fn)(struct ls_probe_shm *p, void *ctx), void *ctx)
{
	struct sigaction sa;
	sigjmp_buf jb;
	int err;

	if (p->broken)
		return -EFAULT;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	pthread_mutex_lock(&guard_lock);
	sigaction(SIGBUS, &sa, &prev_sigbus);
	/* savemask: the jump out of the handler must not leave SIGBUS blocked */
	if (sigsetjmp(jb, 1)) {
		err = -EFAULT;
		p->broken = true;
	} else {
		guard_jb = &jb;
		err = fn(p, ctx);
	}
	guard_jb = NULL;
	sigaction(SIGBUS, &prev_sigbus, NULL);
	pthread_mutex_unlock(&guard_lock);
	return err;
}

const char *ls_probe_watcher_name(uint32_t watcher)
{
	return lps_watcher_name(watcher);
}

const char *ls_probe_arg_name(const struct ls_probe_cb *cb)
{
	switch (cb->watcher) {
	case LPS_W_IO:
		return cb->arg >= 0 ? "fd" : NULL;
	case LPS_W_SIGNAL:
		return cb->arg > 0 ? "signum" : NULL;
	case LPS_W_CHILD:
		return cb->arg > 0 ? "child_pid" : NULL;
	default:
		return NULL;
	}
}

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* [off, off + len) inside a file of size bytes, without overflow. */
static bool within(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static int check_header(const struct lps_header *h, uint64_t size)
{
	if (h->magic != LPS_MAGIC)
		return -EPROTO;
	if (h->version != LPS_VERSION && h->version != LPS_VERSION_PY)
		return -EPROTONOSUPPORT;
	/* sizes as this agent was built: a layout change bumps the version */
	if (h->header_size != sizeof(*h) || h->loop_size != sizeof(struct lps_loop) ||
	    h->event_size != sizeof(struct lps_event) ||
	    h->stall_size != sizeof(struct lps_stall) || h->hist_buckets != LPS_HIST_BUCKETS)
		return -EPROTONOSUPPORT;
	if (h->region_size != size)
		return -EPROTO;
	if (!pow2(h->sym_slots) || h->sym_slots > (1u << 20) || h->syms_off % 8 ||
	    h->syms_off < sizeof(*h) ||
	    !within(h->syms_off, (uint64_t)h->sym_slots * sizeof(struct lps_sym), size))
		return -EPROTO;
	if (h->strtab_off < sizeof(*h) || !within(h->strtab_off, h->strtab_size, size))
		return -EPROTO;
	if (!pow2(h->ring_len) || h->ring_len > LPS_MAX_RING || !h->max_loops ||
	    h->max_loops > LPS_MAX_LOOPS)
		return -EPROTO;
	if (h->loop_stride !=
		sizeof(struct lps_loop) + (uint64_t)h->ring_len * sizeof(struct lps_event) ||
	    h->loops_off % 64 || h->loops_off < sizeof(*h) ||
	    !within(h->loops_off, (uint64_t)h->max_loops * h->loop_stride, size))
		return -EPROTO;
	return 0;
}

struct map_ctx {
	const struct ls_probe_expect *expect;
};

static int copy_header(struct ls_probe_shm *p, void *ctx)
{
	const struct ls_probe_expect *ex = ((struct map_ctx *)ctx)->expect;
	uint64_t magic =
	    __atomic_load_n(&((const struct lps_header *)p->base)->magic, __ATOMIC_ACQUIRE);
	int err;

	/* the writer stores the magic last: without it the region is still being made */
	if (magic != LPS_MAGIC)
		return -EAGAIN;
	memcpy(&p->hdr, p->base, sizeof(p->hdr));
	err = check_header(&p->hdr, p->size);
	if (err)
		return err;
	p->py = p->hdr.version == LPS_VERSION_PY;
	if (ex && ((ex->pid && p->hdr.pid != ex->pid) ||
		   (ex->start_time && p->hdr.start_time != ex->start_time)))
		return -ESTALE; /* left by an earlier process with the same pid */
	return 0;
}

int ls_probe_shm__map_fd(int fd, const struct ls_probe_expect *expect, struct ls_probe_shm **out)
{
	struct map_ctx ctx = {expect};
	struct ls_probe_shm *p;
	struct stat st;
	void *base;
	int err;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EPERM;
	/* only the target's own user may have written it, and nobody else may have */
	if ((expect && st.st_uid != expect->uid) || (st.st_mode & 07777) != 0600)
		return -EPERM;
	if (st.st_size < (off_t)sizeof(struct lps_header) || st.st_size > (off_t)LPS_MAX_REGION)
		return -EPROTO;
	base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return -errno;
	p = calloc(1, sizeof(*p));
	if (!p) {
		munmap(base, (size_t)st.st_size);
		return -ENOMEM;
	}
	p->base = base;
	p->size = (size_t)st.st_size;
	p->memfd = -1;
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	err = guarded(p, copy_header, &ctx);
	if (err) {
		ls_probe_shm__free(p);
		return err;
	}
	*out = p;
	return 0;
}

/* Uid (effective), innermost-namespace pid and start time of a process. */
static int proc_ids(pid_t pid, struct ls_probe_expect *ex, uint32_t *nspid)
{
	char path[64], line[512], *p;
	unsigned long long start = 0;
	bool have_uid = false;
	int field;
	FILE *f;

	*nspid = (uint32_t)pid;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned ruid, euid;

		if (sscanf(line, "Uid: %u %u", &ruid, &euid) == 2) {
			ex->uid = euid;
			have_uid = true;
		} else if (!strncmp(line, "NSpid:", 6)) {
			/* the last pid is the one the process sees: its region's name */
			for (p = strtok(line + 6, " \t\n"); p; p = strtok(NULL, " \t\n"))
				*nspid = (uint32_t)strtoul(p, NULL, 10);
		}
	}
	fclose(f);
	if (!have_uid)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')'))) {
		for (field = 2; *p && field < 22; p++)
			if (*p == ' ')
				field++;
		sscanf(p, "%llu", &start);
	}
	fclose(f);
	ex->pid = *nspid;
	ex->start_time = start;
	return 0;
}

/* Open name under the process's root without following any symlink it planted. */
static int open_in_root(int rootfd, const char *name)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS,
	};
	int fd = (int)syscall(SYS_openat2, rootfd, name, &how, sizeof(how));

	if (fd < 0 && (errno == ENOSYS || errno == EINVAL))
		fd = openat(rootfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

static int region_name(pid_t pid, char *name, size_t len, struct ls_probe_expect *ex)
{
	uint32_t nspid;
	int err = proc_ids(pid, ex, &nspid);

	if (err)
		return err;
	snprintf(name, len, "dev/shm/" LPS_NAME_FMT, (int)nspid);
	return 0;
}

int ls_probe_shm__open(pid_t pid, struct ls_probe_shm **out)
{
	struct ls_probe_expect ex;
	char root[64], name[64];
	int rootfd, fd, err;

	err = region_name(pid, name, sizeof(name), &ex);
	if (err)
		return err;
	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	fd = open_in_root(rootfd, name);
	close(rootfd);
	if (fd < 0)
		return fd;
	err = ls_probe_shm__map_fd(fd, &ex, out);
	close(fd);
	/*
	 * Await names are pointers into the target: read them from its memory.
	 * The open file stays bound to this process, whatever reuses its pid.
	 */
	if (!err) {
		snprintf(root, sizeof(root), "/proc/%d/mem", (int)pid);
		(*out)->memfd = open(root, O_RDONLY | O_CLOEXEC);
	}
	return err;
}

void ls_probe_shm__free(struct ls_probe_shm *p)
{
	if (!p)
		return;
	if (p->base)
		munmap((void *)p->base, p->size);
	if (p->memfd >= 0)
		close(p->memfd);
	free(p);
}

static const struct lps_loop *loop_slot(const struct ls_probe_shm *p, uint32_t i)
{
	return (const struct lps_loop *)(p->base + p->hdr.loops_off +
					 (size_t)i * p->hdr.loop_stride);
}

/* Past the last published head, entries name their own index (bounded by the ring). */
static uint64_t ring_end(const struct ls_probe_shm *p, const struct lps_loop *s)
{
	return lps_ring_end((const struct lps_event *)(s + 1), p->hdr.ring_len - 1,
			    __atomic_load_n(&s->ring_head, __ATOMIC_ACQUIRE));
}

/* A watcher number the region's version has: asyncio ones only in version 2. */
static uint32_t known_watcher(const struct ls_probe_shm *p, uint32_t w)
{
	if (w < LPS_W_COUNT || (p->py && (w == LPS_W_ASYNCIO_TASK || w == LPS_W_ASYNCIO_CALLBACK)))
		return w;
	return LPS_W_UNKNOWN;
}

/* Copy ring entry i when it is stable and really entry i (not a newer one, not forged). */
static bool read_event(const struct ls_probe_shm *p, const struct lps_loop *s, uint64_t i,
		       struct lps_event *out)
{
	const struct lps_event *ring = (const struct lps_event *)(s + 1);
	const struct lps_event *e = &ring[i & (p->hdr.ring_len - 1)];
	uint64_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);

	if (s1 != 4 * i + 2 && s1 != 4 * i + 4)
		return false;
	memcpy(out, e, sizeof(*out));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != s1 || out->seq != s1)
		return false;
	/* a running entry has no end yet; a done one must not end before it starts */
	if (s1 == 4 * i + 2)
		out->end_ns = 0;
	else if (out->end_ns < out->start_ns)
		return false;
	out->watcher = known_watcher(p, out->watcher);
	return true;
}

/* Printable ASCII only: the text goes into JSON and terminals. */
static void printable(char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] >= 0x7f)
			buf[i] = '?';
	buf[n] = '\0';
}

size_t ls_probe_read_name(int memfd, uint64_t addr, char *buf, size_t size)
{
	ssize_t n;

	buf[0] = '\0';
	if (memfd < 0 || !addr || size < 2)
		return 0;
	/* a string near the end of a mapping: /proc/PID/mem reads what there is */
	n = pread(memfd, buf, size - 1, (off_t)addr);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	n = (ssize_t)strlen(buf);
	printable(buf, (size_t)n);
	return (size_t)n;
}

static void copy_text(const struct ls_probe_shm *p, uint32_t off, uint16_t len, char *buf,
		      size_t size)
{
	size_t n;

	buf[0] = '\0';
	if (!len || len > LPS_MAX_SYM_LEN || !within(off, len, p->hdr.strtab_size))
		return;
	n = len < size - 1 ? len : size - 1;
	memcpy(buf, p->base + p->hdr.strtab_off + off, n);
	printable(buf, n);
}

static void lookup_sym(const struct ls_probe_shm *p, uint64_t key, char *name, size_t nlen,
		       char *module, size_t mlen)
{
	const struct lps_sym *tab = (const struct lps_sym *)(p->base + p->hdr.syms_off);
	uint32_t n = p->hdr.sym_slots, i, k;

	name[0] = '\0';
	if (module)
		module[0] = '\0';
	if (!key)
		return;
	for (i = lps_sym_hash(key, n), k = 0; k < n; k++, i = (i + 1) & (n - 1)) {
		uint64_t have = __atomic_load_n(&tab[i].key, __ATOMIC_ACQUIRE);
		struct lps_sym e;

		if (!have)
			return;
		if (have != key)
			continue;
		memcpy(&e, &tab[i], sizeof(e));
		copy_text(p, e.name_off, e.name_len, name, nlen);
		if (module)
			copy_text(p, e.module_off, e.module_len, module, mlen);
		return;
	}
}

/* An await or yield point's name: the region's, else read from the target. */
static void lookup_name(const struct ls_probe_shm *p, uint64_t key, char *name, size_t len)
{
	lookup_sym(p, key, name, len, NULL, 0);
	if (!name[0])
		ls_probe_read_name(p->memfd, key, name, len);
}

/*
 * An asyncio entry's names (lprobe_shm.h, struct lps_event): all of them
 * keys into the symbol table, but "Task-N", which is a number.
 */
static void fill_py(const struct ls_probe_shm *p, const struct lps_event *e, struct ls_probe_cb *cb)
{
	char *colon = strrchr(cb->module, ':');
	uint32_t resumed = (uint32_t)e->reserved, suspended = (uint32_t)(e->reserved >> 32);

	cb->interval_ns = 0;
	cb->arg = -1;
	/* the module text is "file:line" of the definition */
	if (colon) {
		cb->line = (int32_t)strtol(colon + 1, NULL, 10);
		*colon = '\0';
	}
	if (e->watcher != LPS_W_ASYNCIO_TASK)
		return;
	cb->is_task = true;
	if (e->interval_ns & LPS_PY_TASK_NUM)
		snprintf(cb->task, sizeof(cb->task), "Task-%llu",
			 (unsigned long long)(e->interval_ns & ~LPS_PY_TASK_NUM));
	else if (e->interval_ns >> 48 == LPS_PY_TAG)
		lookup_sym(p, e->interval_ns, cb->task, sizeof(cb->task), NULL, 0);
	if (resumed)
		lookup_sym(p, LPS_PY_KEY(LPS_PY_LOC, resumed), cb->resumed_at,
			   sizeof(cb->resumed_at), NULL, 0);
	if (suspended)
		lookup_sym(p, LPS_PY_KEY(LPS_PY_LOC, suspended), cb->suspended_at,
			   sizeof(cb->suspended_at), NULL, 0);
}

static void fill_cb(const struct ls_probe_shm *p, const struct lps_event *e, struct ls_probe_cb *cb)
{
	memset(cb, 0, sizeof(*cb));
	cb->addr = e->key;
	cb->watcher = e->watcher;
	cb->arg = e->arg;
	cb->interval_ns = e->interval_ns;
	cb->start_ns = e->start_ns;
	cb->end_ns = e->end_ns;
	lookup_sym(p, e->key, cb->symbol, sizeof(cb->symbol), cb->module, sizeof(cb->module));
	if (e->watcher == LPS_W_ASYNCIO_TASK || e->watcher == LPS_W_ASYNCIO_CALLBACK)
		fill_py(p, e, cb);
}

static uint64_t overlap(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	uint64_t lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;

	return hi > lo ? hi - lo : 0;
}

struct find_ctx {
	uint32_t tid;
	uint64_t start, end;
	struct ls_stall_callback *out;
};

static bool slot_of_tid(const struct ls_probe_shm *p, uint32_t i, uint32_t tid)
{
	const struct lps_loop *s = loop_slot(p, i);
	uint32_t state = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);

	return (state == LPS_LOOP_LIVE || state == LPS_LOOP_GONE) &&
	       __atomic_load_n(&s->tid, __ATOMIC_RELAXED) == tid;
}

/* The stall libprobe logged itself for this period, when the ring has moved on. */
static bool from_stall_ring(const struct ls_probe_shm *p, const struct lps_loop *s,
			    struct find_ctx *c, uint64_t *best_ov)
{
	uint64_t head = __atomic_load_n(&s->stall_head, __ATOMIC_ACQUIRE), i;
	bool found = false;

	for (i = head > LPS_STALL_RING ? head - LPS_STALL_RING : 0; i < head; i++) {
		const struct lps_stall *e = &s->stall_ring[i % LPS_STALL_RING];
		struct lps_stall st;
		struct lps_event ev;
		uint64_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE), ov;

		memcpy(&st, e, sizeof(st));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (s1 != 2 * i + 2 || __atomic_load_n(&e->seq, __ATOMIC_RELAXED) != s1 ||
		    !st.cb_key || st.cb_end_ns < st.cb_start_ns)
			continue;
		ov = overlap(st.cb_start_ns, st.cb_end_ns, c->start, c->end);
		if (ov <= *best_ov)
			continue;
		*best_ov = ov;
		memset(&ev, 0, sizeof(ev));
		ev.key = st.cb_key;
		ev.watcher = known_watcher(p, st.cb_watcher);
		ev.reserved = st.reserved[0];
		ev.arg = st.cb_arg;
		ev.interval_ns = st.cb_interval_ns;
		ev.start_ns = st.cb_start_ns;
		ev.end_ns = st.cb_end_ns;
		fill_cb(p, &ev, &c->out->cb);
		lookup_name(p, st.seg_key, c->out->span, sizeof(c->out->span));
		found = true;
	}
	return found;
}

/*
 * The next older event of `kind` in a loop's ring that ends at `head`,
 * from index *k down (start with *k = head): true and *e, or false once
 * the walk passed the ring's oldest entry.
 */
static bool older(const struct ls_probe_shm *p, const struct lps_loop *s, uint64_t head,
		  uint64_t *k, uint32_t kind, struct lps_event *e)
{
	uint64_t mask = p->hdr.ring_len - 1;

	while ((*k)-- > 0 && head - *k <= mask + 1)
		if (read_event(p, s, *k, e) && e->kind == kind)
			return true;
	return false;
}

/* How long event e ran within [start, end): one still running counts up to end. */
static uint64_t overlap_open(const struct lps_event *e, uint64_t start, uint64_t end)
{
	return overlap(e->start_ns, e->end_ns ? e->end_ns : UINT64_MAX, start, end);
}

static int find_callback(struct ls_probe_shm *p, void *ctx)
{
	struct find_ctx *c = ctx;
	struct ls_stall_callback *out = c->out;
	const struct lps_loop *best_slot = NULL;
	uint64_t best_ov = 0, seg_ov = 0;
	struct lps_event e, best;
	uint32_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < p->hdr.max_loops; i++) {
		const struct lps_loop *s = loop_slot(p, i);
		uint64_t head, k;

		if (!slot_of_tid(p, i, c->tid))
			continue;
		head = ring_end(p, s);
		for (k = head; older(p, s, head, &k, LPS_K_CALLBACK, &e);) {
			uint64_t ov = overlap_open(&e, c->start, c->end);

			if (ov > best_ov) {
				best_ov = ov;
				best = e;
				best_slot = s;
			}
		}
	}
	if (best_slot) {
		const struct lps_loop *s = best_slot;
		uint64_t head = ring_end(p, s), k;
		uint64_t cb_end = best.end_ns ? best.end_ns : UINT64_MAX;
		unsigned n = 0;

		out->present = true;
		fill_cb(p, &best, &out->cb);
		/* the task segment that ran longest inside that callback, within the period */
		for (k = head; older(p, s, head, &k, LPS_K_SEGMENT, &e);) {
			uint64_t ov = overlap_open(&e, c->start, c->end);

			ov = ov ? overlap_open(&e, best.start_ns, cb_end) : 0;
			if (ov > seg_ov) {
				seg_ov = ov;
				lookup_name(p, e.key, out->span, sizeof(out->span));
				out->span_start_ns = e.start_ns;
				out->span_end_ns = e.end_ns;
			}
		}
		/* the flight recorder's tail up to the end of the period, oldest first */
		for (k = head; n < LS_PROBE_RECENT && older(p, s, head, &k, LPS_K_CALLBACK, &e);)
			if (e.start_ns < c->end)
				n++;
		out->n_recent = n;
		for (k = head; n > 0 && older(p, s, head, &k, LPS_K_CALLBACK, &e);)
			if (e.start_ns < c->end)
				fill_cb(p, &e, &out->recent[--n]);
		return 0;
	}
	/* the ring has moved on: libprobe's own stall log keeps the longest callback */
	for (i = 0; i < p->hdr.max_loops; i++)
		if (slot_of_tid(p, i, c->tid) && from_stall_ring(p, loop_slot(p, i), c, &best_ov))
			out->present = true;
	return out->present ? 0 : -ENOENT;
}

int ls_probe_shm__callback(struct ls_probe_shm *p, uint32_t tid, uint64_t start_ns, uint64_t end_ns,
			   struct ls_stall_callback *out)
{
	struct find_ctx c = {tid, start_ns, end_ns > start_ns ? end_ns : start_ns + 1, out};
	int err = guarded(p, find_callback, &c);

	if (err)
		memset(out, 0, sizeof(*out));
	return err;
}

int ls_probe_shm__callback_at(struct ls_probe_shm *p, uint32_t tid, uint64_t t,
			      struct ls_stall_callback *out)
{
	return ls_probe_shm__callback(p, tid, t, t + 1, out);
}

uint64_t ls_probe_hist_quantile(const uint64_t *counts, unsigned n, double q, uint64_t max_ns)
{
	uint64_t total = 0, seen = 0, rank, lo, hi, mid;
	unsigned i;

	for (i = 0; i < n; i++)
		total += counts[i];
	if (!total)
		return 0;
	rank = (uint64_t)(q * (double)total + 0.999999);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < n; i++) {
		seen += counts[i];
		if (seen < rank)
			continue;
		lo = lps_hist_lower(i);
		hi = lps_hist_lower(i + 1);
		mid = lo + (hi - lo) / 2;
		return max_ns && mid > max_ns ? max_ns : mid;
	}
	return max_ns;
}

struct thread_ctx {
	uint32_t tid;
	struct ls_probe_thread *out;
	uint64_t *hist;
};

static int sum_thread(struct ls_probe_shm *p, void *ctx)
{
	struct thread_ctx *c = ctx;
	struct ls_probe_thread *t = c->out;
	uint32_t i, b;

	memset(t, 0, sizeof(*t));
	memset(c->hist, 0, LPS_HIST_BUCKETS * sizeof(*c->hist));
	for (i = 0; i < p->hdr.max_loops; i++) {
		const struct lps_loop *s = loop_slot(p, i);
		uint64_t v;

		if (!slot_of_tid(p, i, c->tid))
			continue;
		t->loops++;
		t->iterations += __atomic_load_n(&s->iterations, __ATOMIC_RELAXED);
		t->callbacks += __atomic_load_n(&s->callbacks, __ATOMIC_RELAXED);
		t->busy_ns += __atomic_load_n(&s->busy_ns, __ATOMIC_RELAXED);
		t->poll_ns += __atomic_load_n(&s->poll_ns, __ATOMIC_RELAXED);
		t->callback_ns += __atomic_load_n(&s->callback_ns, __ATOMIC_RELAXED);
		t->stalls += __atomic_load_n(&s->stalls, __ATOMIC_RELAXED);
		t->awaits += __atomic_load_n(&s->awaits, __ATOMIC_RELAXED);
		v = __atomic_load_n(&s->max_callbacks_per_iteration, __ATOMIC_RELAXED);
		if (v > t->max_callbacks_per_iteration)
			t->max_callbacks_per_iteration = v;
		v = __atomic_load_n(&s->heartbeat_interval_ns, __ATOMIC_RELAXED);
		if (v)
			t->heartbeat_interval_ns = v;
		t->heartbeat_samples += __atomic_load_n(&s->heartbeat_samples, __ATOMIC_RELAXED);
		v = __atomic_load_n(&s->heartbeat_max_ns, __ATOMIC_RELAXED);
		if (v > t->heartbeat_max_ns)
			t->heartbeat_max_ns = v;
		for (b = 0; b < LPS_HIST_BUCKETS; b++)
			c->hist[b] += __atomic_load_n(&s->heartbeat_late[b], __ATOMIC_RELAXED);
	}
	if (!t->loops)
		return -ENOENT;
	t->present = true;
	t->heartbeat_p50_ns =
	    ls_probe_hist_quantile(c->hist, LPS_HIST_BUCKETS, 0.50, t->heartbeat_max_ns);
	t->heartbeat_p90_ns =
	    ls_probe_hist_quantile(c->hist, LPS_HIST_BUCKETS, 0.90, t->heartbeat_max_ns);
	t->heartbeat_p99_ns =
	    ls_probe_hist_quantile(c->hist, LPS_HIST_BUCKETS, 0.99, t->heartbeat_max_ns);
	return 0;
}

int ls_probe_shm__thread(struct ls_probe_shm *p, uint32_t tid, struct ls_probe_thread *out)
{
	struct thread_ctx c = {tid, out, calloc(LPS_HIST_BUCKETS, sizeof(uint64_t))};
	int err;

	if (!c.hist)
		return -ENOMEM;
	err = guarded(p, sum_thread, &c);
	free(c.hist);
	if (err)
		memset(out, 0, sizeof(*out));
	return err;
}

/* How often to look again for a region that was not there. */
#define RETRY_NS 250000000ull

struct probe_entry {
	pid_t pid;
	struct ls_probe_shm *shm;
	uint64_t next_try_ns;
};

struct ls_probe_set {
	struct probe_entry *e;
	size_t n, cap;
};

struct ls_probe_set *ls_probe_set__new(void)
{
	return calloc(1, sizeof(struct ls_probe_set));
}

static struct probe_entry *entry(struct ls_probe_set *set, pid_t pid, bool add)
{
	void *grown;
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->e[i].pid == pid)
			return &set->e[i];
	if (!add)
		return NULL;
	grown = ls_grow(set->e, &set->cap, set->n + 1, sizeof(*set->e), 8);
	if (!grown)
		return NULL;
	set->e = grown;
	memset(&set->e[set->n], 0, sizeof(set->e[0]));
	set->e[set->n].pid = pid;
	return &set->e[set->n++];
}

/* Still the file at the region's path? An exec'd process makes a new one. */
static bool current(pid_t pid, const struct ls_probe_shm *p)
{
	struct ls_probe_expect ex;
	char root[64], name[64];
	struct stat st;
	int rootfd, fd;
	bool same = true;

	if (region_name(pid, name, sizeof(name), &ex))
		return true; /* gone: what is mapped is all there is */
	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return true;
	fd = open_in_root(rootfd, name);
	close(rootfd);
	if (fd < 0)
		return true;
	if (!fstat(fd, &st))
		same = st.st_dev == p->dev && st.st_ino == p->ino;
	close(fd);
	return same;
}

static struct ls_probe_shm *get(struct ls_probe_set *set, pid_t pid, uint64_t now, bool recheck)
{
	struct probe_entry *e = entry(set, pid, true);

	if (!e)
		return NULL;
	if (e->shm && (e->shm->broken || (recheck && !current(pid, e->shm)))) {
		ls_probe_shm__free(e->shm);
		e->shm = NULL;
		e->next_try_ns = 0;
	}
	/*
	 * A stall (recheck) tries again at once: a child that forked a moment
	 * ago makes its region on its first iterations, and may stall before
	 * the retry is due.
	 */
	if (!e->shm && (recheck || now >= e->next_try_ns) && ls_probe_shm__open(pid, &e->shm))
		e->next_try_ns = now + RETRY_NS;
	return e->shm;
}

void ls_probe_set__watch(struct ls_probe_set *set, pid_t pid)
{
	if (set)
		get(set, pid, ls_now_ns(), false);
}

void ls_probe_set__poll(struct ls_probe_set *set, uint64_t now_ns)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->n; i++) {
		struct probe_entry *e = &set->e[i];

		if (!e->shm && now_ns >= e->next_try_ns && ls_probe_shm__open(e->pid, &e->shm))
			e->next_try_ns = now_ns + RETRY_NS;
	}
}

/* pid's region now, if the set has one (and a set there is). */
static struct ls_probe_shm *region(struct ls_probe_set *set, uint32_t pid, bool recheck)
{
	return set ? get(set, (pid_t)pid, ls_now_ns(), recheck) : NULL;
}

void ls_probe_set__fill_stall(struct ls_probe_set *set, struct ls_stall *s)
{
	struct ls_probe_shm *p = region(set, s->pid, true);

	memset(&s->callback, 0, sizeof(s->callback));
	if (p)
		ls_probe_shm__callback(p, s->tid, s->start_ns, s->end_ns, &s->callback);
}

void ls_probe_set__fill_thread(struct ls_probe_set *set, struct ls_thread_summary *ts)
{
	struct ls_probe_shm *p = region(set, ts->pid, false);

	memset(&ts->probe, 0, sizeof(ts->probe));
	if (p)
		ls_probe_shm__thread(p, ts->tid, &ts->probe);
}

void ls_probe_set__free(struct ls_probe_set *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->n; i++)
		ls_probe_shm__free(set->e[i].shm);
	free(set->e);
	free(set);
}
