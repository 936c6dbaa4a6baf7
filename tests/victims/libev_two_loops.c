// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * An unmodified libev program with two loops in two threads (ev_loop_new in
 * each), for LD_PRELOAD=libprobe.so. Each loop has a 10 ms heartbeat; on
 * the go signal the "ingest" loop's timer callback on_ingest_batch blocks
 * for --ingest-ms, then the "flush" loop's on_flush_batch for --flush-ms.
 * test_libprobe_two_loops.py expects each stall on its own thread, naming
 * its own callback.
 *
 * Prints `ready`, then `thread NAME tid=N` for both loops; runs on SIGUSR2
 * (--wait-signal) or after 200 ms; prints `scenario NAME begin/end` and,
 * when both are over, `done`.
 *
 * usage: libev_two_loops [--ingest-ms N] [--flush-ms N] [--wait-signal]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ev.h>

#include "victim.h"

#define PROG "libev_two_loops"

struct worker {
	const char *name;
	unsigned long ms;
	unsigned long delay_ms; /* after the go signal */
	void (*cb)(struct ev_loop *loop, ev_timer *w, int revents);
	struct ev_loop *loop;
	pthread_t thread;
	ev_async go;
	ev_timer work, heartbeat;
};

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long sink;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

__attribute__((noinline)) static void block_for(unsigned long ms)
{
	usleep((useconds_t)(ms * 1000));
	sink++;
}

static void on_linger_over(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* The loop keeps running a while after its stall, as a service would. */
static void linger(struct ev_loop *loop, struct worker *wk)
{
	ev_timer_init(&wk->work, on_linger_over, 0.3, 0.);
	ev_timer_start(loop, &wk->work);
}

static void on_ingest_batch(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct worker *wk = w->data;

	(void)revents;
	say("scenario %s begin", wk->name);
	block_for(wk->ms);
	say("scenario %s end", wk->name);
	linger(loop, wk);
}

static void on_flush_batch(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct worker *wk = w->data;

	(void)revents;
	say("scenario %s begin", wk->name);
	block_for(wk->ms);
	say("scenario %s end", wk->name);
	linger(loop, wk);
}

static void on_go(struct ev_loop *loop, ev_async *w, int revents)
{
	struct worker *wk = w->data;

	(void)revents;
	ev_timer_set(&wk->work, (double)wk->delay_ms / 1000.0, 0.);
	ev_timer_start(loop, &wk->work);
}

static void on_heartbeat(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	sink++;
}

static void *run_worker(void *arg)
{
	struct worker *wk = arg;

	say("thread %s tid=%ld", wk->name, (long)syscall(SYS_gettid));
	ev_run(wk->loop, 0);
	return NULL;
}

static int start_worker(struct worker *wk)
{
	/* created here, run in the thread: libprobe learns the thread from the run */
	wk->loop = ev_loop_new(0);
	if (!wk->loop)
		return -1;
	ev_async_init(&wk->go, on_go);
	wk->go.data = wk;
	ev_async_start(wk->loop, &wk->go);
	ev_init(&wk->work, wk->cb);
	wk->work.data = wk;
	ev_timer_init(&wk->heartbeat, on_heartbeat, 0.01, 0.01);
	ev_timer_start(wk->loop, &wk->heartbeat);
	return pthread_create(&wk->thread, NULL, run_worker, wk);
}

int main(int argc, char **argv)
{
	struct worker ingest = {.name = "ingest", .ms = 150, .delay_ms = 50, .cb = on_ingest_batch};
	struct worker flush = {.name = "flush", .ms = 250, .delay_ms = 400, .cb = on_flush_batch};
	bool wait_signal = false;
	const struct victim_opt opts[] = {
	    {"--ingest-ms", .value = &ingest.ms},
	    {"--flush-ms", .value = &flush.ms},
	    {"--wait-signal", .flag = &wait_signal},
	    {0},
	};
	sigset_t set;
	int sig;

	if (victim_args(PROG, PROG " [--ingest-ms N] [--flush-ms N] [--wait-signal]", argc, argv,
			opts))
		return 2;
	/* SIGUSR2 is for the main thread's sigwait only */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	say("ready pid=%d", (int)getpid());
	if (start_worker(&ingest) || start_worker(&flush)) {
		fprintf(stderr, PROG ": cannot start the loops\n");
		return 1;
	}
	if (wait_signal)
		sigwait(&set, &sig);
	else
		usleep(200000);
	ev_async_send(ingest.loop, &ingest.go);
	ev_async_send(flush.loop, &flush.go);
	pthread_join(ingest.thread, NULL);
	pthread_join(flush.thread, NULL);
	say("done");
	ev_loop_destroy(ingest.loop);
	ev_loop_destroy(flush.loop);
	return 0;
}
