// SPDX-License-Identifier: BSD-2-Clause
/*
 * Every libev watcher type, timed by libprobe: each callback notes when it
 * ran, then the process's own region is read back with the agent's reader
 * (probe_shm.c) and must name that callback, its watcher type and its fd or
 * signal at that moment. The program also sets its own invoke-pending and
 * release/acquire hooks and userdata, which must all still work.
 *
 * Built twice: with LPROBE_SOURCE_MODE (lprobe_ev.h, libprobe.a,
 * lp_ev_attach) and without (plain libev; ctest runs it under
 * LD_PRELOAD=libprobe.so). No root needed.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#ifdef LPROBE_SOURCE_MODE
#include <lprobe_ev.h>
#else
#include <ev.h>
#endif
#include "lprobe_shm.h"
#include "probe_shm.h"

struct seen {
	const char *symbol;
	uintptr_t fn; /* the callback's address, as libprobe records it */
	uint32_t watcher;
	int arg; /* fd or signal number; -1: not checked */
	uint64_t at_ns;
	int count;
};

static struct seen seen[LPS_W_COUNT];
static unsigned user_invokes, releases, acquires;
static int userdata_token;
static int pipe_fds[2], inner_pipe[2];
static char stat_path[64];
static pid_t child;
static struct ev_loop *inner, *doomed;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Run long enough that the moment noted is well inside libprobe's timestamps. */
static void note(uint32_t watcher, const char *symbol, uintptr_t fn, int arg, struct ev_loop *loop)
{
	struct timespec pause = {0, 300000};

	nanosleep(&pause, NULL);
	seen[watcher].symbol = symbol;
	seen[watcher].fn = fn;
	seen[watcher].watcher = watcher;
	seen[watcher].arg = arg;
	seen[watcher].at_ns = mono_ns();
	seen[watcher].count++;
	nanosleep(&pause, NULL);
	/* the program's userdata is its own: libprobe never touches it */
	if (loop && loop != doomed)
		assert_ptr_equal(ev_userdata(loop), &userdata_token);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	char c;

	(void)revents;
	if (read(w->fd, &c, 1) != 1)
		fail_msg("read: %s", strerror(errno));
	note(LPS_W_IO, "on_io", (uintptr_t)on_io, w->fd, loop);
	ev_io_stop(loop, w);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	note(LPS_W_TIMER, "on_timer", (uintptr_t)on_timer, -1, loop);
	/* one-shot: libev stopped it already */
}

static void on_periodic(struct ev_loop *loop, ev_periodic *w, int revents)
{
	(void)revents;
	note(LPS_W_PERIODIC, "on_periodic", (uintptr_t)on_periodic, -1, loop);
	ev_periodic_stop(loop, w);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	note(LPS_W_SIGNAL, "on_signal", (uintptr_t)on_signal, w->signum, loop);
	ev_signal_stop(loop, w);
}

static void on_child(struct ev_loop *loop, ev_child *w, int revents)
{
	(void)revents;
	note(LPS_W_CHILD, "on_child", (uintptr_t)on_child, w->rpid, loop);
	ev_child_stop(loop, w);
}

static void on_stat(struct ev_loop *loop, ev_stat *w, int revents)
{
	(void)revents;
	note(LPS_W_STAT, "on_stat", (uintptr_t)on_stat, -1, loop);
	ev_stat_stop(loop, w);
}

static void on_idle(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)revents;
	note(LPS_W_IDLE, "on_idle", (uintptr_t)on_idle, -1, loop);
	ev_idle_stop(loop, w);
}

static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)revents;
	note(LPS_W_PREPARE, "on_prepare", (uintptr_t)on_prepare, -1, loop);
	ev_prepare_stop(loop, w);
}

static void on_check(struct ev_loop *loop, ev_check *w, int revents)
{
	(void)revents;
	note(LPS_W_CHECK, "on_check", (uintptr_t)on_check, -1, loop);
	ev_check_stop(loop, w);
}

static void on_inner_io(struct ev_loop *loop, ev_io *w, int revents)
{
	char c;

	(void)revents;
	if (read(w->fd, &c, 1) != 1)
		fail_msg("inner read");
	ev_io_stop(loop, w);
}

static void on_embed(struct ev_loop *loop, ev_embed *w, int revents)
{
	(void)revents;
	note(LPS_W_EMBED, "on_embed", (uintptr_t)on_embed, -1, loop);
	ev_embed_sweep(loop, w);
	ev_embed_stop(loop, w);
}

