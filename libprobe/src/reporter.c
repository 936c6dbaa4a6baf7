// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The reporter: libprobe's one background thread, started only when
 * something needs it (lpi_reporter_maybe): stall records to write
 * (LPROBE_OUTPUT, lp_set_output) or a tracer attached to the stall_begin
 * probe. A second thread costs the whole program: glibc's read, write and
 * other cancellation points take a slower path in a multi-threaded process.
 * Loop threads never do I/O or resolve symbols; every few milliseconds this
 * thread
 *   - notices busy periods that are over the threshold while they last
 *     (USDT stall_begin, and a stall_begin record),
 *   - writes a stall record for each stall the loops logged, naming its
 *     callbacks (dladdr, ELF symbols) into the region's symbol table as it
 *     goes, and the entry running in a stall that builds up; it never reads
 *     the rings the loops are writing otherwise. Without it the agent names
 *     callbacks itself, from the addresses in the region.
 * It waits on a condition variable, not in poll or epoll, so the agent
 * never takes it for a loop thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include "config.h"
#include "jsonl.h"
#include "runtime.h"
#include "symbols.h"
#include "symtab.h"
#include "usdt.h"

/*
 * A wakeup costs tens of microseconds of CPU on a VM: tick slowly, and
 * fast only while some loop's busy period is on its way to a stall (so a
 * stall_begin and the running callback's name come within FAST_TICK_NS).
 */
#define TICK_NS 20000000ull
#define FAST_TICK_NS 5000000ull
#define RECENT_MAX 5
#define NAME_MAX_LEN 200

struct slot_seen {
	uint64_t loop_id;
	uint64_t stall_head; /* stall entries already written */
	uint64_t begun;	     /* busy period announced as a stall in progress */
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	pthread_t thread;
	bool running;
	bool stop;
	uint64_t flush_req;
	uint64_t flush_done;
	int out_fd;
	uint32_t out_gen;
	int64_t unix_offset; /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	struct slot_seen seen[LPS_MAX_LOOPS];
	void *region_base; /* the region seen[] is about */
} rep = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .out_fd = -1,
};

static int64_t unix_offset(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return ((int64_t)rt.tv_sec - mono.tv_sec) * 1000000000ll + (rt.tv_nsec - mono.tv_nsec);
}

static void thread_comm(uint32_t tid, char comm[16])
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%u/comm", tid);
	comm[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, comm, 15);
	close(fd);
	comm[n > 0 ? n : 0] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

/* Copy a name the program passed (lp_await_*, lp_yield) without trusting the pointer. */
static size_t read_name(uint64_t key, char *out, size_t len)
{
	struct iovec local = {out, len - 1};
	struct iovec remote = {(void *)(uintptr_t)key, len - 1};
	ssize_t n;
	size_t i;

	/* a string near the end of a mapping: read what there is */
	n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	if (n <= 0) {
		remote.iov_len = local.iov_len = 16;
		n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	}
	if (n <= 0)
		return 0;
	out[n] = '\0';
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] >= 0x7f)
			out[i] = '?';
	return i;
}

/* An await point's name: key is the address of the string passed to lp_await_begin/lp_yield. */
static int await_name(uint64_t key, char *name, size_t name_len, char *module, size_t module_len)
{
	(void)module;
	(void)module_len;
	read_name(key, name, name_len < NAME_MAX_LEN ? name_len : NAME_MAX_LEN);
	return 0;
}

/* Name key once; returns its entry (NULL when the table is full). */
static struct lps_sym *publish(struct lpi_region *r, uint64_t key, bool is_name)
{
	if (is_name)
		return lpi_symtab_add_named(r, key, LPS_SYM_NAME, await_name);
	return lpi_symtab_add_named(r, key, 0, lpi_symbolize);
}

/* Copy ring entry i if it is stable and still entry i. */
static bool read_event(const struct lps_event *ring, uint64_t mask, uint64_t i,
		       struct lps_event *out)
{
	const struct lps_event *e = &ring[i & mask];
	uint64_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);

	if (s1 != 4 * i + 2 && s1 != 4 * i + 4)
		return false;
	*out = *e;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&e->seq, __ATOMIC_RELAXED) == s1;
}

