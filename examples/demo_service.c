// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * loopstall-demo-service: a small libev line-echo server that stalls its own
 * loop on purpose, so `loopstall demo` and the end-to-end tests have a known
 * victim. Each scenario is one well-known mistake (or its fix):
 *
 *   sleep    a timer callback blocks in usleep() on the loop thread
 *   cpu      a timer callback computes for a while without returning
 *   offload  the same blocking call handed to a thread pool: no stall
 *
 * The call chains are kept out of line (noinline) so that unwound stacks name
 * each function; tests check those names.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#define PROG "loopstall-demo-service"
#define POOL_WORKERS 2
#define HEARTBEAT_S 0.010
#define MAX_SCENARIOS 3
/* Longest accepted duration: an hour, far from any overflow in us or ns. */
#define MAX_MS 3600000UL
#define MAX_REPEAT 1000UL

enum scenario {
	SC_SLEEP,
	SC_CPU,
	SC_OFFLOAD,
};

static const char *const scenario_names[] = {
    [SC_SLEEP] = "sleep",
    [SC_CPU] = "cpu",
    [SC_OFFLOAD] = "offload",
};

struct options {
	unsigned int port;
	unsigned long sleep_ms;
	unsigned long cpu_ms;
	unsigned long offload_ms;
	unsigned long gap_ms;
	unsigned long delay_ms;
	unsigned long linger_ms;
	unsigned long idle_ms;
	unsigned long repeat;
	bool wait_signal;
	bool idle;
	enum scenario list[MAX_SCENARIOS];
	int list_len;
};

struct job {
	struct job *next;
	unsigned long sleep_ms;
};

/* A fixed pool of workers fed through a mutex + condvar queue. */
struct pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head;
	struct job *tail;
	/* Jobs finished; atomic so the loop thread never waits for the lock. */
	atomic_ulong completed;
	bool stopping;
	int nr_threads;
	pthread_t threads[POOL_WORKERS];
	struct ev_loop *loop;
	ev_async *done;
};

struct conn {
	ev_io io; /* first, so the watcher pointer is the connection */
	struct conn *prev;
	struct conn *next;
	size_t len; /* bytes in buf */
	size_t out; /* of which complete lines waiting to be echoed */
	char buf[4096];
};

struct demo {
	struct ev_loop *loop;
	struct options opt;
	enum scenario *plan;
	size_t plan_len;
	size_t next;
	bool started;
	unsigned long offload_handled;
	int listen_fd;
	struct conn *conns;
	struct pool pool;
	ev_io accept_w;
	ev_timer heartbeat;
	ev_timer start_timer;
	ev_signal usr2;
	ev_timer report_timer;
	ev_timer stats_timer;
	ev_timer backup_timer;
	ev_async backup_done;
	ev_timer finish_timer;
};

