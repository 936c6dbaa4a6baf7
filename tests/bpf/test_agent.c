// SPDX-License-Identifier: BSD-2-Clause
/*
 * The agent library against real processes: loads the BPF programs (root),
 * forks small poll loops that misbehave in known ways, and checks what the
 * agent reports. Exits 77 (skipped) without root unless CI=true.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "agent.h"
#include "clock.h"
#include "loop_tracker.h"

#define MS 1000000ull
#define MAX_SEEN 16

struct seen {
	struct ls_stall stalls[MAX_SEEN];
	unsigned n_stalls;
	uint32_t begun_tid[MAX_SEEN];
	uint64_t begun_elapsed[MAX_SEEN];
	unsigned n_begun;
};

static int on_stall(void *ctx, const struct ls_stall *s)
{
	struct seen *seen = ctx;

	if (seen->n_stalls < MAX_SEEN)
		seen->stalls[seen->n_stalls++] = *s;
	return 0;
}

static int on_begin(void *ctx, const struct ls_stall_begin *b)
{
	struct seen *seen = ctx;

	if (seen->n_begun < MAX_SEEN) {
		seen->begun_tid[seen->n_begun] = b->tid;
		seen->begun_elapsed[seen->n_begun++] = b->elapsed_ns;
	}
	return 0;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ms of this thread's own CPU time: a loaded machine stretches it, never shrinks it */
static void spin_ms(unsigned ms)
{
	uint64_t end = thread_cpu_ns() + ms * MS;
	volatile uint64_t x = 1;

	while (thread_cpu_ns() < end)
		x = x * 6364136223846793005ull + 1;
}

/* A loop iteration: wait 1 ms in poll(), the way an idle event loop does. */
static void loop_iterations(unsigned n)
{
	while (n--)
		poll(NULL, 0, 1);
}

typedef void (*victim_fn)(void);

/* Fork a victim held on a pipe until the agent traces it. */
static pid_t spawn(victim_fn fn, int *go)
{
	int fds[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[1]);
		if (read(fds[0], &c, 1) != 1)
			_exit(1);
		fn();
		_exit(0);
	}
	close(fds[0]);
	*go = fds[1];
	return pid;
}

struct run {
	struct ls_agent *agent;
	struct seen seen;
	const struct ls_run_summary *sum;
	pid_t pid;
};

/* Trace fn's process until it exits (or stop_after_ms passes), then finish. */
static void run_victim(struct run *r, victim_fn fn, uint64_t threshold_ns, bool follow_forks,
		       unsigned stop_after_ms)
{
	struct ls_agent_ops ops = {.stall = on_stall, .stall_begin = on_begin};
	struct ls_agent_opts opts = {.threshold_ns = threshold_ns};
	uint64_t start;
	int go, status;

	memset(&r->seen, 0, sizeof(r->seen));
	assert_int_equal(ls_agent__new(&opts, &ops, &r->seen, &r->agent), 0);
	r->pid = spawn(fn, &go);
	assert_int_equal(ls_agent__add_target(r->agent, r->pid, 0, follow_forks, "victim"), 0);
	assert_int_equal(write(go, "g", 1), 1);
	close(go);
	start = ls_now_ns();
	while (ls_agent__alive(r->agent)) {
		assert_int_equal(ls_agent__poll(r->agent, 2), 0);
		if (stop_after_ms && ls_now_ns() - start > stop_after_ms * MS)
			break;
	}
	assert_int_equal(ls_agent__finish(r->agent, &r->sum), 0);
	if (stop_after_ms)
		kill(r->pid, SIGKILL);
	waitpid(r->pid, &status, 0);
}

static double ms_of(uint64_t ns)
{
	return (double)ns / 1e6;
}

static void victim_sleep_then_cpu(void)
{
	loop_iterations(20);
	usleep(120 * 1000);
	loop_iterations(20);
	spin_ms(90);
	loop_iterations(20);
}

