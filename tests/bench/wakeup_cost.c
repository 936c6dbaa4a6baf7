// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * wakeup_cost: what tracing costs a loop that blocks and wakes up on every
 * iteration, the case where a traced loop pays the most per unit of work.
 * Two threads on one CPU pass a byte back and forth through two pipes; the
 * main thread is an event loop (it waits in poll(), which loopstall hooks),
 * so every round trip is one iteration of that loop and two context switches.
 *
 *   wakeup_cost [--cpu N] loop SECONDS
 *	prints "loop round_trip_ns=M cpu_ns=C" for each half second, then
 *	"loop median_round_trip_ns=M" and "loop median_cpu_ns=C" (CPU time of
 *	the process per round trip: what other processes on a shared machine
 *	take from the CPU does not count in it); overhead.py runs it with and
 *	without `loopstall record -- ` on it.
 *
 *   wakeup_cost [--cpu N] perf SEGMENTS
 *	no agent: the loop thread opens a task-clock sampling perf event on
 *	itself, as loopstall does on every loop thread, and rotates 100 ms
 *	segments through: no event, the event disabled, enabled with a 1 ms
 *	period (loopstall's 1 kHz), enabled with a 100 ms period. Prints
 *	"perf STATE median_round_trip_ns=M" for each. A task-clock event arms
 *	an hrtimer whenever its thread is switched in and cancels it when the
 *	thread is switched out; a timer that is due sooner than every other
 *	one on the CPU reprograms the clock event device each time, which a
 *	virtual machine may have to trap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SEGMENT_NS 100000000ull
#define LOOP_SEGMENT_NS 500000000ull
/* round trips between two reads of the clock */
#define BATCH 64

enum perf_state { ST_NONE, ST_DISABLED, ST_1KHZ, ST_10HZ, ST_MAX };

static const char *const state_names[] = {
    [ST_NONE] = "no_event",
    [ST_DISABLED] = "disabled",
    [ST_1KHZ] = "enabled_1ms_period",
    [ST_10HZ] = "enabled_100ms_period",
};

static int ping[2], back[2];

static void die(const char *what)
{
	fprintf(stderr, "wakeup_cost: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time of both threads: other processes on the CPU do not count in it */
static uint64_t process_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *pong(void *arg)
{
	char c;

	(void)arg;
	while (read(ping[0], &c, 1) == 1) {
		if (write(back[1], &c, 1) != 1)
			break;
	}
	return NULL;
}

/*
 * One loop iteration per round trip: wait in poll(), read, send the next.
 * Returns wall ns per round trip; *cpu_per: CPU ns of the process per round trip.
 */
static double round_trips(uint64_t length_ns, double *cpu_per)
{
	struct pollfd pfd = {.fd = back[0], .events = POLLIN};
	uint64_t start = now_ns(), n = 0, cpu0 = process_cpu_ns();
	char c = 'x';

	do {
		for (int i = 0; i < BATCH; i++) {
			if (write(ping[1], &c, 1) != 1)
				die("write");
			if (poll(&pfd, 1, -1) != 1)
				die("poll");
			if (read(back[0], &c, 1) != 1)
				die("read");
		}
		n += BATCH;
	} while (now_ns() - start < length_ns);
	if (cpu_per)
		*cpu_per = (double)(process_cpu_ns() - cpu0) / (double)n;
	return (double)(now_ns() - start) / (double)n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A sampling task-clock event on the calling thread, as loopstall opens (no BPF here). */
static int open_task_clock(uint64_t period_ns)
{
	struct perf_event_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_TASK_CLOCK;
	attr.sample_period = period_ns;
	attr.sample_type = PERF_SAMPLE_IP;
	attr.disabled = 1;
	fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		die("perf_event_open");
	return fd;
}

static void run_perf(int segments)
{
	double *v[ST_MAX];
	int n[ST_MAX] = {0};

	for (int s = 0; s < ST_MAX; s++) {
		v[s] = calloc((size_t)segments, sizeof(double));
		if (!v[s])
			die("calloc");
	}
	for (int i = 0; i < segments * ST_MAX; i++) {
		enum perf_state st = (enum perf_state)(i % ST_MAX);
		int fd = -1;

		if (st != ST_NONE) {
			fd = open_task_clock(st == ST_10HZ ? 100000000 : 1000000);
			if (st != ST_DISABLED && ioctl(fd, PERF_EVENT_IOC_ENABLE, 0))
				die("PERF_EVENT_IOC_ENABLE");
		}
		v[st][n[st]++] = round_trips(SEGMENT_NS, NULL);
		if (fd >= 0)
			close(fd);
	}
	for (int s = 0; s < ST_MAX; s++) {
		printf("perf %s median_round_trip_ns=%.0f\n", state_names[s], median(v[s], n[s]));
		free(v[s]);
	}
}

static void run_loop(double seconds)
{
	int segments = (int)(seconds * 1e9 / (double)LOOP_SEGMENT_NS), n = 0;
	double *v, *c;

	if (segments < 1)
		segments = 1;
	v = calloc((size_t)segments, sizeof(double));
	c = calloc((size_t)segments, sizeof(double));
	if (!v || !c)
		die("calloc");
	while (n < segments) {
		v[n] = round_trips(LOOP_SEGMENT_NS, &c[n]);
		printf("loop round_trip_ns=%.0f cpu_ns=%.0f\n", v[n], c[n]);
		n++;
		fflush(stdout);
	}
	printf("loop median_round_trip_ns=%.0f\n", median(v, n));
	printf("loop median_cpu_ns=%.0f\n", median(c, n));
	free(v);
	free(c);
}

int main(int argc, char **argv)
{
	pthread_t thread;
	int arg = 1, err;
	double count;

	if (argc > 2 && !strcmp(argv[1], "--cpu")) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(atoi(argv[2]), &set);
		/* the pong thread inherits it */
		if (sched_setaffinity(0, sizeof(set), &set))
			die("sched_setaffinity");
		arg = 3;
	}
	if (argc - arg != 2 || (strcmp(argv[arg], "loop") && strcmp(argv[arg], "perf")) ||
	    (count = atof(argv[arg + 1])) <= 0) {
		fprintf(stderr, "usage: wakeup_cost [--cpu N] loop SECONDS | perf SEGMENTS\n");
		return 2;
	}
	if (pipe(ping) || pipe(back))
		die("pipe");
	err = pthread_create(&thread, NULL, pong, NULL);
	if (err) {
		errno = err;
		die("pthread_create");
	}
	if (!strcmp(argv[arg], "loop"))
		run_loop(count);
	else
		run_perf((int)count);
	/* the pong thread ends on EOF */
	close(ping[1]);
	pthread_join(thread, NULL);
	return 0;
}