/* Written once per cpu scenario so the computation cannot be optimized away. */
static volatile uint64_t stats_result;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static double ms_to_s(unsigned long ms)
{
	return (double)ms / 1000.0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Stands for a synchronous read from slow storage on the loop thread. */
__attribute__((noinline)) static int read_config_slowly(unsigned long ms)
{
	int err = usleep((useconds_t)(ms * 1000));

	/* Keeps the call from becoming a tail call, which would drop this frame. */
	__asm__ volatile("" ::: "memory");
	return err;
}

__attribute__((noinline)) static int load_config(unsigned long ms)
{
	int err = read_config_slowly(ms);

	__asm__ volatile("" ::: "memory");
	return err;
}

__attribute__((noinline)) static int build_report(unsigned long ms)
{
	int err = load_config(ms);

	__asm__ volatile("" ::: "memory");
	return err;
}

__attribute__((noinline)) static bool is_prime(uint64_t n)
{
	if (n < 2)
		return false;
	for (uint64_t d = 2; d * d <= n; d++) {
		if (n % d == 0)
			return false;
	}
	return true;
}

/* Counts primes and mixes them into a hash until cpu_ms have passed. */
__attribute__((noinline)) static void compute_stats(unsigned long cpu_ms)
{
	uint64_t end = mono_ns() + (uint64_t)cpu_ms * 1000000ULL;
	uint64_t hash = 1469598103934665603ULL;
	uint64_t n = 2;

	/* Read the clock (vDSO, no syscall) once per batch, not per number. */
	do {
		for (int i = 0; i < 256; i++, n++) {
			if (is_prime(n))
				hash = (hash ^ n) * 1099511628211ULL;
		}
	} while (mono_ns() < end);
	stats_result = hash;
}

/* The same slow storage access, now on a worker thread. */
__attribute__((noinline)) static void write_backup(unsigned long ms)
{
	usleep((useconds_t)(ms * 1000));
	__asm__ volatile("" ::: "memory");
}

static void *pool_worker(void *arg)
{
	struct pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct job *job;

		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->cond, &p->lock);
		if (!p->head)
			break;
		job = p->head;
		p->head = job->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);

		write_backup(job->sleep_ms);
		free(job);

		atomic_fetch_add(&p->completed, 1);
		/* Wakes the loop; several sends may coalesce into one callback. */
		ev_async_send(p->loop, p->done);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static int pool_start(struct pool *p, struct ev_loop *loop, ev_async *done)
{
	sigset_t all, old;
	int err = 0;

	p->loop = loop;
	p->done = done;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);

	/* Workers block every signal so SIGUSR2 is always taken by the loop thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 0; i < POOL_WORKERS; i++) {
		err = pthread_create(&p->threads[i], NULL, pool_worker, p);
		if (err)
			break;
		p->nr_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -err;
}

static int pool_submit(struct pool *p, unsigned long sleep_ms)
{
	struct job *job = calloc(1, sizeof(*job));

	if (!job)
		return -ENOMEM;
	job->sleep_ms = sleep_ms;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static void pool_stop(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nr_threads; i++)
		pthread_join(p->threads[i], NULL);
	while (p->head) {
		struct job *job = p->head;

		p->head = job->next;
		free(job);
	}
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
}

static void schedule_next(struct demo *d, unsigned long after_ms)
{
	enum scenario sc;

	/* A long callback leaves ev_now() stale; timers must count from now. */
	ev_now_update(d->loop);
	if (d->next >= d->plan_len) {
		ev_timer_set(&d->finish_timer, ms_to_s(d->opt.linger_ms), 0.);
		ev_timer_start(d->loop, &d->finish_timer);
		return;
	}
	sc = d->plan[d->next++];
	switch (sc) {
	case SC_SLEEP:
		ev_timer_set(&d->report_timer, ms_to_s(after_ms), 0.);
		ev_timer_start(d->loop, &d->report_timer);
		break;
	case SC_CPU:
		ev_timer_set(&d->stats_timer, ms_to_s(after_ms), 0.);
		ev_timer_start(d->loop, &d->stats_timer);
		break;
	case SC_OFFLOAD:
		ev_timer_set(&d->backup_timer, ms_to_s(after_ms), 0.);
		ev_timer_start(d->loop, &d->backup_timer);
		break;
	}
}

static void on_report_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct demo *d = w->data;

	(void)loop;
	(void)revents;
	say("scenario sleep begin");
	if (build_report(d->opt.sleep_ms))
		fprintf(stderr, PROG ": sleep: %s\n", strerror(errno));
	say("scenario sleep end");
	schedule_next(d, d->opt.gap_ms);
}

/*
 * The kernel's own account of this thread (/proc/thread-self/schedstat:
 * ns on the CPU, ns runnable in the run queue), which tests hold loopstall's
 * split of a stall against.
 */
struct thread_account {
	uint64_t wall_ns, on_cpu_ns, runq_ns;
};

static void thread_account(struct thread_account *a)
{
	FILE *f = fopen("/proc/thread-self/schedstat", "re");
	unsigned long long on_cpu = 0, runq = 0;

	if (f) {
		if (fscanf(f, "%llu %llu", &on_cpu, &runq) != 2)
			on_cpu = runq = 0;
		fclose(f);
	}
	a->wall_ns = mono_ns();
	a->on_cpu_ns = on_cpu;
	a->runq_ns = runq;
}

static void say_account(const char *name, const struct thread_account *a0,
			const struct thread_account *a1)
{
	say("schedstat %s wall_ms=%.1f on_cpu_ms=%.1f runqueue_ms=%.1f", name,
	    (double)(a1->wall_ns - a0->wall_ns) / 1e6,
	    (double)(a1->on_cpu_ns - a0->on_cpu_ns) / 1e6,
	    (double)(a1->runq_ns - a0->runq_ns) / 1e6);
}

