// SPDX-License-Identifier: BSD-2-Clause
/*
 * What libprobe costs a libev program, with and without it in one run.
 *
 *   libprobe_bench [--lib PATH] [--rounds N] [--seconds S] [--cpu N]
 *                  [--json FILE] [--aa] [--idle-thread]
 *
 * The driver runs this same program as workers, plain and under
 * LD_PRELOAD=PATH (libprobe.so, no rebuild: the mode most programs will
 * use), and prints per round:
 *
 *   - added cost per callback, ns: a worker of each kind, one after the
 *     other (who goes first alternates), times 200000 batches of 10
 *     callbacks (ev_feed_event for each watcher, as libev does for what
 *     became ready, then ev_invoke_pending; no syscall in a batch, so a
 *     batch is short and rarely hit by an interrupt) and reports the median
 *     and the 99th percentile of ns per callback; the cost is with minus
 *     without, median over rounds.
 *   - throughput of a libev workload, with/without: 2000 repeating timers
 *     (1..20 ms) and 32 pipe pairs playing ping-pong on one loop. Both
 *     workers run it at the same time for S seconds, pinned to the same CPU
 *     (default the last), so they share whatever state the VM is in, a few
 *     milliseconds apart; each counts messages per second of its own CPU
 *     time. (Run one after the other, the VM this was written on moved
 *     between states 25 % apart and the ratio moved with it.)
 *
 * --aa runs both sides without libprobe: the differences it prints are the
 * machine's noise. --idle-thread gives the plain side an idle thread: once a
 * process has a second thread, glibc's syscall wrappers take their
 * cancellation path, a cost of any thread. libprobe starts its reporter
 * thread only for LPROBE_OUTPUT or a tracer on stall_begin; run with
 * LPROBE_OUTPUT=/dev/null in the environment to measure it with one.
 *
 * Targets: <= 40 ns per callback, throughput ratio >= 0.97.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#ifndef LIBPROBE_PATH
#define LIBPROBE_PATH "libprobe.so"
#endif

/*
 * Short batches: this VM's vCPU is taken away for ~25 us every so often, and
 * the longer a batch, the likelier it is hit: with 100 callbacks libprobe's
 * batches were hit 10 times as often as libev's, and the p99 measured the
 * hypervisor. At 10 callbacks a batch, well under 1 % are hit either way.
 */
#define BATCH 10
#define BATCHES 200000
#define TIMERS 2000
#define PAIRS 32

