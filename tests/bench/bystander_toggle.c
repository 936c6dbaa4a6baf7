// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What the agent costs processes it does not trace, measured in short
 * phases so that the machine's drift cancels:
 *
 *   bystander_toggle [--rounds N] [--phase-ms MS] [--settle-ms MS] [--cpu N]
 *                    [--json FILE] [--aa | --floor] syscalls|switches
 *
 * One bystander process (bystander.c, pinned to --cpu, default the last)
 * runs the whole time and keeps its iteration count in shared memory. The
 * driver loads the agent (the same library `loopstall record` runs, default
 * options) and attaches it to an idle event loop of its own, a child in
 * epoll_wait() as most loops are (the agent hooks that call alone), for
 * one phase, then frees it for the next, N rounds, the order alternating
 * (on/off, off/on). Each phase is measured after --settle-ms:
 * the bystander's iterations per second of its own CPU time (another
 * process's use of the CPU does not dilute it) and per wall second. The
 * ratio of each round is on/off; the median of the rounds is printed.
 *
 * bystander.sh starts and stops `loopstall record` itself for phases of
 * seconds; phases of a second, many of them, sit closer together and leave
 * less room for the drift of a VM that changes speed by a quarter for
 * minutes at a time. --aa leaves the agent out of both phases: the noise.
 * --floor puts empty programs on the agent's hooks in its place
 * (hook_floor.bpf.c, the context-switch event on the idle loop's thread):
 * what the kernel's mechanisms cost before the agent does any work.
 * Needs root. Target: ratio >= 0.98.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "agent.h"
#include "hook_floor.h"
#include "loop_tracker.h"

#ifndef BYSTANDER_PATH
#define BYSTANDER_PATH "bystander"
#endif

#define MAX_ROUNDS 200

struct sample {
	uint64_t count; /* bystander iterations */
	uint64_t cpu_ns;
	uint64_t wall_ns;
};

struct phase {
	double per_cpu_s;
	double per_wall_s;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts_ns(&ts);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static int pin(pid_t pid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(pid, sizeof(set), &set) ? -errno : 0;
}

/* An event loop with nothing to do: what the agent traces meanwhile. */
static pid_t start_idle_loop(void)
{
	pid_t pid = fork();
	struct epoll_event ev;
	int ep;

	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		_exit(1);
	for (;;)
		epoll_wait(ep, &ev, 1, 1000);
}

static pid_t start_bystander(const char *mode, const char *wait, int cpu, int counter_fd)
{
	char cpu_s[16], fd_s[16];
	pid_t pid = fork();

	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	snprintf(cpu_s, sizeof(cpu_s), "%d", cpu);
	snprintf(fd_s, sizeof(fd_s), "%d", counter_fd);
	/* runs until killed (a day is its longest run) */
	execl(BYSTANDER_PATH, BYSTANDER_PATH, "--cpu", cpu_s, "--counter", fd_s, "--wait", wait,
	      mode, "86399", (char *)NULL);
	_exit(127);
}

static int take(struct sample *s, const volatile uint64_t *count, clockid_t cpu_clock)
{
	struct timespec ts;

	if (clock_gettime(cpu_clock, &ts))
		return -errno;
	s->cpu_ns = ts_ns(&ts);
	s->count = __atomic_load_n(count, __ATOMIC_RELAXED);
	s->wall_ns = mono_ns();
	return 0;
}

static int nothing_stall(void *ctx, const struct ls_stall *s)
{
	(void)ctx;
	(void)s;
	return 0;
}

/* Waits ms, letting the agent (if any) do its work meanwhile, as `loopstall record` does. */
static int wait_ms(struct ls_agent *agent, int ms)
{
	uint64_t end = mono_ns() + (uint64_t)ms * 1000000ull, now;
	int err;

	while (!stop && (now = mono_ns()) < end) {
		int left = (int)((end - now + 999999) / 1000000);

		if (agent) {
			err = ls_agent__poll(agent, left < 100 ? left : 100);
			if (err)
				return err;
		} else {
			poll(NULL, 0, left);
		}
	}
	return stop ? -EINTR : 0;
}

/*
 * BPF programs on tracing hooks now loaded on the machine. In an "off" phase
 * there must be none: someone else's tracer (another loopstall, a test of
 * the agent) would run in both phases and hide the cost.
 */
static int tracing_progs(void)
{
	__u32 id = 0;
	int n = 0;

	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue; /* gone meanwhile */
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
			switch (info.type) {
			case BPF_PROG_TYPE_KPROBE:
			case BPF_PROG_TYPE_TRACEPOINT:
			case BPF_PROG_TYPE_PERF_EVENT:
			case BPF_PROG_TYPE_RAW_TRACEPOINT:
			case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE:
			case BPF_PROG_TYPE_TRACING:
				n++;
				break;
			default:
				break;
			}
		}
		close(fd);
	}
	return n;
}