/* Name the entry a loop runs now (a stall building up). */
static void name_running(struct lpi_region *r, struct lps_loop *s)
{
	const struct lps_event *ring = (const struct lps_event *)(s + 1);
	uint64_t mask = r->hdr->ring_len - 1;
	uint64_t head = lps_ring_end(ring, mask, __atomic_load_n(&s->ring_head, __ATOMIC_ACQUIRE));
	struct lps_event e;

	if (head && read_event(ring, mask, head - 1, &e))
		publish(r, e.key, e.kind != LPS_K_CALLBACK);
}

static void fill_cb(struct lpi_region *r, struct lpi_cb_report *c, char *sym, char *mod, size_t len)
{
	struct lps_sym *e = publish(r, c->addr, false);

	c->symbol = e ? lpi_symtab_text(r, e, false, sym, len) : NULL;
	c->module = e ? lpi_symtab_text(r, e, true, mod, len) : NULL;
}

static void write_line(const char *buf, size_t len)
{
	if (rep.out_fd >= 0 && len)
		if (write(rep.out_fd, buf, len) < 0)
			return; /* a full disk loses records, never the service */
}

static void report_stall(struct lpi_region *r, struct lps_loop *s, const struct lps_stall *st)
{
	static char syms[RECENT_MAX + 1][2][256];
	const struct lps_event *ring = (const struct lps_event *)(s + 1);
	uint64_t mask = r->hdr->ring_len - 1, head, i;
	struct lpi_cb_report recent[RECENT_MAX];
	struct lpi_stall_report rep_ = {0};
	char comm[16], span[NAME_MAX_LEN + 1], line[8192];
	struct lps_event e;
	unsigned n = 0, k;

	rep_.pid = (uint32_t)getpid();
	rep_.tid = s->tid;
	thread_comm(s->tid, comm);
	rep_.comm = comm;
	rep_.start_ns = st->start_ns;
	rep_.end_ns = st->end_ns;
	rep_.start_unix_ns = (int64_t)st->start_ns + rep.unix_offset;
	rep_.end_unix_ns = (int64_t)st->end_ns + rep.unix_offset;
	rep_.threshold_ns = __atomic_load_n(&lpi_rt.cfg.threshold_ns, __ATOMIC_RELAXED);
	rep_.callbacks = st->callbacks;
	if (st->cb_key) {
		rep_.has_cb = true;
		rep_.cb = (struct lpi_cb_report){
		    .addr = st->cb_key,
		    .watcher = st->cb_watcher,
		    .arg = st->cb_arg,
		    .interval_ns = st->cb_interval_ns,
		    .start_ns = st->cb_start_ns,
		    .end_ns = st->cb_end_ns,
		};
		fill_cb(r, &rep_.cb, syms[0][0], syms[0][1], sizeof(syms[0][0]));
	}
	if (st->seg_key) {
		struct lps_sym *e2 = publish(r, st->seg_key, true);

		rep_.span = e2 ? lpi_symtab_text(r, e2, false, span, sizeof(span)) : NULL;
	}
	/* the flight recorder's last callbacks up to the stall's end, oldest first */
	head = lps_ring_end(ring, mask, __atomic_load_n(&s->ring_head, __ATOMIC_ACQUIRE));
	for (i = head; i-- > 0 && head - i <= mask + 1 && n < RECENT_MAX;) {
		if (!read_event(ring, mask, i, &e) || e.kind != LPS_K_CALLBACK ||
		    e.start_ns > st->end_ns || !e.end_ns)
			continue;
		recent[n++] = (struct lpi_cb_report){
		    .addr = e.key,
		    .watcher = e.watcher,
		    .arg = e.arg,
		    .interval_ns = e.interval_ns,
		    .start_ns = e.start_ns,
		    .end_ns = e.end_ns,
		};
	}
	for (k = 0; k < n / 2; k++) {
		struct lpi_cb_report t = recent[k];

		recent[k] = recent[n - 1 - k];
		recent[n - 1 - k] = t;
	}
	for (k = 0; k < n; k++)
		fill_cb(r, &recent[k], syms[k + 1][0], syms[k + 1][1], sizeof(syms[0][0]));
	rep_.recent = recent;
	rep_.n_recent = n;
	write_line(line, lpi_json_stall(line, sizeof(line), &rep_));
}