struct result {
	double cb_median_ns;
	double cb_p99_ns;
	uint64_t messages; /* ping-pong messages passed */
	uint64_t cpu_ns;   /* the worker's CPU time while it ran the workload */
	uint64_t wall_ns;
	uint64_t timer_calls;
	int libprobe;
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double quantile(double *v, size_t n, double q)
{
	size_t i;

	qsort(v, n, sizeof(*v), cmp_double);
	i = (size_t)ceil(q * (double)n);
	return v[(i ? i : 1) - 1];
}

static volatile uint64_t calls;

static void on_event(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	calls++;
}

static void on_warm(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/*
 * ns per callback of batches of BATCH callbacks: feed BATCH watchers (as
 * libev does for whatever became ready), then ev_invoke_pending. No
 * syscall inside a batch: what is left is libev's and libprobe's own work.
 */
static void measure_callbacks(struct result *r)
{
	struct ev_loop *loop = ev_loop_new(0);
	static ev_idle w[BATCH];
	static double per_cb[BATCHES];
	ev_timer warm;
	int i, k;

	/* run the loop a little first: libprobe fits its clock in the first 20 ms */
	ev_timer_init(&warm, on_warm, 0.1, 0.);
	ev_timer_start(loop, &warm);
	ev_run(loop, 0);
	for (k = 0; k < BATCH; k++)
		ev_idle_init(&w[k], on_event);
	for (i = -10000; i < BATCHES; i++) {
		uint64_t t0 = clock_ns(CLOCK_MONOTONIC), t1;

		for (k = 0; k < BATCH; k++)
			ev_feed_event(loop, &w[k], EV_IDLE);
		ev_invoke_pending(loop);
		t1 = clock_ns(CLOCK_MONOTONIC);
		if (i >= 0)
			per_cb[i] = (double)(t1 - t0) / BATCH;
	}
	r->cb_median_ns = quantile(per_cb, BATCHES, 0.5);
	r->cb_p99_ns = quantile(per_cb, BATCHES, 0.99);
	ev_loop_destroy(loop);
}

struct pair {
	int ab[2], ba[2]; /* pipes a->b and b->a */
	ev_io a, b;
};

static uint64_t messages, timer_calls;

static void bounce(int from, int to)
{
	char c;

	if (read(from, &c, 1) == 1 && write(to, &c, 1) == 1)
		messages++;
}

static void on_a(struct ev_loop *loop, ev_io *w, int revents)
{
	struct pair *p = w->data;

	(void)loop;
	(void)revents;
	bounce(p->ba[0], p->ab[1]);
}

static void on_b(struct ev_loop *loop, ev_io *w, int revents)
{
	struct pair *p = w->data;

	(void)loop;
	(void)revents;
	bounce(p->ab[0], p->ba[1]);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	timer_calls++;
}

static void on_end(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/*
 * The libev workload, for `seconds` of wall time once the driver says go
 * (closes the pipe on fd `start_fd`): the two workers of a round run it at
 * the same time on the same CPU.
 */
static int measure_throughput(double seconds, int start_fd, struct result *r)
{
	struct ev_loop *loop = ev_loop_new(0);
	static struct pair pairs[PAIRS];
	static ev_timer timers[TIMERS];
	uint64_t w0, c0, w1, c1;
	ev_timer end;
	char c;
	int i;

	srand(1);
	for (i = 0; i < TIMERS; i++) {
		double ival = (1 + rand() % 20) / 1000.0;

		ev_timer_init(&timers[i], on_timer, ival, ival);
		ev_timer_start(loop, &timers[i]);
	}
	for (i = 0; i < PAIRS; i++) {
		struct pair *p = &pairs[i];

		if (pipe2(p->ab, O_NONBLOCK) || pipe2(p->ba, O_NONBLOCK))
			return -errno;
		ev_io_init(&p->a, on_a, p->ba[0], EV_READ);
		ev_io_init(&p->b, on_b, p->ab[0], EV_READ);
		p->a.data = p->b.data = p;
		ev_io_start(loop, &p->a);
		ev_io_start(loop, &p->b);
		/* one ball per pair */
		if (write(p->ab[1], "x", 1) != 1)
			return -errno;
	}
	printf("ready\n");
	fflush(stdout);
	/* EOF: both workers are ready and the driver let go */
	while (read(start_fd, &c, 1) > 0)
		;
	ev_now_update(loop);
	ev_timer_init(&end, on_end, seconds, 0.);
	ev_timer_start(loop, &end);
	w0 = clock_ns(CLOCK_MONOTONIC);
	c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	ev_run(loop, 0);
	w1 = clock_ns(CLOCK_MONOTONIC);
	c1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	r->messages = messages;
	r->cpu_ns = c1 - c0;
	r->wall_ns = w1 - w0;
	r->timer_calls = timer_calls;
	for (i = 0; i < PAIRS; i++) {
		close(pairs[i].ab[0]);
		close(pairs[i].ab[1]);
		close(pairs[i].ba[0]);
		close(pairs[i].ba[1]);
	}
	ev_loop_destroy(loop);
	return 0;
}

/* A second thread on the plain side (--idle-thread): what any thread costs. */
static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		usleep(20000);
	return NULL;
}

static int worker(const char *what, double seconds)
{
	struct result r = {0};
	pthread_t idle;
	int err;

	r.libprobe = dlsym(RTLD_DEFAULT, "lp_version") != NULL;
	/*
	 * A second thread makes glibc's syscall wrappers take their
	 * cancellation path from then on: the plain side pays that too.
	 */
	if (!r.libprobe && getenv("LPROBE_BENCH_IDLE_THREAD") &&
	    pthread_create(&idle, NULL, idle_thread, NULL))
		return 1;
	if (!strcmp(what, "callbacks")) {
		measure_callbacks(&r);
		printf("%d %.3f %.3f\n", r.libprobe, r.cb_median_ns, r.cb_p99_ns);
		return 0;
	}
	err = measure_throughput(seconds, 3, &r);
	if (err) {
		fprintf(stderr, "libprobe_bench: %s\n", strerror(-err));
		return 1;
	}
	printf("%d %llu %llu %llu %llu\n", r.libprobe, (unsigned long long)r.messages,
	       (unsigned long long)r.cpu_ns, (unsigned long long)r.wall_ns,
	       (unsigned long long)r.timer_calls);
	return 0;
}

struct child {
	pid_t pid;
	FILE *out; /* its stdout */
};

/*
 * Start a worker (under LD_PRELOAD=lib when lib is not NULL), pinned to
 * cpu (-1: anywhere), with start_fd as its fd 3 (-1: none).
 */
static int spawn(struct child *ch, const char *self, const char *lib, const char *what,
		 double seconds, int cpu, int start_fd)
{
	char secs[32];
	int fds[2];

	snprintf(secs, sizeof(secs), "%g", seconds);
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	ch->pid = fork();
	if (ch->pid < 0)
		return -errno;
	if (!ch->pid) {
		cpu_set_t set;

		dup2(fds[1], 1);
		if (start_fd >= 0)
			dup2(start_fd, 3);
		if (cpu >= 0) {
			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			if (sched_setaffinity(0, sizeof(set), &set))
				_exit(126);
		}
		if (lib)
			setenv("LD_PRELOAD", lib, 1);
		else
			unsetenv("LD_PRELOAD");
		/* libprobe's region and output stay out of the way */
		setenv("LPROBE_SHM", "0", 1);
		execl(self, self, "--worker", what, secs, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	ch->out = fdopen(fds[0], "r");
	if (!ch->out) {
		close(fds[0]);
		return -errno;
	}
	return 0;
}

/* Read the child's result line and reap it; the line must say libprobe was (not) there. */
static int finish(struct child *ch, bool with_lib, char *line, size_t size)
{
	int status, err = 0, lp;

	if (!fgets(line, (int)size, ch->out) || sscanf(line, "%d", &lp) != 1)
		err = -EPROTO;
	else if (lp != with_lib)
		err = -EPROTO; /* meant to run with libprobe and ran without, or the reverse */
	fclose(ch->out);
	if (waitpid(ch->pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		err = -ECHILD;
	return err;
}

static int run_callbacks(const char *self, const char *lib, struct result *r)
{
	struct child ch;
	char line[256];
	int err;

	err = spawn(&ch, self, lib, "callbacks", 0, -1, -1);
	if (err)
		return err;
	err = finish(&ch, lib != NULL, line, sizeof(line));
	if (!err && sscanf(line, "%d %lf %lf", &r->libprobe, &r->cb_median_ns, &r->cb_p99_ns) != 3)
		err = -EPROTO;
	return err;
}

/*
 * One throughput round: both workers at once, on one CPU. Whatever state
 * the VM is in, both run in it, a few milliseconds apart; each rate is per
 * second of the worker's own CPU time.
 */
static int run_pair(const char *self, const char *lib, double seconds, int cpu, bool on_first,
		    struct result *off, struct result *on)
{
	struct child ch[2];
	struct result *res[2] = {on_first ? on : off, on_first ? off : on};
	const char *libs[2] = {on_first ? lib : NULL, on_first ? NULL : lib};
	unsigned long long msgs, cpu_ns, wall_ns, tcalls;
	char line[256];
	int start[2], err, i, n = 0;

	if (pipe2(start, O_CLOEXEC))
		return -errno;
	for (i = 0; i < 2; i++) {
		err = spawn(&ch[i], self, libs[i], "throughput", seconds, cpu, start[0]);
		if (err)
			break;
		n++;
	}
	close(start[0]);
	/* both set up, then both go */
	for (i = 0; !err && i < 2; i++)
		if (!fgets(line, sizeof(line), ch[i].out) || strcmp(line, "ready\n"))
			err = -EPROTO;
	close(start[1]);
	for (i = 0; i < n; i++) {
		int e = finish(&ch[i], libs[i] != NULL, line, sizeof(line));

		if (!e && sscanf(line, "%d %llu %llu %llu %llu", &res[i]->libprobe, &msgs, &cpu_ns,
				 &wall_ns, &tcalls) != 5)
			e = -EPROTO;
		if (!e && (!cpu_ns || !wall_ns))
			e = -EPROTO;
		if (!e) {
			res[i]->messages = msgs;
			res[i]->cpu_ns = cpu_ns;
			res[i]->wall_ns = wall_ns;
			res[i]->timer_calls = tcalls;
		}
		if (!err)
			err = e;
	}
	return err;
}

static double median(double *v, int n)
{
	return quantile(v, (size_t)n, 0.5);
}

static double rate_cpu(const struct result *r)
{
	return (double)r->messages * 1e9 / (double)r->cpu_ns;
}

static double rate_wall(const struct result *r)
{
	return (double)r->messages * 1e9 / (double)r->wall_ns;
}

static int usage(void)
{
	fprintf(stderr, "usage: libprobe_bench [--lib PATH] [--rounds N] [--seconds S] [--cpu N] "
			"[--json FILE] [--aa] [--idle-thread]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *lib = LIBPROBE_PATH, *json = NULL, *with_lib, *self = "/proc/self/exe";
	bool aa = false, idle_thread_opt = false;
	struct result off[32], on[32];
	double d_med[32], d_p99[32], cpu_ratio[32], wall_ratio[32], share[32], v_off[32], v_on[32];
	double by_round[32];
	double seconds = 2.0;
	int rounds = 6, cpu = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1, i, err;
	char *end = NULL;
	FILE *f;

	if (argc == 4 && !strcmp(argv[1], "--worker"))
		return worker(argv[2], atof(argv[3]));
	for (i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--aa")) {
			aa = true;
			continue;
		}
		if (!strcmp(argv[i], "--idle-thread")) {
			setenv("LPROBE_BENCH_IDLE_THREAD", "1", 1);
			idle_thread_opt = true;
			continue;
		}
		if (!v)
			return usage();
		if (!strcmp(argv[i], "--lib"))
			lib = v;
		else if (!strcmp(argv[i], "--json"))
			json = v;
		else if (!strcmp(argv[i], "--rounds"))
			rounds = (int)strtol(v, &end, 10);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = strtod(v, &end);
		else if (!strcmp(argv[i], "--cpu"))
			cpu = (int)strtol(v, &end, 10);
		else
			return usage();
		if (end != NULL && (end == v || *end))
			return usage();
		end = NULL;
		i++;
	}
	if (rounds < 1 || rounds > 32 || !(seconds > 0) || cpu < 0) {
		fprintf(stderr, "libprobe_bench: --rounds 1..32, --seconds > 0, --cpu >= 0\n");
		return 2;
	}
	if (access(lib, R_OK)) {
		fprintf(stderr, "libprobe_bench: %s: %s\n", lib, strerror(errno));
		return 2;
	}
	with_lib = aa ? NULL : lib;
	printf("round  cb_ns_without  cb_ns_with  msgs/cpu_s_without  msgs/cpu_s_with  "
	       "cpu_share_with  ratio_cpu  ratio_wall%s%s\n",
	       aa ? "   (A/A: libprobe in neither)" : "",
	       idle_thread_opt ? "   (the plain side runs an idle thread)" : "");
	for (i = 0; i < rounds; i++) {
		/* ABBA: who starts first alternates */
		bool on_first = i % 2;

		err = run_callbacks(self, on_first ? with_lib : NULL, on_first ? &on[i] : &off[i]);
		if (!err)
			err = run_callbacks(self, on_first ? NULL : with_lib,
					    on_first ? &off[i] : &on[i]);
		if (!err)
			err = run_pair(self, with_lib, seconds, cpu, on_first, &off[i], &on[i]);
		if (err) {
			fprintf(stderr, "libprobe_bench: worker failed: %s\n", strerror(-err));
			return 1;
		}
		d_med[i] = on[i].cb_median_ns - off[i].cb_median_ns;
		d_p99[i] = on[i].cb_p99_ns - off[i].cb_p99_ns;
		cpu_ratio[i] = rate_cpu(&on[i]) / rate_cpu(&off[i]);
		wall_ratio[i] = rate_wall(&on[i]) / rate_wall(&off[i]);
		share[i] = (double)on[i].cpu_ns / (double)(on[i].cpu_ns + off[i].cpu_ns);
		printf("%5d  %13.2f  %10.2f  %18.0f  %15.0f  %14.3f  %9.3f  %10.3f\n", i,
		       off[i].cb_median_ns, on[i].cb_median_ns, rate_cpu(&off[i]), rate_cpu(&on[i]),
		       share[i], cpu_ratio[i], wall_ratio[i]);
		fflush(stdout);
	}
	for (i = 0; i < rounds; i++) {
		by_round[i] = cpu_ratio[i];
		v_off[i] = off[i].cb_median_ns;
		v_on[i] = on[i].cb_median_ns;
	}
	{
		double med = median(d_med, rounds), p99 = median(d_p99, rounds);
		double cpu_r = median(cpu_ratio, rounds), wall_r = median(wall_ratio, rounds);
		double base = median(v_off, rounds), with = median(v_on, rounds);
		double lo = cpu_ratio[0], hi = cpu_ratio[0];

		for (i = 1; i < rounds; i++) {
			lo = fmin(lo, cpu_ratio[i]);
			hi = fmax(hi, cpu_ratio[i]);
		}

		printf("\nper callback: %.1f ns without libprobe, %.1f ns with\n", base, with);
		printf("added cost per callback: median %.1f ns, p99 %.1f ns   (target <= 40 ns)\n",
		       med, p99);
		printf("throughput with/without, side by side on CPU %d: %.3f per CPU second "
		       "(rounds %.3f..%.3f), %.3f per wall second   (target >= 0.97)\n",
		       cpu, cpu_r, lo, hi, wall_r);
		if (json) {
			f = fopen(json, "w");
			if (!f) {
				fprintf(stderr, "libprobe_bench: %s: %s\n", json, strerror(errno));
				return 1;
			}
			fprintf(
			    f,
			    "{\"rounds\":%d,\"seconds\":%g,\"cpu\":%d,\"callback_ns_without\":%.2f,"
			    "\"callback_ns_with\":%.2f,\"added_ns_median\":%.2f,"
			    "\"added_ns_p99\":%.2f,\"throughput_ratio\":%.4f,"
			    "\"throughput_ratio_min\":%.4f,\"throughput_ratio_max\":%.4f,"
			    "\"throughput_ratio_wall\":%.4f,\"method\":\"side by side\","
			    "\"aa\":%s,\"idle_thread\":%s,\"round_ratios\":[",
			    rounds, seconds, cpu, base, with, med, p99, cpu_r, lo, hi, wall_r,
			    aa ? "true" : "false", idle_thread_opt ? "true" : "false");
			for (i = 0; i < rounds; i++)
				fprintf(f, "%s%.4f", i ? "," : "", by_round[i]);
			fprintf(f, "]}\n");
			fclose(f);
		}
	}
	return 0;
}