static void on_stats_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct demo *d = w->data;

	(void)loop;
	(void)revents;
	struct thread_account a0, a1;

	say("scenario cpu begin");
	thread_account(&a0);
	compute_stats(d->opt.cpu_ms);
	thread_account(&a1);
	say_account("cpu", &a0, &a1);
	say("scenario cpu end");
	schedule_next(d, d->opt.gap_ms);
}

static void on_backup_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct demo *d = w->data;
	int err;

	(void)revents;
	say("scenario offload begin");
	err = pool_submit(&d->pool, d->opt.offload_ms);
	if (err) {
		fprintf(stderr, PROG ": offload: %s\n", strerror(-err));
		ev_break(loop, EVBREAK_ALL);
	}
}

static void on_backup_done(struct ev_loop *loop, ev_async *w, int revents)
{
	struct demo *d = w->data;
	unsigned long completed = atomic_load(&d->pool.completed);

	(void)loop;
	(void)revents;
	while (d->offload_handled < completed) {
		d->offload_handled++;
		say("scenario offload end");
		schedule_next(d, d->opt.gap_ms);
	}
}

static void on_finish_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	say("done");
	ev_break(loop, EVBREAK_ALL);
}

static void start_scenarios(struct demo *d)
{
	if (d->started)
		return;
	d->started = true;
	ev_timer_stop(d->loop, &d->start_timer);
	ev_signal_stop(d->loop, &d->usr2);
	if (d->opt.idle) {
		/* Idle mode: nothing but the heartbeat until idle_ms have passed. */
		ev_now_update(d->loop);
		ev_timer_set(&d->finish_timer, ms_to_s(d->opt.idle_ms), 0.);
		ev_timer_start(d->loop, &d->finish_timer);
		return;
	}
	schedule_next(d, 0);
}

static void on_start_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	start_scenarios(w->data);
}

static void on_usr2(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	start_scenarios(w->data);
}

/* Keeps the loop iterating constantly, like a service under light load. */
static void on_heartbeat(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

static void conn_close(struct demo *d, struct conn *c)
{
	ev_io_stop(d->loop, &c->io);
	close(c->io.fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		d->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

static void on_conn(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = (struct conn *)w;
	struct demo *d = w->data;
	int want;

	if (revents & EV_READ) {
		ssize_t n = recv(w->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		char *nl;

		if (n == 0)
			goto close;
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			goto close;
		}
		c->len += (size_t)n;
		nl = memrchr(c->buf, '\n', c->len);
		if (nl)
			c->out = (size_t)(nl - c->buf) + 1;
		else if (c->len == sizeof(c->buf))
			c->out = c->len; /* a line longer than the buffer: echo what we have */
	}
	if (c->out) {
		ssize_t n = send(w->fd, c->buf, c->out, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				goto close;
			n = 0;
		}
		memmove(c->buf, c->buf + n, c->len - (size_t)n);
		c->len -= (size_t)n;
		c->out -= (size_t)n;
	}
	/* Stop reading while echoed data is pending: the peer must read first. */
	want = c->out ? EV_WRITE : EV_READ;
	if ((w->events & (EV_READ | EV_WRITE)) != want) {
		ev_io_stop(loop, w);
		ev_io_set(w, w->fd, want);
		ev_io_start(loop, w);
	}
	return;
close:
	conn_close(d, c);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct demo *d = w->data;

	(void)revents;
	for (;;) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0)
			return; /* EAGAIN: drained; other errors: retry on the next event */
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		ev_io_init(&c->io, on_conn, fd, EV_READ);
		c->io.data = d;
		c->next = d->conns;
		if (c->next)
			c->next->prev = c;
		d->conns = c;
		ev_io_start(loop, &c->io);
	}
}

static int listen_on(unsigned int port, unsigned int *bound_port)
{
	struct sockaddr_in sa = {
	    .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(sa);
	int one = 1;
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	*bound_port = ntohs(sa.sin_port);
	return fd;
}

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: " PROG " [options]\n"
	       "  --port N          listen on 127.0.0.1:N (default 0: any free port)\n"
	       "  --scenarios LIST  comma list of sleep,cpu,offload (default: all, in that order)\n"
	       "  --repeat N        run the list N times (default 1)\n"
	       "  --sleep-ms N      usleep on the loop thread (default 300; 0 skips)\n"
	       "  --cpu-ms N        compute on the loop thread (default 200; 0 skips)\n"
	       "  --offload-ms N    usleep on a worker thread (default 300; 0 skips)\n"
	       "  --gap-ms N        idle time between scenarios (default 300)\n"
	       "  --delay-ms N      start the scenarios N ms after start (default 200)\n"
	       "  --wait-signal     start the scenarios on SIGUSR2 instead\n"
	       "  --linger-ms N     stay idle N ms after the last scenario (default 200)\n"
	       "  --idle-ms N       run no scenario, only the idle loop, for N ms\n"
	       "                    (counted from SIGUSR2 with --wait-signal)\n");
}