static void scan_stalls(struct lpi_region *r, struct lps_loop *s, struct slot_seen *seen,
			uint64_t now)
{
	uint64_t head = __atomic_load_n(&s->stall_head, __ATOMIC_ACQUIRE), i;
	uint64_t busy = __atomic_load_n(&s->busy_start_ns, __ATOMIC_ACQUIRE);
	uint64_t threshold = __atomic_load_n(&lpi_rt.cfg.threshold_ns, __ATOMIC_RELAXED);
	char comm[16], line[512];

	/* a stall building up: name what runs now, before anyone asks */
	if (busy && now > busy && now - busy >= threshold / 2)
		name_running(r, s);
	if (busy && now > busy && now - busy >= threshold && busy != seen->begun) {
		seen->begun = busy;
		LPI_USDT_STALL_BEGIN(s->tid, busy);
		if (rep.out_fd >= 0) {
			thread_comm(s->tid, comm);
			write_line(line, lpi_json_stall_begin(line, sizeof(line),
							      (uint32_t)getpid(), s->tid, comm,
							      (int64_t)busy + rep.unix_offset,
							      now - busy, threshold));
		}
	}
	i = head - seen->stall_head > LPS_STALL_RING ? head - LPS_STALL_RING : seen->stall_head;
	for (; i < head; i++) {
		const struct lps_stall *e = &s->stall_ring[i % LPS_STALL_RING];
		uint64_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		struct lps_stall copy = *e;

		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (s1 != 2 * i + 2 || __atomic_load_n(&e->seq, __ATOMIC_RELAXED) != s1)
			continue;
		if (copy.cb_key)
			publish(r, copy.cb_key, false);
		if (rep.out_fd >= 0)
			report_stall(r, s, &copy);
	}
	seen->stall_head = head;
}

static void reopen_output(void)
{
	char path[PATH_MAX], pattern[PATH_MAX];
	uint32_t gen;

	pthread_mutex_lock(&lpi_rt.lock);
	gen = lpi_rt.cfg.output_gen;
	if (gen == rep.out_gen) {
		pthread_mutex_unlock(&lpi_rt.lock);
		return;
	}
	memcpy(pattern, lpi_rt.cfg.output, sizeof(pattern));
	pthread_mutex_unlock(&lpi_rt.lock);
	rep.out_gen = gen;
	if (rep.out_fd >= 0)
		close(rep.out_fd);
	rep.out_fd = -1;
	if (pattern[0] && !lpi_expand_path(pattern, (int)getpid(), path, sizeof(path)))
		rep.out_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

/* Returns the time to the next tick. */
static uint64_t tick(void)
{
	struct lpi_region r;
	uint64_t now = lpi_mono_ns(), next = TICK_NS, busy;
	uint32_t i;

	/* loops refit the clock as they iterate: this is for loops that wait long in their poll */
	__atomic_store_n(&lpi_hot.calib_due_ns, lpi_clock_tick(now), __ATOMIC_RELAXED);
	rep.unix_offset = unix_offset();
	reopen_output();
	pthread_mutex_lock(&lpi_rt.lock);
	r = lpi_rt.region;
	pthread_mutex_unlock(&lpi_rt.lock);
	if (!r.base)
		return TICK_NS;
	if (r.base != rep.region_base) {
		rep.region_base = r.base;
		memset(rep.seen, 0, sizeof(rep.seen));
	}
	for (i = 0; i < r.hdr->max_loops && i < LPS_MAX_LOOPS; i++) {
		struct lps_loop *s = lpi_region_loop(&r, i);
		struct slot_seen *seen = &rep.seen[i];
		uint32_t state = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);

		if (state == LPS_LOOP_FREE)
			continue;
		if (seen->loop_id != s->loop_id) {
			memset(seen, 0, sizeof(*seen));
			seen->loop_id = s->loop_id;
		}
		now = lpi_now();
		scan_stalls(&r, s, seen, now);
		busy = __atomic_load_n(&s->busy_start_ns, __ATOMIC_RELAXED);
		if (busy && now > busy && now - busy >= lpi_rt.cfg.threshold_ns / 4)
			next = FAST_TICK_NS;
	}
	return next;
}

