// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * hook_floor [--no-switches | --slow-path-only | TID]: attaches
 * hook_floor.bpf.c's empty programs (the agent's hooks, doing nothing; the
 * context-switch event on thread TID, by default its own, as the agent
 * opens one on each loop thread of its target; with --no-switches none:
 * what a hook on the wait calls' return alone costs, whatever a program
 * does there; with --slow-path-only, only epoll_wait's exit is hooked and
 * no switch event opened: run beside a loop that waits in poll, what the
 * tracing slow path that any syscall tracepoint puts every syscall on costs
 * by itself, without the tracepoint firing at the loop's returns),
 * prints "hook_floor: attached" on stderr and waits for SIGINT or SIGTERM.
 * bystander.sh --floor runs it in the agent's place; overhead.py's wakeups
 * section on a traced loop's thread (what the mechanism alone costs it).
 * Needs root.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "hook_floor.h"
#include "loop_tracker.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct hook_floor_set *fs;
	struct sigaction sa;
	uint32_t waits = LT_WAIT_ALL;
	long tid = 0;
	char *end;
	int err;

	if (argc == 2 && !strcmp(argv[1], "--no-switches")) {
		tid = -1;
	} else if (argc == 2 && !strcmp(argv[1], "--slow-path-only")) {
		tid = -1;
		waits = 1u << LT_WAIT_EPOLL_WAIT;
	} else if (argc > 2 || (argc == 2 && ((tid = strtol(argv[1], &end, 10)) <= 0 ||
					      tid > INT_MAX || *end))) {
		fprintf(stderr, "usage: hook_floor [--no-switches | --slow-path-only | TID]\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	err = hook_floor_set__new((pid_t)tid, waits, &fs);
	if (err) {
		fprintf(stderr, "hook_floor: cannot attach the empty programs: %s\n",
			strerror(-err));
		return 1;
	}
	fprintf(stderr, "hook_floor: attached\n");
	while (!stop)
		pause();
	hook_floor_set__free(fs);
	return 0;
}