static void test_blocking_and_cpu(void **state)
{
	struct run r;
	const struct ls_stall *s;
	double d;

	(void)state;
	run_victim(&r, victim_sleep_then_cpu, 50 * MS, false, 0);
	assert_int_equal(r.seen.n_stalls, 2);

	s = &r.seen.stalls[0];
	d = ms_of(s->end_ns - s->start_ns);
	assert_true(d >= 118 && d < 140);
	assert_int_equal(s->cause, LS_CAUSE_BLOCKING_SYSCALL);
	assert_true(s->n_syscalls >= 1);
	assert_string_equal(s->syscalls[0].name, "clock_nanosleep");
	assert_true(ms_of(s->syscalls[0].total_ns) > 110);
	assert_false(s->cut_short);

	s = &r.seen.stalls[1];
	d = ms_of(s->end_ns - s->start_ns);
	assert_true(d >= 88 && d < 400);
	assert_true(ms_of(s->on_cpu_ns) >= 80);
	/* on a busy machine the CPU time is spread over more wall time */
	assert_true(s->cause == LS_CAUSE_CPU ||
		    (s->cause == LS_CAUSE_PREEMPTED && s->runq_ns > s->on_cpu_ns));

	/*
	 * Stalls are announced while they last; a busy machine can keep this
	 * test's own poll loop off the CPU past the end of the shorter one.
	 */
	assert_true(r.seen.n_begun >= 1 && r.seen.n_begun <= 2);
	assert_true(r.seen.begun_elapsed[0] >= 50 * MS && r.seen.begun_elapsed[0] < 120 * MS);

	assert_int_equal(r.sum->n_threads, 1);
	assert_int_equal(r.sum->threads[0].stalls, 2);
	assert_true(r.sum->threads[0].iterations >= 55);
	assert_true(r.sum->threads[0].exited);
	assert_int_equal(r.sum->stalls, 2);
	ls_agent__free(r.agent);
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *hold_lock(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	usleep(150 * 1000);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void victim_lock_wait(void)
{
	pthread_t holder;

	loop_iterations(10);
	pthread_create(&holder, NULL, hold_lock, NULL);
	usleep(10 * 1000); /* let the holder take it; a short iteration of its own */
	loop_iterations(1);
	pthread_mutex_lock(&lock);
	pthread_mutex_unlock(&lock);
	loop_iterations(10);
	pthread_join(holder, NULL);
}

static void test_lock_wait(void **state)
{
	struct run r;
	const struct ls_stall *s;

	(void)state;
	run_victim(&r, victim_lock_wait, 50 * MS, false, 0);
	assert_int_equal(r.seen.n_stalls, 1);
	s = &r.seen.stalls[0];
	assert_int_equal(s->cause, LS_CAUSE_LOCK_WAIT);
	assert_string_equal(s->syscalls[0].name, "futex");
	assert_true(ms_of(s->end_ns - s->start_ns) > 100);
	/* the holder thread never waited in poll: it is no loop thread */
	assert_int_equal(r.sum->n_threads, 1);
	ls_agent__free(r.agent);
}

static void victim_forks(void)
{
	pid_t child = fork();

	if (child == 0) {
		loop_iterations(5);
		usleep(80 * 1000);
		loop_iterations(5);
		_exit(0);
	}
	loop_iterations(5);
	waitpid(child, NULL, 0);
	loop_iterations(5);
}

static void test_follow_forks(void **state)
{
	struct run r;
	const struct ls_stall *s;

	(void)state;
	run_victim(&r, victim_forks, 50 * MS, true, 0);
	/* the parent's iteration around waitpid() stalls too: find the child's */
	assert_true(r.seen.n_stalls >= 1);
	s = &r.seen.stalls[0];
	assert_int_not_equal(s->pid, (uint32_t)r.pid);
	assert_int_equal(s->cause, LS_CAUSE_BLOCKING_SYSCALL);
	assert_string_equal(s->syscalls[0].name, "clock_nanosleep");
	ls_agent__free(r.agent);
}

/*
 * Two targets on one byte of the wait programs' tgid filter (pids 4096
 * apart): when one is removed, the other must still be traced.
 */
static void test_shared_filter_byte(void **state)
{
	struct ls_agent_ops ops = {.stall = on_stall, .stall_begin = on_begin};
	struct ls_agent_opts opts = {.threshold_ns = 50 * MS};
	const struct ls_run_summary *sum;
	struct ls_agent *agent;
	struct seen seen = {0};
	int go_a, go_b = -1, i;
	pid_t a, b = -1;

	(void)state;
	/* a is never let go: it stays blocked on its pipe */
	a = spawn(victim_sleep_then_cpu, &go_a);
	/* pids are handed out in turn: fork until one lands on a's byte */
	for (i = 0; i < 2 * 65536 && b < 0; i++) {
		int go;
		pid_t p = spawn(victim_sleep_then_cpu, &go);

		if (((uint32_t)p & LT_TGID_FILTER_MASK) == ((uint32_t)a & LT_TGID_FILTER_MASK)) {
			b = p;
			go_b = go;
		} else {
			close(go); /* read() sees EOF: it exits at once */
			waitpid(p, NULL, 0);
		}
	}
	assert_true(b > 0);
	assert_int_equal(ls_agent__new(&opts, &ops, &seen, &agent), 0);
	assert_int_equal(ls_agent__add_target(agent, a, 0, false, "a"), 0);
	assert_int_equal(ls_agent__add_target(agent, b, 0, false, "b"), 0);
	assert_int_equal(ls_agent__remove_target(agent, a), 0);
	assert_int_equal(write(go_b, "g", 1), 1);
	close(go_b);
	while (ls_agent__alive(agent))
		assert_int_equal(ls_agent__poll(agent, 2), 0);
	assert_int_equal(ls_agent__finish(agent, &sum), 0);
	waitpid(b, NULL, 0);
	close(go_a);
	waitpid(a, NULL, 0);
	/* b's sleep and spin, as in test_blocking_and_cpu */
	assert_int_equal(seen.n_stalls, 2);
	for (i = 0; i < 2; i++)
		assert_int_equal(seen.stalls[i].pid, (uint32_t)b);
	assert_int_equal(seen.stalls[0].cause, LS_CAUSE_BLOCKING_SYSCALL);
	ls_agent__free(agent);
}

static void victim_blocks_forever(void)
{
	loop_iterations(10);
	sleep(30);
}

static void test_finish_cuts_short(void **state)
{
	struct run r;
	const struct ls_stall *s;
	double d;

	(void)state;
	run_victim(&r, victim_blocks_forever, 50 * MS, false, 300);
	assert_int_equal(r.seen.n_stalls, 1);
	s = &r.seen.stalls[0];
	assert_true(s->cut_short);
	d = ms_of(s->end_ns - s->start_ns);
	assert_true(d > 250 && d < 400);
	assert_int_equal(s->cause, LS_CAUSE_BLOCKING_SYSCALL);
	assert_string_equal(s->syscalls[0].name, "clock_nanosleep");
	ls_agent__free(r.agent);
}

static void test_killed_mid_stall(void **state)
{
	struct ls_agent_ops ops = {.stall = on_stall, .stall_begin = on_begin};
	struct ls_agent_opts opts = {.threshold_ns = 50 * MS};
	const struct ls_run_summary *sum;
	struct ls_agent *agent;
	struct seen seen = {0};
	uint64_t start;
	int go;
	pid_t pid;

	(void)state;
	assert_int_equal(ls_agent__new(&opts, &ops, &seen, &agent), 0);
	pid = spawn(victim_blocks_forever, &go);
	assert_int_equal(ls_agent__add_target(agent, pid, 0, false, NULL), 0);
	assert_int_equal(write(go, "g", 1), 1);
	close(go);
	start = ls_now_ns();
	while (ls_now_ns() - start < 200 * MS)
		assert_int_equal(ls_agent__poll(agent, 2), 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	while (ls_agent__alive(agent))
		assert_int_equal(ls_agent__poll(agent, 2), 0);
	assert_int_equal(ls_agent__finish(agent, &sum), 0);
	/* written by the kernel side as the thread died, not by finish() */
	assert_int_equal(seen.n_stalls, 1);
	assert_true(seen.stalls[0].cut_short);
	assert_true(ms_of(seen.stalls[0].end_ns - seen.stalls[0].start_ns) >= 150);
	ls_agent__free(agent);
}

static unsigned count_bpf_fds(void)
{
	char path[300], link[256];
	unsigned n = 0;
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	ssize_t len;

	assert_non_null(dir);
	while ((d = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", d->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		n += !strncmp(link, "anon_inode:bpf", 14);
	}
	closedir(dir);
	return n;
}

static void test_nothing_left_attached(void **state)
{
	struct ls_agent_ops ops = {0};
	struct ls_agent_opts opts = {.threshold_ns = 50 * MS};
	struct ls_agent *agent;
	unsigned before = count_bpf_fds();

	(void)state;
	assert_int_equal(ls_agent__new(&opts, &ops, NULL, &agent), 0);
	assert_true(count_bpf_fds() > before);
	/* a pid that cannot exist is refused, and the agent stays usable */
	assert_int_equal(ls_agent__add_target(agent, 0x3fffffff, 0, false, NULL), -ESRCH);
	ls_agent__free(agent);
	assert_int_equal(count_bpf_fds(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_blocking_and_cpu),	  cmocka_unit_test(test_lock_wait),
	    cmocka_unit_test(test_follow_forks),	  cmocka_unit_test(test_shared_filter_byte),
	    cmocka_unit_test(test_finish_cuts_short),	  cmocka_unit_test(test_killed_mid_stall),
	    cmocka_unit_test(test_nothing_left_attached),
	};
	const char *ci = getenv("CI");

	bool in_ci = ci && !strcmp(ci, "true");
	struct ls_agent_opts opts = {.threshold_ns = 50 * MS};
	struct ls_agent_ops ops = {0};
	struct ls_agent *probe;
	int err;

	if (geteuid() != 0) {
		fprintf(stderr, "test_agent: needs root to load BPF programs\n");
		return in_ci ? 1 : 77;
	}
	err = ls_agent__new(&opts, &ops, NULL, &probe);
	if (err) {
		fprintf(stderr, "test_agent: cannot load the BPF programs: %s\n", strerror(-err));
		return in_ci ? 1 : 77;
	}
	ls_agent__free(probe);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
