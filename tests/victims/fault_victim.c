// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One poll loop, many ways to misbehave, for the fault tests
 * (tests/e2e/test_fault_*.py) and the load benchmarks (tests/bench/). The
 * loop waits 10 ms in poll() per iteration; it prints `ready`, and each mode
 * starts on SIGUSR2 (as the other victims do), after one wait at least, and
 * prints `done` before it exits by itself. Times printed are CLOCK_REALTIME
 * ns, comparable with the records' *_unix_ns.
 *
 *   block MS                 block MS ms in nanosleep on the loop thread,
 *                            printing `blocking T` and `unblocked T`
 *   exec MS PROG [ARG...]    stall MS ms, print `exec`, then execv(PROG)
 *   threads N MS             a helper creates and joins N threads one after
 *                            the other, each polls once and sleeps 1 ms,
 *                            while the loop thread blocks MS ms; prints
 *                            `storm done`, waits for another SIGUSR2, then
 *                            a new loop thread polls and blocks 200 ms
 *   storm THREADS S US [RATE]
 *                            THREADS loop threads run S seconds of
 *                            iterations that each sleep US us (a stall
 *                            each when US is over the threshold); prints
 *                            `storm iterations N`, then the main loop blocks
 *                            300 ms (`blocking T`). With RATE, iterations
 *                            start on a fixed schedule, RATE a second in
 *                            all: each thread waits in ppoll() until its
 *                            next start (none when late, to catch up), so
 *                            wake-up latency does not lower the rate
 *   life MS AT BLOCK         a short life, started at once (no SIGUSR2):
 *                            10 ms waits for MS ms in all, with one block
 *                            of BLOCK ms in nanosleep AT ms after the start
 *                            (`blocking T`); for loopstalld following
 *                            processes that come and go (load.py churn)
 *   loops N S                N loop threads with 10 ms waits for S seconds;
 *                            each blocks 100 ms once a second
 *   names                    a thread name and a blocking fd whose paths
 *                            hold a newline, a quote and invalid UTF-8,
 *                            then block 300 ms reading a FIFO
 *   jit MB                   "JIT" code: a nanosleep stub copied to anonymous
 *                            executable memory, named in /tmp/perf-PID.map
 *                            among MB MiB of tiny entries; blocks 200 ms in
 *                            the stub, then idles 1 s before `done`
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "victim.h"

static volatile sig_atomic_t go;

static void on_usr2(int sig)
{
	(void)sig;
	go++;
}

static long long unix_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * The loop's wait: a loop waits from one place, and loopstall learns that
 * place (the user stack and instruction pointers at the call) as the loop's
 * own wait; a wait made from elsewhere is a blocking call inside a busy
 * period. So every loop iteration below waits here.
 */
__attribute__((noinline)) static void loop_wait(int ms)
{
	poll(NULL, 0, ms);
	__asm__ volatile("" ::: "memory");
}

/*
 * Idle loop iterations until SIGUSR2 number `until` arrived: at least one,
 * even when the signal came first. A test signals as soon as it reads
 * `ready`, which main prints before the loop's first wait; without a wait
 * the scenario would run before the loop does, and what a program does
 * before its loop first waits is its start-up, no loop iteration (after an
 * exec too: loopstall drops the busy period across it).
 */
static void loop_until(int until)
{
	do
		loop_wait(10);
	while (go < until);
}

static void loop_for(unsigned n)
{
	while (n--)
		loop_wait(10);
}

static void block_loop(long ms)
{
	victim_say("blocking %lld", unix_ns());
	sleep_us(ms * 1000);
	victim_say("unblocked %lld", unix_ns());
}

static int mode_block(int argc, char **argv)
{
	long ms = argc > 0 ? atol(argv[0]) : 1000;

	loop_until(1);
	block_loop(ms);
	loop_for(10);
	victim_say("done");
	return 0;
}

static int mode_exec(int argc, char **argv)
{
	long ms;

	if (argc < 2) {
		fprintf(stderr, "fault_victim exec MS PROG [ARG...]\n");
		return 2;
	}
	ms = atol(argv[0]);
	loop_until(1);
	block_loop(ms);
	loop_for(5);
	victim_say("exec %d", getpid());
	execv(argv[1], &argv[1]);
	fprintf(stderr, "fault_victim: exec %s: %s\n", argv[1], strerror(errno));
	return 1;
}

static void *poll_once(void *arg)
{
	(void)arg;
	poll(NULL, 0, 0);
	/* blocked after a wait: a busy period with a stack in flight */
	sleep_us(1000);
	return NULL;
}

