// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A libev loop whose callback blocks in a wait call of its own: the waits
 * loopstall must tell from the loop's own wait.
 *
 *   --scenario poll     the callback poll()s an unrelated pipe for --ms
 *   --scenario nested   the callback runs ev_run on a second loop (its own
 *                       epoll fd) until a --ms timer fires there
 *   --scenario idle     nothing happens (control)
 *   --backend epoll|poll|select   the main loop's backend (a loop that
 *                       legitimately waits in poll or select)
 *   --repeat N          the scenario N times, 400 ms apart
 *
 * A 10 ms heartbeat keeps the loop iterating. Prints `ready`; starts on
 * SIGUSR2 (--wait-signal) or after 200 ms; prints `scenario NAME begin/end`
 * around each scenario, then `done` 300 ms after the last, and exits 0.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "victim.h"

#define PROG "libev_nested"

static const char *scenario = "idle";
static unsigned long ms = 300;
static unsigned long repeat = 1, done_runs;
static volatile unsigned long sink;
static ev_timer work, heartbeat, linger;
static ev_signal go;

__attribute__((noinline)) static void poll_unrelated_pipe(unsigned long wait_ms)
{
	struct pollfd pfd;
	int p[2];

	if (pipe(p))
		abort();
	pfd.fd = p[0];
	pfd.events = POLLIN;
	pfd.revents = 0;
	/* nobody writes: poll waits out its timeout */
	sink += (unsigned long)poll(&pfd, 1, (int)wait_ms);
	close(p[0]);
	close(p[1]);
}

static void on_inner_timer(struct ev_loop *inner, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(inner, EVBREAK_ONE);
}

__attribute__((noinline)) static void run_nested_loop(unsigned long wait_ms)
{
	struct ev_loop *inner = ev_loop_new(EVBACKEND_EPOLL);
	ev_timer t;

	if (!inner)
		abort();
	ev_timer_init(&t, on_inner_timer, (double)wait_ms / 1000.0, 0.);
	ev_timer_start(inner, &t);
	ev_run(inner, 0);
	ev_loop_destroy(inner);
	sink++;
}

static void on_linger_over(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void on_work(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	victim_say("scenario %s begin", scenario);
	if (!strcmp(scenario, "poll"))
		poll_unrelated_pipe(ms);
	else if (!strcmp(scenario, "nested"))
		run_nested_loop(ms);
	victim_say("scenario %s end", scenario);
	/* ev_now is still the time before the callback blocked */
	ev_now_update(loop);
	if (++done_runs < repeat) {
		ev_timer_set(w, 0.4, 0.);
		ev_timer_start(loop, w);
		return;
	}
	ev_timer_init(&linger, on_linger_over, 0.3, 0.);
	ev_timer_start(loop, &linger);
}

static void on_go(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	if (!ev_is_active(&work) && !done_runs)
		ev_timer_start(loop, &work);
}

static void on_heartbeat(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	sink++;
}

static unsigned backend_flag(const char *name)
{
	if (!strcmp(name, "epoll"))
		return EVBACKEND_EPOLL;
	if (!strcmp(name, "poll"))
		return EVBACKEND_POLL;
	if (!strcmp(name, "select"))
		return EVBACKEND_SELECT;
	fprintf(stderr, PROG ": unknown backend %s\n", name);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *backend_name = "epoll";
	bool wait_signal = false;
	const struct victim_opt opts[] = {
	    {"--scenario", .text = &scenario},	     {"--ms", .value = &ms},
	    {"--repeat", .value = &repeat},	     {"--backend", .text = &backend_name},
	    {"--wait-signal", .flag = &wait_signal}, {0},
	};
	struct ev_loop *loop;
	unsigned backend;

	if (victim_args(PROG,
			PROG " [--scenario poll|nested|idle] [--ms N] [--repeat N]"
			     " [--backend epoll|poll|select] [--wait-signal]",
			argc, argv, opts))
		return 2;
	backend = backend_flag(backend_name);
	loop = ev_default_loop(backend);
	if (!loop || ev_backend(loop) != backend) {
		fprintf(stderr, PROG ": backend not available\n");
		return 1;
	}
	ev_timer_init(&heartbeat, on_heartbeat, 0.01, 0.01);
	ev_timer_start(loop, &heartbeat);
	ev_timer_init(&work, on_work, 0., 0.);
	ev_signal_init(&go, on_go, SIGUSR2);
	ev_signal_start(loop, &go);
	if (!wait_signal) {
		ev_timer_set(&work, 0.2, 0.);
		ev_timer_start(loop, &work);
	}
	victim_say("ready");
	ev_run(loop, 0);
	victim_say("done");
	return 0;
}