/* A non-negative decimal integer no larger than max. */
static int parse_ulong(const char *name, const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		goto bad;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	fprintf(stderr, PROG ": --%s: '%s' is not a number from 0 to %lu\n", name, s, max);
	return -EINVAL;
}

static int parse_scenarios(const char *s, struct options *opt)
{
	char *copy = strdup(s);
	char *save = NULL;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	opt->list_len = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int sc = -1;

		for (int i = 0; i < MAX_SCENARIOS; i++) {
			if (!strcmp(tok, scenario_names[i]))
				sc = i;
		}
		if (sc < 0 || opt->list_len == MAX_SCENARIOS) {
			fprintf(stderr,
				PROG ": --scenarios: '%s': expected a list of sleep,cpu,offload\n",
				s);
			err = -EINVAL;
			goto cleanup;
		}
		opt->list[opt->list_len++] = sc;
	}
	if (!opt->list_len) {
		fprintf(stderr, PROG ": --scenarios: empty list\n");
		err = -EINVAL;
	}
cleanup:
	free(copy);
	return err;
}

static int parse_args(int argc, char **argv, struct options *opt)
{
	enum {
		OPT_PORT = 256,
		OPT_SCENARIOS,
		OPT_REPEAT,
		OPT_SLEEP,
		OPT_CPU,
		OPT_OFFLOAD,
		OPT_GAP,
		OPT_DELAY,
		OPT_WAIT,
		OPT_LINGER,
		OPT_IDLE,
		OPT_HELP,
	};
	static const struct option longopts[] = {
	    {"port", required_argument, NULL, OPT_PORT},
	    {"scenarios", required_argument, NULL, OPT_SCENARIOS},
	    {"repeat", required_argument, NULL, OPT_REPEAT},
	    {"sleep-ms", required_argument, NULL, OPT_SLEEP},
	    {"cpu-ms", required_argument, NULL, OPT_CPU},
	    {"offload-ms", required_argument, NULL, OPT_OFFLOAD},
	    {"gap-ms", required_argument, NULL, OPT_GAP},
	    {"delay-ms", required_argument, NULL, OPT_DELAY},
	    {"wait-signal", no_argument, NULL, OPT_WAIT},
	    {"linger-ms", required_argument, NULL, OPT_LINGER},
	    {"idle-ms", required_argument, NULL, OPT_IDLE},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	unsigned long port;
	int c, err = 0;

	*opt = (struct options){
	    .sleep_ms = 300,
	    .cpu_ms = 200,
	    .offload_ms = 300,
	    .gap_ms = 300,
	    .delay_ms = 200,
	    .linger_ms = 200,
	    .repeat = 1,
	    .list = {SC_SLEEP, SC_CPU, SC_OFFLOAD},
	    .list_len = 3,
	};
	/* We print our own one-line errors. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PORT:
			err = parse_ulong("port", optarg, 65535, &port);
			opt->port = (unsigned int)port;
			break;
		case OPT_SCENARIOS:
			err = parse_scenarios(optarg, opt);
			break;
		case OPT_REPEAT:
			err = parse_ulong("repeat", optarg, MAX_REPEAT, &opt->repeat);
			break;
		case OPT_SLEEP:
			err = parse_ulong("sleep-ms", optarg, MAX_MS, &opt->sleep_ms);
			break;
		case OPT_CPU:
			err = parse_ulong("cpu-ms", optarg, MAX_MS, &opt->cpu_ms);
			break;
		case OPT_OFFLOAD:
			err = parse_ulong("offload-ms", optarg, MAX_MS, &opt->offload_ms);
			break;
		case OPT_GAP:
			err = parse_ulong("gap-ms", optarg, MAX_MS, &opt->gap_ms);
			break;
		case OPT_DELAY:
			err = parse_ulong("delay-ms", optarg, MAX_MS, &opt->delay_ms);
			break;
		case OPT_WAIT:
			opt->wait_signal = true;
			break;
		case OPT_LINGER:
			err = parse_ulong("linger-ms", optarg, MAX_MS, &opt->linger_ms);
			break;
		case OPT_IDLE:
			err = parse_ulong("idle-ms", optarg, MAX_MS, &opt->idle_ms);
			opt->idle = true;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			exit(0);
		case ':':
			fprintf(stderr, PROG ": %s: missing value\n", argv[optind - 1]);
			return -EINVAL;
		default:
			if (optopt)
				fprintf(stderr, PROG ": unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, PROG ": unknown option '%s'\n", argv[optind - 1]);
			return -EINVAL;
		}
		if (err)
			return err;
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* The scenario list repeated, without those whose duration is 0. */
static int build_plan(struct demo *d)
{
	const struct options *opt = &d->opt;
	size_t n = 0;

	d->plan = calloc(opt->repeat * MAX_SCENARIOS + 1, sizeof(*d->plan));
	if (!d->plan)
		return -ENOMEM;
	for (unsigned long r = 0; r < opt->repeat; r++) {
		for (int i = 0; i < opt->list_len; i++) {
			enum scenario sc = opt->list[i];

			if ((sc == SC_SLEEP && !opt->sleep_ms) || (sc == SC_CPU && !opt->cpu_ms) ||
			    (sc == SC_OFFLOAD && !opt->offload_ms))
				continue;
			d->plan[n++] = sc;
		}
	}
	d->plan_len = n;
	return 0;
}

int main(int argc, char **argv)
{
	struct demo d = {.listen_fd = -1};
	unsigned int port = 0;
	int err, ret = 1;

	if (parse_args(argc, argv, &d.opt))
		return 2;
	/* Tests read stdout through a pipe: every line must arrive when written. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	err = build_plan(&d);
	if (err) {
		fprintf(stderr, PROG ": %s\n", strerror(-err));
		goto cleanup;
	}
	d.loop = ev_default_loop(EVFLAG_AUTO);
	if (!d.loop) {
		fprintf(stderr, PROG ": cannot initialize libev\n");
		goto cleanup;
	}
	d.listen_fd = listen_on(d.opt.port, &port);
	if (d.listen_fd < 0) {
		fprintf(stderr, PROG ": listen on 127.0.0.1:%u: %s\n", d.opt.port,
			strerror(-d.listen_fd));
		goto cleanup;
	}

	ev_async_init(&d.backup_done, on_backup_done);
	d.backup_done.data = &d;
	ev_async_start(d.loop, &d.backup_done);
	err = pool_start(&d.pool, d.loop, &d.backup_done);
	if (err) {
		fprintf(stderr, PROG ": cannot start workers: %s\n", strerror(-err));
		goto cleanup;
	}

	ev_io_init(&d.accept_w, on_accept, d.listen_fd, EV_READ);
	d.accept_w.data = &d;
	ev_io_start(d.loop, &d.accept_w);
	ev_timer_init(&d.heartbeat, on_heartbeat, HEARTBEAT_S, HEARTBEAT_S);
	ev_timer_start(d.loop, &d.heartbeat);
	ev_init(&d.report_timer, on_report_timer);
	d.report_timer.data = &d;
	ev_init(&d.stats_timer, on_stats_timer);
	d.stats_timer.data = &d;
	ev_init(&d.backup_timer, on_backup_timer);
	d.backup_timer.data = &d;
	ev_init(&d.finish_timer, on_finish_timer);
	d.finish_timer.data = &d;

	/* SIGUSR2 starts the scenarios at once, also without --wait-signal. */
	ev_signal_init(&d.usr2, on_usr2, SIGUSR2);
	d.usr2.data = &d;
	ev_signal_start(d.loop, &d.usr2);
	ev_init(&d.start_timer, on_start_timer);
	d.start_timer.data = &d;

	say("ready pid=%d port=%u", (int)getpid(), port);
	if (d.opt.idle && !d.opt.wait_signal) {
		start_scenarios(&d);
	} else if (!d.opt.wait_signal) {
		ev_timer_set(&d.start_timer, ms_to_s(d.opt.delay_ms), 0.);
		ev_timer_start(d.loop, &d.start_timer);
	}

	ev_run(d.loop, 0);
	ret = 0;
cleanup:
	if (d.pool.nr_threads)
		pool_stop(&d.pool);
	while (d.conns)
		conn_close(&d, d.conns);
	if (d.listen_fd >= 0)
		close(d.listen_fd);
	if (d.loop)
		ev_loop_destroy(d.loop);
	free(d.plan);
	return ret;
}
