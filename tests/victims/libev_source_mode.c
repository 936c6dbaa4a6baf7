// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A libev program built with libprobe in source mode: lprobe_ev.h routes
 * its ev_TYPE_start/stop calls through libprobe, lp_ev_attach() attaches
 * the loop, and a coroutine-style request handler marks its await points.
 *
 * The scenario: a timer writes a request into a pipe; on_client_read (an
 * io watcher on the pipe) handles it like a task: it "awaits" a profile
 * fetch (lp_await_begin/lp_await_end), then, in the code after that await,
 * blocks in usleep() for --ms. test_libprobe_source_mode.py expects the
 * stall to name on_client_read, the io watcher, its fd and the span
 * "fetch_profile".
 *
 * Prints `ready fd=N`, runs on SIGUSR2 (--wait-signal) or after 200 ms,
 * prints `scenario request begin/end`, `done`, and exits 300 ms later.
 *
 * usage: libev_source_mode [--ms N] [--wait-signal] [--heartbeat-ms N]
 */
#define _GNU_SOURCE
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lprobe_ev.h>

#include "victim.h"

#define PROG "libev_source_mode"

static unsigned long opt_ms = 250;
static int req_pipe[2];
static ev_io client;
static struct victim_start start;
static ev_timer request_timer, finish_timer;
static volatile unsigned long sink;

/* Stands for the synchronous work a task does after its await returned. */
__attribute__((noinline)) static void render_profile(unsigned long ms)
{
	usleep((useconds_t)(ms * 1000));
	sink++;
}

static void on_client_read(struct ev_loop *loop, ev_io *w, int revents)
{
	lp_await_t fetch;
	char req[16];

	(void)revents;
	if (read(w->fd, req, sizeof(req)) <= 0)
		return;
	victim_say("scenario request begin");
	/* the task suspends for its profile, and resumes when it is there */
	fetch = lp_await_begin("fetch_profile");
	lp_await_end(fetch);
	render_profile(opt_ms);
	victim_say("scenario request end");
	ev_io_stop(loop, w);
	ev_timer_set(&finish_timer, 0.3, 0.);
	ev_timer_start(loop, &finish_timer);
}

static void on_request_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (write(req_pipe[1], "GET", 3) != 3)
		perror(PROG ": write");
}

static void on_finish(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	victim_say("done");
	ev_break(loop, EVBREAK_ALL);
}

int main(int argc, char **argv)
{
	struct ev_loop *loop;
	bool wait_signal = false;
	unsigned long heartbeat_ms = ULONG_MAX; /* libprobe's default unless asked */
	const struct victim_opt opts[] = {
	    {"--ms", .value = &opt_ms},
	    {"--wait-signal", .flag = &wait_signal},
	    {"--heartbeat-ms", .value = &heartbeat_ms},
	    {0},
	};
	int err;

	if (victim_args(PROG, PROG " [--ms N] [--wait-signal] [--heartbeat-ms N]", argc, argv,
			opts))
		return 2;
	if (heartbeat_ms != ULONG_MAX) {
		err = lp_set_heartbeat_ms((unsigned)heartbeat_ms);
		if (err) {
			fprintf(stderr, PROG ": lp_set_heartbeat_ms: %s\n", strerror(-err));
			return 2;
		}
	}
	if (pipe(req_pipe)) {
		perror(PROG ": pipe");
		return 1;
	}
	loop = ev_default_loop(0);
	err = lp_ev_attach(loop);
	if (err) {
		fprintf(stderr, PROG ": lp_ev_attach: %s\n", strerror(-err));
		return 1;
	}
	ev_io_init(&client, on_client_read, req_pipe[0], EV_READ);
	ev_io_start(loop, &client);
	ev_init(&request_timer, on_request_timer);
	ev_init(&finish_timer, on_finish);
	/* the program's own 10 ms timer keeps the loop iterating */
	victim_start(loop, &start, &request_timer, 0.05, wait_signal, 200);
	victim_say("ready pid=%d fd=%d", (int)getpid(), req_pipe[0]);
	ev_run(loop, 0);
	ev_loop_destroy(loop);
	return 0;
}