static void on_fork(struct ev_loop *loop, ev_fork *w, int revents)
{
	(void)revents;
	note(LPS_W_FORK, "on_fork", (uintptr_t)on_fork, -1, loop);
	ev_fork_stop(loop, w);
}

static void on_cleanup(struct ev_loop *loop, ev_cleanup *w, int revents)
{
	(void)w;
	(void)revents;
	note(LPS_W_CLEANUP, "on_cleanup", (uintptr_t)on_cleanup, -1, loop);
}

static void on_async(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)revents;
	note(LPS_W_ASYNC, "on_async", (uintptr_t)on_async, -1, loop);
	ev_async_stop(loop, w);
}

/* Fires the events that need the loop running first. */
static void on_kick(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (write(pipe_fds[1], "x", 1) != 1 || write(inner_pipe[1], "y", 1) != 1)
		fail_msg("write");
	raise(SIGUSR1);
	/* a stat change libev sees (inotify, or its polling timer) */
	{
		int fd = open(stat_path, O_WRONLY | O_APPEND);

		if (fd < 0 || write(fd, "z", 1) != 1)
			fail_msg("stat file");
		close(fd);
	}
}

static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void user_invoke(struct ev_loop *loop)
{
	user_invokes++;
	ev_invoke_pending(loop);
}

static void user_release(struct ev_loop *loop)
{
	(void)loop;
	releases++;
}

static void user_acquire(struct ev_loop *loop)
{
	(void)loop;
	acquires++;
}

static int count_threads(void)
{
	struct dirent *d;
	DIR *dir = opendir("/proc/self/task");
	int n = 0;

	assert_non_null(dir);
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* Let libprobe's reporter, if it runs, write what it has (it does so every few ms anyway). */
static void flush_libprobe(void)
{
#ifdef LPROBE_SOURCE_MODE
	assert_int_equal(lp_flush(), 0);
#else
	int (*flush)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "lp_flush");

	assert_non_null(flush);
	assert_int_equal(flush(), 0);
#endif
}