static atomic_int created;

static void *creator(void *arg)
{
	long n = (long)arg, i;
	pthread_t t;

	for (i = 0; i < n; i++) {
		if (pthread_create(&t, NULL, poll_once, NULL))
			continue;
		pthread_join(t, NULL);
		created++;
	}
	return NULL;
}

static void *late_loop(void *arg)
{
	(void)arg;
	loop_for(5);
	victim_say("late thread %ld blocking %lld", (long)syscall(SYS_gettid), unix_ns());
	sleep_us(200000);
	loop_for(5);
	return NULL;
}

static int mode_threads(int argc, char **argv)
{
	long n = argc > 0 ? atol(argv[0]) : 1000, ms = argc > 1 ? atol(argv[1]) : 300;
	pthread_t c, late;
	double t0;

	loop_until(1);
	t0 = mono_s();
	if (pthread_create(&c, NULL, creator, (void *)n))
		return 1;
	block_loop(ms);
	/* keep iterating while the helper churns through its threads */
	while (created < n)
		loop_wait(10);
	pthread_join(c, NULL);
	victim_say("storm done %d threads in %.3f s", (int)created, mono_s() - t0);
	loop_until(2);
	if (pthread_create(&late, NULL, late_loop, NULL))
		return 1;
	while (pthread_tryjoin_np(late, NULL))
		loop_wait(10);
	loop_for(10);
	victim_say("done");
	return 0;
}

struct storm {
	double until;
	long us;
	double period; /* seconds between iteration starts; 0: back to back */
	long iterations;
};

/* The loop's wait: until `at` (CLOCK_MONOTONIC seconds), or not at all when past. */
static void wait_until(double at)
{
	double left = at - mono_s();
	struct timespec ts = {0, 0};

	if (left > 0) {
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
	}
	ppoll(NULL, 0, &ts, NULL);
}

static void *storm_thread(void *arg)
{
	struct storm *s = arg;
	double next = mono_s();

	while (mono_s() < s->until) {
		if (s->period > 0) {
			wait_until(next);
			next += s->period;
		} else {
			loop_wait(0);
		}
		sleep_us(s->us);
		s->iterations++;
	}
	/* the last wait ends the last busy period: from the loop's own place */
	if (s->period > 0)
		wait_until(0);
	else
		loop_wait(0);
	return NULL;
}

static int mode_storm(int argc, char **argv)
{
	long nthreads = argc > 0 ? atol(argv[0]) : 1, i, total = 0;
	double secs = argc > 1 ? atof(argv[1]) : 5;
	long us = argc > 2 ? atol(argv[2]) : 1100;
	double rate = argc > 3 ? atof(argv[3]) : 0;
	struct storm *s;
	pthread_t *t;

	s = calloc((size_t)nthreads, sizeof(*s));
	t = calloc((size_t)nthreads, sizeof(*t));
	if (!s || !t)
		return 1;
	loop_until(1);
	victim_say("storm begin %lld", unix_ns());
	for (i = 0; i < nthreads; i++) {
		s[i].until = mono_s() + secs;
		s[i].us = us;
		s[i].period = rate > 0 ? (double)nthreads / rate : 0;
		if (pthread_create(&t[i], NULL, storm_thread, &s[i]))
			return 1;
	}
	/* the main thread stays an idle loop meanwhile */
	for (i = 0; i < nthreads; i++) {
		while (pthread_tryjoin_np(t[i], NULL))
			loop_wait(10);
		total += s[i].iterations;
	}
	victim_say("storm iterations %ld", total);
	loop_for(20);
	block_loop(300);
	loop_for(10);
	victim_say("done");
	return 0;
}

static int mode_life(int argc, char **argv)
{
	double t0 = mono_s();
	double life = (argc > 0 ? atof(argv[0]) : 1000) / 1e3;
	double at = (argc > 1 ? atof(argv[1]) : 500) / 1e3;
	long block = argc > 2 ? atol(argv[2]) : 100;

	while (mono_s() - t0 < at)
		loop_wait(10);
	block_loop(block);
	while (mono_s() - t0 < life)
		loop_wait(10);
	victim_say("done");
	return 0;
}

struct loop_arg {
	double until;
};

static void *loop_thread(void *arg)
{
	struct loop_arg *a = arg;
	double next = mono_s() + 1;

	while (mono_s() < a->until) {
		loop_wait(10);
		if (mono_s() >= next) {
			sleep_us(100000);
			next += 1;
		}
	}
	return NULL;
}

