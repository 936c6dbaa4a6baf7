// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * An unmodified libev program that forks a worker while its loop runs, for
 * LD_PRELOAD=libprobe.so: the child inherits the loop (ev_loop_fork) and
 * libprobe's shared memory mapping, so libprobe must give it a region of
 * its own. In the child, on_child_job blocks for --child-ms; later, in the
 * parent, on_parent_tick blocks for --parent-ms. test_libprobe_fork.py
 * records both (loopstall record -- follows the fork) and expects each
 * stall to name its own process's callback.
 *
 * Prints `ready`, `child pid=N`, `scenario child begin/end` (from the
 * child), `scenario parent begin/end`, and `done` once both are over and
 * the child is reaped.
 *
 * usage: libev_fork [--child-ms N] [--parent-ms N]
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ev.h>

#include "victim.h"

#define PROG "libev_fork"

static unsigned long child_ms = 200, parent_ms = 150;
static ev_timer heartbeat, fork_timer, job_timer, parent_timer, finish_timer;
static ev_child reaper;
static int parent_done, child_reaped;
static volatile unsigned long sink;

__attribute__((noinline)) static void block_for(unsigned long ms)
{
	usleep((useconds_t)(ms * 1000));
	sink++;
}

static void on_heartbeat(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	sink++;
}

static void on_child_done(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void on_child_job(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	victim_say("scenario child begin");
	block_for(child_ms);
	victim_say("scenario child end");
	/* a little idle time, so the stall is over before the child exits */
	ev_timer_init(w, on_child_done, 0.2, 0.);
	ev_timer_start(loop, w);
}

static void on_finish(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Both scenarios over and the child reaped: done, and exit a little later. */
static void maybe_done(struct ev_loop *loop)
{
	if (!parent_done || !child_reaped)
		return;
	victim_say("done");
	ev_timer_init(&finish_timer, on_finish, 0.3, 0.);
	ev_timer_start(loop, &finish_timer);
}

static void on_parent_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	victim_say("scenario parent begin");
	block_for(parent_ms);
	victim_say("scenario parent end");
	parent_done = 1;
	maybe_done(loop);
}

static void on_reaped(struct ev_loop *loop, ev_child *w, int revents)
{
	(void)revents;
	ev_child_stop(loop, w);
	child_reaped = 1;
	maybe_done(loop);
}

/* Fork from inside a callback of the running loop, as a prefork server would. */
static void on_fork_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	pid_t pid;

	(void)w;
	(void)revents;
	pid = fork();
	if (pid < 0) {
		perror("libev_fork: fork");
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	if (!pid) {
		ev_loop_fork(loop);
		ev_timer_stop(loop, &parent_timer);
		ev_timer_init(&job_timer, on_child_job, 0.1, 0.);
		ev_timer_start(loop, &job_timer);
		return;
	}
	victim_say("child pid=%d", (int)pid);
	ev_child_init(&reaper, on_reaped, pid, 0);
	ev_child_start(loop, &reaper);
	/* the parent's own stall comes after the child's is over */
	ev_timer_set(&parent_timer, 0.6, 0.);
	ev_timer_start(loop, &parent_timer);
}

int main(int argc, char **argv)
{
	const struct victim_opt opts[] = {
	    {"--child-ms", .value = &child_ms},
	    {"--parent-ms", .value = &parent_ms},
	    {0},
	};
	struct ev_loop *loop;

	if (victim_args(PROG, PROG " [--child-ms N] [--parent-ms N]", argc, argv, opts))
		return 2;
	loop = ev_default_loop(0);
	ev_timer_init(&heartbeat, on_heartbeat, 0.01, 0.01);
	ev_timer_start(loop, &heartbeat);
	ev_timer_init(&fork_timer, on_fork_timer, 0.3, 0.);
	ev_timer_start(loop, &fork_timer);
	ev_init(&parent_timer, on_parent_tick);
	victim_say("ready pid=%d", (int)getpid());
	ev_run(loop, 0);
	return 0;
}
