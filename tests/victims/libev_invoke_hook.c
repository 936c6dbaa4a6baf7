// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * An unmodified libev program that uses libev's hooks itself, as libev's
 * manual shows for loops shared between threads: its own invoke-pending
 * callback and release/acquire callbacks around a mutex, found through the
 * loop's userdata; a second thread takes the mutex now and then to feed
 * the loop. Under LD_PRELOAD=libprobe.so the program's hooks must all keep
 * working, and the stall in on_request_timer (--ms) must still be named.
 *
 * Prints `ready`, runs on SIGUSR2 (--wait-signal) or after 200 ms, prints
 * `scenario request begin/end`, then `hooks invoke=N release=N acquire=N
 * userdata=ok|bad` and `done`.
 *
 * usage: libev_invoke_hook [--ms N] [--wait-signal]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "victim.h"

#define PROG "libev_invoke_hook"

struct shared {
	pthread_mutex_t lock;
	unsigned long invokes, releases, acquires;
	bool userdata_ok;
	atomic_bool stop;
	ev_async wake;
	struct ev_loop *loop;
};

static unsigned long opt_ms = 200;
static struct victim_start start;
static ev_timer request_timer, finish_timer;
static volatile unsigned long sink;

static struct shared *shared_of(struct ev_loop *loop)
{
	struct shared *s = ev_userdata(loop);

	if (!s || s->loop != loop)
		abort(); /* the program's userdata must be its own */
	return s;
}

static void l_invoke(struct ev_loop *loop)
{
	struct shared *s = shared_of(loop);

	s->invokes++;
	ev_invoke_pending(loop);
}

static void l_release(struct ev_loop *loop)
{
	struct shared *s = shared_of(loop);

	s->releases++;
	pthread_mutex_unlock(&s->lock);
}

static void l_acquire(struct ev_loop *loop)
{
	struct shared *s = shared_of(loop);

	pthread_mutex_lock(&s->lock);
	s->acquires++;
}

__attribute__((noinline)) static void parse_request(unsigned long ms)
{
	usleep((useconds_t)(ms * 1000));
	sink++;
}

static void on_request_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	victim_say("scenario request begin");
	parse_request(opt_ms);
	victim_say("scenario request end");
	ev_timer_set(&finish_timer, 0.3, 0.);
	ev_timer_start(loop, &finish_timer);
}

static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	sink++;
}

static void on_finish(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Another thread that touches the loop only under the program's mutex. */
static void *feeder(void *arg)
{
	struct shared *s = arg;

	while (!atomic_load(&s->stop)) {
		usleep(20000);
		pthread_mutex_lock(&s->lock);
		ev_async_send(s->loop, &s->wake);
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct shared s = {.lock = PTHREAD_MUTEX_INITIALIZER};
	bool wait_signal = false;
	const struct victim_opt opts[] = {
	    {"--ms", .value = &opt_ms},
	    {"--wait-signal", .flag = &wait_signal},
	    {0},
	};
	pthread_t thread;

	if (victim_args(PROG, PROG " [--ms N] [--wait-signal]", argc, argv, opts))
		return 2;
	s.loop = ev_default_loop(0);
	ev_set_userdata(s.loop, &s);
	ev_set_invoke_pending_cb(s.loop, l_invoke);
	ev_set_loop_release_cb(s.loop, l_release, l_acquire);
	ev_async_init(&s.wake, on_wake);
	ev_async_start(s.loop, &s.wake);
	ev_init(&request_timer, on_request_timer);
	ev_init(&finish_timer, on_finish);
	victim_start(s.loop, &start, &request_timer, 0.05, wait_signal, 200);
	pthread_mutex_lock(&s.lock);
	if (pthread_create(&thread, NULL, feeder, &s)) {
		fprintf(stderr, PROG ": cannot start a thread\n");
		return 1;
	}
	victim_say("ready pid=%d", (int)getpid());
	ev_run(s.loop, 0);
	pthread_mutex_unlock(&s.lock);
	atomic_store(&s.stop, true);
	pthread_join(thread, NULL);
	s.userdata_ok = ev_userdata(s.loop) == &s;
	victim_say("hooks invoke=%lu release=%lu acquire=%lu userdata=%s", s.invokes, s.releases,
		   s.acquires, s.userdata_ok ? "ok" : "bad");
	victim_say("done");
	usleep(300000);
	return 0;
}
