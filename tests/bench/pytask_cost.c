// SPDX-License-Identifier: BSD-2-Clause
/*
 * What naming the asyncio Task costs the agent per stall: the snapshot the
 * agent takes when a stall crosses the threshold (ls_pyframes__snapshot_tasks:
 * process_vm_readv of the current-tasks dict, each Task, its coroutine and
 * name), timed in this thread's CPU time against a live Python process.
 * The first call also finds _asyncio._current_tasks through sys.modules
 * (once per process); the others find it cached.
 *
 *     build/tests/pytask_cost PID [CALLS]
 *
 * PID runs CPython 3.10-3.13 (for a Task to be running, one in a stall:
 * tests/victims/py_frames_app.py --scenario named --seconds 30).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pyframes.h"

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct ls_pyframes *py;
	long calls = argc > 2 ? strtol(argv[2], NULL, 10) : 10000, i;
	pid_t pid = argc > 1 ? (pid_t)strtol(argv[1], NULL, 10) : 0;
	uint64_t t0, first, rest;
	int err, n, kept = 0;

	if (pid <= 0 || calls <= 0) {
		fprintf(stderr, "usage: pytask_cost PID [CALLS]\n");
		return 2;
	}
	py = ls_pyframes__new(-1);
	if (!py)
		return 1;
	err = ls_pyframes__attach(py, pid);
	if (err) {
		fprintf(stderr, "pytask_cost: pid %d: no CPython 3.10-3.13 (%s)\n", (int)pid,
			strerror(-err));
		ls_pyframes__free(py);
		return 1;
	}
	t0 = cpu_ns();
	n = ls_pyframes__snapshot_tasks(py, pid, pid, 1);
	first = cpu_ns() - t0;
	t0 = cpu_ns();
	for (i = 0; i < calls; i++)
		kept += ls_pyframes__snapshot_tasks(py, pid, pid, 2 + (uint64_t)i) > 0;
	rest = cpu_ns() - t0;
	printf("running Tasks seen: %d at first, then in %d of %ld calls\n", n, kept, calls);
	printf("first snapshot (finds _current_tasks through sys.modules): %.1f us\n", first / 1e3);
	printf("snapshot, dict known: %.2f us per stall (%ld calls)\n", rest / 1e3 / calls, calls);
	ls_pyframes__free(py);
	return 0;
}
