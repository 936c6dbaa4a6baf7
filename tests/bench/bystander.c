// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A bystander: a process loopstall does not trace, but whose syscalls and
 * context switches still run the agent's machine-wide hooks (the wait-call
 * tracepoints, sched_switch, sched_wakeup), which return early after a map
 * lookup. bystander.sh runs it with and without the agent attached to some
 * other process and compares the rates.
 *
 *   bystander [--cpu N] [--cputime] [--wait poll|epoll] [-v] syscalls SECONDS
 *	write+poll+read of 64 bytes through a pipe, getppid(), and
 *	clock_gettime() as a real syscall, in a tight loop;
 *	prints "syscalls ops_per_sec=N" (loop iterations per second).
 *	--wait epoll waits in epoll_wait instead of poll: the agent hooks
 *	only the wait calls its target's loops use, epoll_wait for most, so
 *	a bystander in poll shows a call the agent does not hook, one in
 *	epoll_wait a call it does
 *
 *   bystander [--cpu N] [--cputime] [-v] switches SECONDS
 *	two threads pass a token through two pipes, each hop a blocking read;
 *	prints "switches round_trips_per_sec=N"
 *
 * --counter FD: FD is shared memory (a memfd of 8 bytes or more) where
 * the count of iterations so far is kept, for a driver that reads the rate
 * while the bystander runs (bystander_toggle.c).
 *
 * --cpu N pins every thread to CPU N, so that in "switches" each hop is a
 * direct switch from one thread to the other rather than to the idle task
 * of another CPU. --cputime adds the rate per second of the process's own CPU
 * time ("ops_per_cpu_sec=M"), which time taken by other processes on a shared
 * machine does not dilute. -v prints context switches per iteration on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MSG_SIZE 64
/* Check the clock every this many round trips; a vDSO read is ~30 ns. */
#define SWITCH_CLOCK_EVERY 16

static int verbose;
static int cputime;
static int use_epoll; /* --wait epoll */
/* --counter: the iterations so far, where a driver can read them */
static uint64_t *counter;

static void die(const char *what)
{
	fprintf(stderr, "bystander: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts_ns(&ts);
}

/* CPU time of all threads of the process */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts))
		die("clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
	return ts_ns(&ts);
}

/* "MODE UNIT_per_sec=N", plus " UNIT_per_cpu_sec=M" with --cputime */
static void report(const char *mode, const char *unit, uint64_t iterations, uint64_t start,
		   uint64_t cpu_start)
{
	uint64_t wall = now_ns() - start, cpu = cpu_ns() - cpu_start;

	printf("%s %s_per_sec=%.0f", mode, unit, (double)iterations * 1e9 / (double)wall);
	if (cputime)
		printf(" %s_per_cpu_sec=%.0f", unit, (double)iterations * 1e9 / (double)cpu);
	printf("\n");
	fflush(stdout);
	if (verbose)
		fprintf(stderr, "bystander: %s: %.1f%% of the wall time on a CPU\n", mode,
			100.0 * (double)cpu / (double)wall);
}

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* Threads created later inherit the mask. */
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

static void report_switches(const struct rusage *before, uint64_t iterations)
{
	struct rusage after;

	if (!verbose || !iterations)
		return;
	if (getrusage(RUSAGE_SELF, &after))
		die("getrusage");
	fprintf(stderr,
		"bystander: %.2f voluntary + %.4f involuntary context switches per iteration\n",
		(double)(after.ru_nvcsw - before->ru_nvcsw) / (double)iterations,
		(double)(after.ru_nivcsw - before->ru_nivcsw) / (double)iterations);
}

static void run_syscalls(double seconds)
{
	char buf[MSG_SIZE] = {0};
	struct timespec ts;
	struct epoll_event ev = {.events = EPOLLIN};
	struct pollfd pfd;
	struct rusage ru;
	uint64_t start, cpu_start, deadline, iterations = 0;
	int fds[2], ep = -1;

	if (pipe(fds))
		die("pipe");
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	if (use_epoll) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev))
			die("epoll");
	}
	if (getrusage(RUSAGE_SELF, &ru))
		die("getrusage");

	cpu_start = cpu_ns();
	start = now_ns();
	deadline = start + (uint64_t)(seconds * 1e9);
	for (;;) {
		if (write(fds[1], buf, sizeof(buf)) != sizeof(buf))
			die("write");
		/* one of the wait calls the agent may hook */
		if (use_epoll ? epoll_wait(ep, &ev, 1, 0) != 1 : poll(&pfd, 1, 0) != 1)
			die(use_epoll ? "epoll_wait" : "poll");
		if (read(fds[0], buf, sizeof(buf)) != sizeof(buf))
			die("read");
		getppid();
		/* glibc would answer from the vDSO without entering the kernel. */
		if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts))
			die("clock_gettime");
		iterations++;
		if (counter)
			__atomic_store_n(counter, iterations, __ATOMIC_RELAXED);
		/* The syscall above is the loop's own clock: no extra read needed. */
		if (ts_ns(&ts) >= deadline)
			break;
	}

	report("syscalls", "ops", iterations, start, cpu_start);
	report_switches(&ru, iterations);
	close(fds[0]);
	close(fds[1]);
	if (ep >= 0)
		close(ep);
}