/* Waits (up to 10 minutes) until nobody else's tracer is loaded. */
static int wait_quiet(void)
{
	int n, waited = 0, i;

	/* our own programs of the phase before may take a moment to be freed */
	for (i = 0; i < 20 && tracing_progs() > 0; i++)
		poll(NULL, 0, 50);
	while (!stop && (n = tracing_progs()) > 0) {
		if (waited == 0)
			fprintf(stderr,
				"bystander_toggle: waiting for %d BPF tracing programs "
				"of someone else to go away\n",
				n);
		if (waited++ >= 600) {
			fprintf(stderr, "bystander_toggle: still %d after 10 minutes\n", n);
			return -EBUSY;
		}
		poll(NULL, 0, 1000);
	}
	return stop ? -EINTR : 0;
}

enum what { NOTHING, AGENT, FLOOR };

static int run_phase(enum what what, pid_t target, int settle_ms, int phase_ms,
		     const volatile uint64_t *count, clockid_t cpu_clock, struct phase *out)
{
	struct ls_agent_opts opts = {.threshold_ns = 50000000ull};
	struct ls_agent_ops ops = {.stall = nothing_stall};
	struct ls_agent *agent = NULL;
	const struct ls_run_summary *sum;
	struct hook_floor_set *floor = NULL;
	struct sample a, b;
	int err;

	if (what == FLOOR) {
		/* the agent hooks epoll_wait alone for that loop (waitplan.h) */
		err = hook_floor_set__new(target, 1u << LT_WAIT_EPOLL_WAIT, &floor);
		if (err) {
			fprintf(stderr, "bystander_toggle: cannot load the empty programs: %s\n",
				strerror(-err));
			goto cleanup;
		}
	}
	if (what == AGENT) {
		err = ls_agent__new(&opts, &ops, NULL, &agent);
		if (err) {
			fprintf(stderr, "bystander_toggle: cannot load the agent: %s\n",
				strerror(-err));
			return err;
		}
		err = ls_agent__add_target(agent, target, 0, false, NULL);
		if (err) {
			fprintf(stderr, "bystander_toggle: cannot trace pid %d: %s\n", target,
				strerror(-err));
			goto cleanup;
		}
	}
	err = wait_ms(agent, settle_ms);
	if (!err)
		err = take(&a, count, cpu_clock);
	if (!err)
		err = wait_ms(agent, phase_ms);
	if (!err)
		err = take(&b, count, cpu_clock);
	if (err)
		goto cleanup;
	/* someone else's tracer came and went within the phase: measure it again */
	if (what == NOTHING && tracing_progs()) {
		err = -EAGAIN;
		goto cleanup;
	}
	if (b.cpu_ns <= a.cpu_ns || b.count <= a.count) {
		fprintf(stderr, "bystander_toggle: the bystander did not run during a phase\n");
		err = -EIO;
		goto cleanup;
	}
	out->per_cpu_s = (double)(b.count - a.count) * 1e9 / (double)(b.cpu_ns - a.cpu_ns);
	out->per_wall_s = (double)(b.count - a.count) * 1e9 / (double)(b.wall_ns - a.wall_ns);
	if (agent)
		err = ls_agent__finish(agent, &sum);
cleanup:
	ls_agent__free(agent);
	hook_floor_set__free(floor);
	return err;
}