static void *reporter_main(void *arg)
{
	struct timespec until;
	uint64_t req, wait = TICK_NS;
	bool stop;

	(void)arg;
	prctl(PR_SET_NAME, "lprobe-reporter");
	pthread_mutex_lock(&rep.mu);
	for (;;) {
		req = rep.flush_req;
		stop = rep.stop;
		pthread_mutex_unlock(&rep.mu);
		wait = tick();
		pthread_mutex_lock(&rep.mu);
		rep.flush_done = req;
		pthread_cond_broadcast(&rep.cond);
		if (stop)
			break;
		if (rep.flush_req != req || rep.stop)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += (long)wait;
		if (until.tv_nsec >= 1000000000l) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000l;
		}
		pthread_cond_timedwait(&rep.cond, &rep.mu, &until);
	}
	pthread_mutex_unlock(&rep.mu);
	return NULL;
}

void lpi_reporter_ensure(void)
{
	pthread_condattr_t ca;
	sigset_t all, old;

	pthread_mutex_lock(&rep.mu);
	if (rep.running) {
		pthread_mutex_unlock(&rep.mu);
		return;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rep.cond, &ca);
	pthread_condattr_destroy(&ca);
	rep.stop = false;
	/* signals are the program's: they must never land on this thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rep.running = !pthread_create(&rep.thread, NULL, reporter_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* set even if it failed: loops must not try again at every iteration */
	__atomic_store_n(&lpi_hot.reporter, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&rep.mu);
}

void lpi_reporter_maybe(void)
{
	if (__atomic_load_n(&lpi_rt.cfg.output[0], __ATOMIC_RELAXED) ||
	    LPI_USDT_STALL_BEGIN_ENABLED())
		lpi_reporter_ensure();
}

void lpi_reporter_forget(void)
{
	/* fork: the thread is gone, and the mutex may have been held by it */
	pthread_mutex_init(&rep.mu, NULL);
	rep.running = false;
	__atomic_store_n(&lpi_hot.reporter, 0, __ATOMIC_RELAXED);
	rep.flush_req = rep.flush_done = 0;
	memset(rep.seen, 0, sizeof(rep.seen));
	rep.region_base = NULL;
	/* a %p output names the child's own file */
	if (rep.out_fd >= 0)
		close(rep.out_fd);
	rep.out_fd = -1;
	rep.out_gen = 0;
}

int lpi_reporter_flush(void)
{
	struct timespec until;
	uint64_t req;
	int err = 0;

	pthread_mutex_lock(&rep.mu);
	if (!rep.running) {
		pthread_mutex_unlock(&rep.mu);
		return 0;
	}
	req = ++rep.flush_req;
	pthread_cond_broadcast(&rep.cond);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += 2;
	while (rep.flush_done < req && !err)
		err = pthread_cond_timedwait(&rep.cond, &rep.mu, &until);
	pthread_mutex_unlock(&rep.mu);
	return err ? -ETIMEDOUT : 0;
}

void lpi_reporter_stop(void)
{
	bool running;

	pthread_mutex_lock(&rep.mu);
	running = rep.running;
	rep.stop = true;
	pthread_cond_broadcast(&rep.cond);
	pthread_mutex_unlock(&rep.mu);
	/* its last tick writes the stalls logged so far */
	if (running)
		pthread_join(rep.thread, NULL);
	rep.running = false;
}