static int mode_loops(int argc, char **argv)
{
	long n = argc > 0 ? atol(argv[0]) : 64, i;
	struct loop_arg a = {0};
	pthread_t *t = calloc((size_t)n, sizeof(*t));

	if (!t)
		return 1;
	loop_until(1);
	a.until = mono_s() + (argc > 1 ? atof(argv[1]) : 10);
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, loop_thread, &a))
			return 1;
	for (i = 0; i < n; i++)
		while (pthread_tryjoin_np(t[i], NULL))
			loop_wait(10);
	victim_say("done");
	return 0;
}

static void *unblock_fifo(void *arg)
{
	int fd = *(int *)arg;

	sleep_us(300000);
	if (write(fd, "x", 1) != 1)
		perror("fault_victim: fifo write");
	return NULL;
}

static int mode_names(int argc, char **argv)
{
	/* what a hostile process can put in names the agent writes out */
	static const char name[] = "\xff\xfe\"q\nx\\u\x01";
	char dir[] = "/tmp/loopstall-names-XXXXXX", path[256];
	pthread_t t;
	char c;
	int fd;

	(void)argc, (void)argv;
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/fifo\n\"\xff\xc3(\x1b[31m", dir);
	if (mkfifo(path, 0600))
		return 1;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 1;
	prctl(PR_SET_NAME, name);
	victim_say("path %s", dir);
	loop_until(1);
	if (pthread_create(&t, NULL, unblock_fifo, &fd))
		return 1;
	victim_say("blocking %lld", unix_ns());
	if (read(fd, &c, 1) != 1)
		return 1;
	victim_say("unblocked %lld", unix_ns());
	pthread_join(t, NULL);
	loop_for(10);
	close(fd);
	unlink(path);
	rmdir(dir);
	victim_say("done");
	return 0;
}

static int mode_jit(int argc, char **argv)
{
	/* mov $35 (nanosleep), %eax; syscall; ret */
	static const unsigned char stub[] = {0xb8, 0x23, 0, 0, 0, 0x0f, 0x05, 0xc3};
	struct timespec ts = {0, 200000000};
	long (*fn)(const struct timespec *, struct timespec *);
	long mb = argc > 0 ? atol(argv[0]) : 64, i;
	char path[64];
	unsigned char *code;
	size_t written = 0;
	FILE *f;

	code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED)
		return 1;
	memcpy(code, stub, sizeof(stub));
	if (mprotect(code, 4096, PROT_READ | PROT_EXEC))
		return 1;
	fn = (long (*)(const struct timespec *, struct timespec *))(void *)code;
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	f = fopen(path, "w");
	if (!f)
		return 1;
	fprintf(f, "%lx 8 jit_stub\n", (unsigned long)(uintptr_t)code);
	/* tiny entries far from the stub: what a hostile or runaway JIT can write */
	for (i = 0; written < (size_t)mb << 20; i++)
		written += (size_t)fprintf(f, "%lx 1 a\n", 0x1000 + i);
	fclose(f);
	victim_say("map %s %zu", path, written);
	loop_until(1);
	victim_say("blocking %lld", unix_ns());
	fn(&ts, NULL);
	victim_say("unblocked %lld", unix_ns());
	loop_for(100);
	unlink(path);
	victim_say("done");
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_usr2};

	if (argc < 2) {
		fprintf(stderr, "usage: fault_victim MODE ARGS...\n"
				"MODE: block|exec|threads|storm|life|loops|names|jit\n");
		return 2;
	}
	sigaction(SIGUSR2, &sa, NULL);
	victim_say("ready %d", getpid());
	if (!strcmp(argv[1], "block"))
		return mode_block(argc - 2, argv + 2);
	if (!strcmp(argv[1], "exec"))
		return mode_exec(argc - 2, argv + 2);
	if (!strcmp(argv[1], "threads"))
		return mode_threads(argc - 2, argv + 2);
	if (!strcmp(argv[1], "storm"))
		return mode_storm(argc - 2, argv + 2);
	if (!strcmp(argv[1], "life"))
		return mode_life(argc - 2, argv + 2);
	if (!strcmp(argv[1], "loops"))
		return mode_loops(argc - 2, argv + 2);
	if (!strcmp(argv[1], "names"))
		return mode_names(argc - 2, argv + 2);
	if (!strcmp(argv[1], "jit"))
		return mode_jit(argc - 2, argv + 2);
	fprintf(stderr, "fault_victim: unknown mode %s\n", argv[1]);
	return 2;
}
