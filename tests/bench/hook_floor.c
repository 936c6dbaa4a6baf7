// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * hook_floor: attaches hook_floor.bpf.c's empty programs (the agent's
 * machine-wide hooks, doing nothing), prints "hook_floor: attached" on
 * stderr and waits for SIGINT or SIGTERM. bystander.sh --floor runs it in
 * the agent's place. Needs root.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
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
	struct hook_floor *skel = NULL;
	struct sigaction sa;
	int err, ret = 1;

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
	fprintf(stderr, "hook_floor: attached\n");
	while (!stop)
		pause();
	ret = 0;
cleanup:
	hook_floor__destroy(skel);
	return ret;
}