static void every_watcher_type(void **state)
{
	struct ev_loop *loop = EV_DEFAULT;
	ev_io io, inner_io;
	ev_timer timer, kick, deadline;
	ev_periodic periodic;
	ev_signal sig;
	ev_child ch;
	ev_stat st;
	ev_idle idle;
	ev_prepare prepare;
	ev_check check;
	ev_embed embed;
	ev_fork fork_w;
	ev_cleanup cleanup;
	ev_async async;
	struct ls_probe_shm *shm = NULL;
	struct ls_stall_callback cb;
	uint32_t tid = (uint32_t)syscall(SYS_gettid);
	int fd, w, err;

	(void)state;
	assert_non_null(loop);
#ifdef LPROBE_SOURCE_MODE
	assert_int_equal(lp_ev_attach(loop), 0);
#endif
	ev_set_userdata(loop, &userdata_token);
	ev_set_invoke_pending_cb(loop, user_invoke);
	ev_set_loop_release_cb(loop, user_release, user_acquire);

	assert_int_equal(pipe(pipe_fds), 0);
	assert_int_equal(pipe(inner_pipe), 0);
	snprintf(stat_path, sizeof(stat_path), "/tmp/lprobe-stat-%d", (int)getpid());
	fd = open(stat_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);

	ev_io_init(&io, on_io, pipe_fds[0], EV_READ);
	ev_io_start(loop, &io);
	ev_timer_init(&timer, on_timer, 0.001, 0.);
	ev_timer_start(loop, &timer);
	ev_periodic_init(&periodic, on_periodic, 0., 0.002, 0);
	ev_periodic_start(loop, &periodic);
	ev_signal_init(&sig, on_signal, SIGUSR1);
	ev_signal_start(loop, &sig);
	child = fork();
	if (!child)
		_exit(0);
	ev_child_init(&ch, on_child, child, 0);
	ev_child_start(loop, &ch);
	ev_stat_init(&st, on_stat, stat_path, 0.01);
	ev_stat_start(loop, &st);
	ev_idle_init(&idle, on_idle);
	ev_idle_start(loop, &idle);
	ev_prepare_init(&prepare, on_prepare);
	ev_prepare_start(loop, &prepare);
	ev_check_init(&check, on_check);
	ev_check_start(loop, &check);
	inner = ev_loop_new(ev_embeddable_backends() & ev_recommended_backends());
	assert_non_null(inner);
	ev_io_init(&inner_io, on_inner_io, inner_pipe[0], EV_READ);
	ev_io_start(inner, &inner_io);
	ev_embed_init(&embed, on_embed, inner);
	ev_embed_start(loop, &embed);
	ev_fork_init(&fork_w, on_fork);
	ev_fork_start(loop, &fork_w);
	ev_loop_fork(loop);
	ev_async_init(&async, on_async);
	ev_async_start(loop, &async);
	ev_async_send(loop, &async);
	ev_timer_init(&kick, on_kick, 0.005, 0.);
	ev_timer_start(loop, &kick);
	ev_timer_init(&deadline, on_deadline, 5., 0.);
	ev_timer_start(loop, &deadline);

	/* ends when every watcher stopped itself (or at the deadline) */
	while (ev_run(loop, EVRUN_ONCE))
		if (seen[LPS_W_IO].count && seen[LPS_W_TIMER].count && seen[LPS_W_PERIODIC].count &&
		    seen[LPS_W_SIGNAL].count && seen[LPS_W_CHILD].count && seen[LPS_W_STAT].count &&
		    seen[LPS_W_IDLE].count && seen[LPS_W_PREPARE].count &&
		    seen[LPS_W_CHECK].count && seen[LPS_W_EMBED].count && seen[LPS_W_FORK].count &&
		    seen[LPS_W_ASYNC].count)
			break;
	ev_timer_stop(loop, &deadline);
	ev_io_stop(inner, &inner_io);

	/* cleanup watchers run inside ev_loop_destroy, on a loop of their own */
	doomed = ev_loop_new(0);
	assert_non_null(doomed);
#ifdef LPROBE_SOURCE_MODE
	assert_int_equal(lp_ev_attach(doomed), 0);
#endif
	ev_cleanup_init(&cleanup, on_cleanup);
	ev_cleanup_start(doomed, &cleanup);
	/* libprobe sees the destroyed loop's thread only once it ran */
	ev_run(doomed, EVRUN_NOWAIT);
	ev_loop_destroy(doomed);

	for (w = LPS_W_IO; w <= LPS_W_ASYNC; w++)
		if (!seen[w].count)
			fail_msg("the %s watcher never fired", ls_probe_watcher_name((uint32_t)w));
	/* the program's own hooks were called, behind libprobe's */
	assert_true(user_invokes > 0);
	assert_true(releases > 0);
	assert_true(acquires > 0);

	/* nothing asked for libprobe's reporter (no LPROBE_OUTPUT, no tracer): no thread */
	if (!getenv("LPROBE_OUTPUT"))
		assert_int_equal(count_threads(), 1);
	flush_libprobe();
	err = ls_probe_shm__open(getpid(), &shm);
	assert_int_equal(err, 0);
	for (w = LPS_W_IO; w <= LPS_W_ASYNC; w++) {
		const struct seen *s = &seen[w];

		err = ls_probe_shm__callback_at(shm, tid, s->at_ns, &cb);
		if (err)
			fail_msg("%s: no callback at %llu (%s)", s->symbol,
				 (unsigned long long)s->at_ns, strerror(-err));
		/* without a reporter thread the region has the address; the agent names it */
		if (cb.cb.addr != s->fn || (cb.cb.symbol[0] && strcmp(cb.cb.symbol, s->symbol)) ||
		    cb.cb.watcher != s->watcher)
			fail_msg("%s (%s): libprobe says %#llx %s (%s)", s->symbol,
				 ls_probe_watcher_name(s->watcher), (unsigned long long)cb.cb.addr,
				 cb.cb.symbol, ls_probe_watcher_name(cb.cb.watcher));
		if (s->arg >= 0 && (w == LPS_W_IO || w == LPS_W_SIGNAL || w == LPS_W_CHILD))
			assert_int_equal(cb.cb.arg, s->arg);
		assert_true(cb.cb.start_ns <= s->at_ns && s->at_ns <= cb.cb.end_ns);
	}
	ls_probe_shm__free(shm);
	ev_loop_destroy(inner);
	unlink(stat_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_watcher_type),
	};

#ifndef LPROBE_SOURCE_MODE
	/* this build is only meaningful with libprobe preloaded */
	if (!dlsym(RTLD_DEFAULT, "lp_flush")) {
		fprintf(stderr, "libprobe is not preloaded (LD_PRELOAD=libprobe.so)\n");
		return 1;
	}
#endif
	return cmocka_run_group_tests(tests, NULL, NULL);
}