struct ponger {
	int in;
	int out;
};

/* Echo each token back; 'q' ends the game. */
static void *pong(void *arg)
{
	const struct ponger *p = arg;
	char c;

	for (;;) {
		if (read(p->in, &c, 1) != 1)
			die("pong read");
		if (c == 'q')
			return NULL;
		if (write(p->out, &c, 1) != 1)
			die("pong write");
	}
}

static void run_switches(double seconds)
{
	struct ponger p;
	struct rusage ru;
	uint64_t start, cpu_start, deadline, round_trips = 0;
	pthread_t thread;
	int ping[2], back[2], err;
	char c = 't';

	if (pipe(ping) || pipe(back))
		die("pipe");
	p.in = ping[0];
	p.out = back[1];
	err = pthread_create(&thread, NULL, pong, &p);
	if (err) {
		errno = err;
		die("pthread_create");
	}
	if (getrusage(RUSAGE_SELF, &ru))
		die("getrusage");

	cpu_start = cpu_ns();
	start = now_ns();
	deadline = start + (uint64_t)(seconds * 1e9);
	for (;;) {
		if (write(ping[1], &c, 1) != 1)
			die("ping write");
		/* Blocks until the other thread has run: at least two switches. */
		if (read(back[0], &c, 1) != 1)
			die("ping read");
		round_trips++;
		if (counter)
			__atomic_store_n(counter, round_trips, __ATOMIC_RELAXED);
		if (round_trips % SWITCH_CLOCK_EVERY == 0 && now_ns() >= deadline)
			break;
	}

	report("switches", "round_trips", round_trips, start, cpu_start);
	report_switches(&ru, round_trips);

	c = 'q';
	if (write(ping[1], &c, 1) != 1)
		die("ping write");
	pthread_join(thread, NULL);
	close(ping[0]);
	close(ping[1]);
	close(back[0]);
	close(back[1]);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bystander [--cpu N] [--cputime] [--counter FD] [--wait poll|epoll] [-v] "
		   "syscalls|switches SECONDS\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"cpu", required_argument, NULL, 'c'},
	    {"cputime", no_argument, NULL, 't'},
	    {"counter", required_argument, NULL, 'n'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"wait", required_argument, NULL, 'w'},
	    {0},
	};
	const char *mode;
	double seconds;
	char *end;
	long cpu, fd;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:tvh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			errno = 0;
			cpu = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || cpu < 0 || cpu >= CPU_SETSIZE) {
				fprintf(stderr, "bystander: bad CPU number '%s'\n", optarg);
				return 2;
			}
			pin_to_cpu((int)cpu);
			break;
		case 't':
			cputime = 1;
			break;
		case 'n':
			errno = 0;
			fd = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || fd < 0 || fd > INT_MAX) {
				fprintf(stderr, "bystander: bad counter fd '%s'\n", optarg);
				return 2;
			}
			counter = mmap(NULL, sizeof(*counter), PROT_READ | PROT_WRITE, MAP_SHARED,
				       (int)fd, 0);
			if (counter == MAP_FAILED)
				die("mmap of the counter");
			break;
		case 'v':
			verbose = 1;
			break;
		case 'w':
			if (strcmp(optarg, "poll") && strcmp(optarg, "epoll")) {
				fprintf(stderr, "bystander: --wait takes poll or epoll, not '%s'\n",
					optarg);
				return 2;
			}
			use_epoll = !strcmp(optarg, "epoll");
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	mode = argv[optind];
	seconds = strtod(argv[optind + 1], &end);
	if (*end || end == argv[optind + 1] || !(seconds > 0 && seconds < 86400)) {
		fprintf(stderr, "bystander: bad SECONDS '%s'\n", argv[optind + 1]);
		return 2;
	}

	if (!strcmp(mode, "syscalls")) {
		run_syscalls(seconds);
	} else if (!strcmp(mode, "switches")) {
		run_switches(seconds);
	} else {
		fprintf(stderr, "bystander: unknown mode '%s'\n", mode);
		usage(stderr);
		return 2;
	}
	return 0;
}
