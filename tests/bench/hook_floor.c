// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * hook_floor: attaches hook_floor.bpf.c's empty programs (the agent's
 * hooks, doing nothing; the context-switch event on its own thread, as the
 * agent opens one on each thread of its target), prints "hook_floor:
 * attached" on stderr and waits for SIGINT or SIGTERM. bystander.sh --floor
 * runs it in the agent's place. Needs root.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "hook_floor.skel.h"
#include "tracefs.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(void)
{
	struct perf_event_attr attr = {
	    .type = PERF_TYPE_SOFTWARE,
	    .size = sizeof(attr),
	    .config = PERF_COUNT_SW_CONTEXT_SWITCHES,
	    .sample_period = 1,
	};
	struct hook_floor *skel = NULL;
	struct bpf_link *link = NULL;
	struct sigaction sa;
	int err, fd, ret = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	err = ls_tracefs_ensure();
	if (err) {
		fprintf(stderr, "hook_floor: cannot mount tracefs: %s\n", strerror(-err));
		goto cleanup;
	}
	skel = hook_floor__open_and_load();
	if (!skel) {
		fprintf(stderr, "hook_floor: cannot load the BPF programs: %s\n", strerror(errno));
		goto cleanup;
	}
	err = hook_floor__attach(skel);
	if (err) {
		fprintf(stderr, "hook_floor: cannot attach: %s\n", strerror(-err));
		goto cleanup;
	}
	fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "hook_floor: perf_event_open: %s\n", strerror(errno));
		goto cleanup;
	}
	/* the link owns fd from here */
	link = bpf_program__attach_perf_event(skel->progs.cpu_switch, fd);
	if (!link) {
		fprintf(stderr, "hook_floor: cannot attach to the perf event: %s\n",
			strerror(errno));
		close(fd);
		goto cleanup;
	}
	fprintf(stderr, "hook_floor: attached\n");
	while (!stop)
		pause();
	ret = 0;
cleanup:
	bpf_link__destroy(link);
	hook_floor__destroy(skel);
	return ret;
}