static int usage(void)
{
	fprintf(stderr, "usage: bystander_toggle [--rounds N] [--phase-ms MS] [--settle-ms MS] "
			"[--cpu N] [--json FILE] [--wait poll|epoll] [--aa | --floor] "
			"syscalls|switches\n");
	return 2;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = 20, phase_ms = 1000, settle_ms = 200, i, err, counter_fd = -1, ret = 1;
	int cpu = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
	double cpu_ratio[MAX_ROUNDS], wall_ratio[MAX_ROUNDS];
	const char *mode = NULL, *json = NULL, *wait = "poll";
	pid_t target = 0, bystander = 0;
	volatile uint64_t *count = MAP_FAILED;
	struct sigaction sa;
	clockid_t cpu_clock;
	enum what on_phase = AGENT;
	FILE *f;

	for (i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--aa") || !strcmp(argv[i], "--floor")) {
			if (on_phase != AGENT) {
				fprintf(stderr,
					"bystander_toggle: --aa and --floor exclude each other\n");
				return 2;
			}
			on_phase = argv[i][2] == 'a' ? NOTHING : FLOOR;
		} else if (argv[i][0] != '-') {
			if (mode)
				return usage();
			mode = argv[i];
		} else if (!v) {
			return usage();
		} else if (!strcmp(argv[i], "--json")) {
			json = argv[++i];
		} else if (!strcmp(argv[i], "--wait")) {
			wait = argv[++i];
			if (strcmp(wait, "poll") && strcmp(wait, "epoll"))
				return usage();
		} else if (!strcmp(argv[i], "--rounds")) {
			if (parse_int(argv[++i], 1, MAX_ROUNDS, &rounds))
				return usage();
		} else if (!strcmp(argv[i], "--phase-ms")) {
			if (parse_int(argv[++i], 50, 60000, &phase_ms))
				return usage();
		} else if (!strcmp(argv[i], "--settle-ms")) {
			if (parse_int(argv[++i], 0, 60000, &settle_ms))
				return usage();
		} else if (!strcmp(argv[i], "--cpu")) {
			if (parse_int(argv[++i], 0, CPU_SETSIZE - 1, &cpu))
				return usage();
		} else {
			return usage();
		}
	}
	if (!mode || (strcmp(mode, "syscalls") && strcmp(mode, "switches")))
		return usage();
	if (geteuid()) {
		fprintf(stderr,
			"bystander_toggle: must run as root (the agent loads BPF programs)\n");
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	counter_fd = memfd_create("bystander-counter", 0);
	if (counter_fd < 0 || ftruncate(counter_fd, 4096)) {
		fprintf(stderr, "bystander_toggle: memfd: %s\n", strerror(errno));
		goto cleanup;
	}
	count = mmap(NULL, 4096, PROT_READ, MAP_SHARED, counter_fd, 0);
	if (count == MAP_FAILED) {
		fprintf(stderr, "bystander_toggle: mmap: %s\n", strerror(errno));
		goto cleanup;
	}
	/* the driver and the loop it traces stay off the bystander's CPU */
	if (cpu > 0)
		pin(0, 0);
	target = start_idle_loop();
	bystander = start_bystander(mode, wait, cpu, counter_fd);
	if (target < 0 || bystander < 0) {
		fprintf(stderr, "bystander_toggle: fork: %s\n", strerror(errno));
		goto cleanup;
	}
	err = clock_getcpuclockid(bystander, &cpu_clock);
	if (err) {
		fprintf(stderr, "bystander_toggle: clock_getcpuclockid: %s\n", strerror(err));
		goto cleanup;
	}
	/* running: its counter moves */
	for (i = 0; i < 100 && !__atomic_load_n(count, __ATOMIC_RELAXED); i++)
		poll(NULL, 0, 20);
	if (!__atomic_load_n(count, __ATOMIC_RELAXED)) {
		fprintf(stderr, "bystander_toggle: %s did not start\n", BYSTANDER_PATH);
		goto cleanup;
	}

	printf("bystander %s on CPU %d, %d rounds of %d ms per phase (+%d ms settling)%s\n", mode,
	       cpu, rounds, phase_ms, settle_ms,
	       on_phase == NOTHING ? ", A/A: no agent in either"
	       : on_phase == FLOOR ? ", \"on\": empty programs on the agent's hooks"
				   : "");
	printf("round  off/cpu_s  on/cpu_s  ratio_cpu  ratio_wall\n");
	for (i = 0; i < rounds; i++) {
		struct phase off, on;
		bool on_first = i % 2;
		int attempt = 0;

		do {
			err = wait_quiet();
			if (!err)
				err = run_phase(on_first ? on_phase : NOTHING, target, settle_ms,
						phase_ms, count, cpu_clock, on_first ? &on : &off);
			if (!err)
				err = run_phase(on_first ? NOTHING : on_phase, target, settle_ms,
						phase_ms, count, cpu_clock, on_first ? &off : &on);
		} while (err == -EAGAIN && ++attempt < 3);
		if (err == -EAGAIN)
			fprintf(stderr,
				"bystander_toggle: round %d: someone else's tracer in "
				"three attempts\n",
				i);
		if (err)
			goto cleanup;
		cpu_ratio[i] = on.per_cpu_s / off.per_cpu_s;
		wall_ratio[i] = on.per_wall_s / off.per_wall_s;
		printf("%5d  %9.0f  %8.0f  %9.3f  %10.3f\n", i, off.per_cpu_s, on.per_cpu_s,
		       cpu_ratio[i], wall_ratio[i]);
		fflush(stdout);
	}
	{
		double c = median(cpu_ratio, rounds), w = median(wall_ratio, rounds);
		double lo = cpu_ratio[0], hi = cpu_ratio[0];

		for (i = 1; i < rounds; i++) {
			lo = fmin(lo, cpu_ratio[i]);
			hi = fmax(hi, cpu_ratio[i]);
		}
		printf(
		    "\n%s: ratio %.3f per CPU second (rounds %.3f..%.3f), %.3f per wall second   "
		    "(target >= 0.98)\n",
		    mode, c, lo, hi, w);
		if (json) {
			f = fopen(json, "w");
			if (!f) {
				fprintf(stderr, "bystander_toggle: %s: %s\n", json,
					strerror(errno));
				goto cleanup;
			}
			fprintf(
			    f,
			    "{\"mode\":\"%s\",\"cpu\":%d,\"rounds\":%d,\"phase_ms\":%d,"
			    "\"settle_ms\":%d,\"on\":\"%s\",\"ratio_cpu\":%.4f,\"ratio_wall\":%.4f,"
			    "\"ratio_cpu_min\":%.4f,\"ratio_cpu_max\":%.4f,\"round_ratios\":[",
			    mode, cpu, rounds, phase_ms, settle_ms,
			    on_phase == NOTHING ? "nothing"
			    : on_phase == FLOOR ? "floor"
						: "agent",
			    c, w, lo, hi);
			for (i = 0; i < rounds; i++)
				fprintf(f, "%s%.4f", i ? "," : "", cpu_ratio[i]);
			fprintf(f, "]}\n");
			fclose(f);
		}
	}
	ret = 0;
cleanup:
	if (bystander > 0) {
		kill(bystander, SIGKILL);
		waitpid(bystander, NULL, 0);
	}
	if (target > 0) {
		kill(target, SIGKILL);
		waitpid(target, NULL, 0);
	}
	if (count != MAP_FAILED)
		munmap((void *)count, 4096);
	if (counter_fd >= 0)
		close(counter_fd);
	return ret;
}
