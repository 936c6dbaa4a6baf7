// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A loop that waits for events in one of the calls a loop may use, with no
 * event library: the wait calls loopstall claims to know beyond epoll_wait
 * and poll, each exercised as the loop's own wait.
 *
 *   io_uring       io_uring_enter(GETEVENTS | EXT_ARG) with a timeout, on a
 *                  ring with nothing submitted (raw syscalls: liburing need
 *                  not be installed)
 *   select         the select syscall on a pipe's read end (raw: glibc's
 *                  select() calls pselect6)
 *   ppoll          ppoll() on a pipe's read end
 *   epoll_pwait2   epoll_pwait2() on an epoll fd holding the pipe
 *
 * Each wait times out after 10 ms: an idle loop, ~100 iterations a second.
 * It prints `ready`; on SIGUSR2 it runs the scenario between `scenario NAME
 * begin` and `scenario NAME end`, idles --linger-ms and prints `done`:
 *
 *   sleep     a 300 ms (--ms) nanosleep on the loop thread: one stall
 *   select0   a 300 ms select() with no fds, the portable sleep: a blocking
 *             call inside the busy period, not the loop's wait (one stall)
 *   recv      a blocking recv() on a TCP socket to 127.0.0.1 whose peer (a
 *             child process) sends one byte --ms later: one stall in recvfrom,
 *             its target that socket (printed first: `socket LPORT PPORT`);
 *             the socket stays open
 *   idle      nothing: 1 s more of idle loop, no stall
 *
 * --depth N makes the sleep happen N calls of deep_frame() down, each frame
 * holding 1 KiB of stack: a stack deeper than a small --stack-bytes copy.
 *
 * usage: wait_loop io_uring|select|ppoll|epoll_pwait2 sleep|select0|recv|idle
 *        [--ms N] [--linger-ms N] [--depth N]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "victim.h"

#define PROG "wait_loop"
#define TICK_MS 10

enum mode { M_IO_URING, M_SELECT, M_PPOLL, M_EPOLL_PWAIT2 };

static volatile sig_atomic_t go;
static enum mode mode;
static int pipe_fd[2] = {-1, -1};
static int wait_fd = -1;

static void on_usr2(int sig)
{
	(void)sig;
	go = 1;
}

static struct timespec ms_ts(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	return ts;
}

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One wait of the loop, TICK_MS at most; an error other than EINTR or a timeout ends the program.
 */
static void loop_wait(void)
{
	struct timespec ts = ms_ts(TICK_MS);
	struct io_uring_getevents_arg arg = {.ts = (unsigned long)&ts};
	struct epoll_event ev;
	struct pollfd pfd = {.fd = pipe_fd[0], .events = POLLIN};
	struct timeval tv = {.tv_sec = 0, .tv_usec = TICK_MS * 1000};
	fd_set rd;
	long rc;

	switch (mode) {
	case M_IO_URING:
		rc = syscall(__NR_io_uring_enter, wait_fd, 0, 1,
			     IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof(arg));
		if (rc < 0 && errno == ETIME)
			rc = 0;
		break;
	case M_SELECT:
		FD_ZERO(&rd);
		FD_SET(pipe_fd[0], &rd);
		rc = syscall(__NR_select, pipe_fd[0] + 1, &rd, NULL, NULL, &tv);
		break;
	case M_PPOLL:
		rc = ppoll(&pfd, 1, &ts, NULL);
		break;
	default:
		rc = syscall(__NR_epoll_pwait2, wait_fd, &ev, 1, &ts, NULL, 0);
		break;
	}
	if (rc < 0 && errno != EINTR) {
		fprintf(stderr, PROG ": wait: %s\n", strerror(errno));
		exit(1);
	}
}

static void idle(double ms)
{
	double end = mono_ms() + ms;

	while (mono_ms() < end)
		loop_wait();
}

static void stall_sleep(long ms)
{
	struct timespec ts = ms_ts(ms);

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* noinline and the pad used after the call: one real 1 KiB frame per level */
static __attribute__((noinline)) void deep_frame(int n, long ms)
{
	volatile char pad[1024];

	pad[0] = (char)n;
	if (n > 0)
		deep_frame(n - 1, ms);
	else
		stall_sleep(ms);
	pad[sizeof(pad) - 1] = pad[0];
}

static void stall_select0(long ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	/* the same call as the loop's own wait in select mode */
	while (syscall(__NR_select, 0, NULL, NULL, NULL, &tv) && errno == EINTR)
		;
}

static int tcp_port(int fd, bool peer)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	if (peer ? getpeername(fd, (struct sockaddr *)&sa, &len)
		 : getsockname(fd, (struct sockaddr *)&sa, &len))
		return -1;
	return ntohs(sa.sin_port);
}

/* A connected pair over 127.0.0.1; the child sends one byte after ms. */
static int stall_recv(long ms)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int lfd, cfd, afd;
	pid_t child;
	char c;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || cfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len) ||
	    connect(cfd, (struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	afd = accept(lfd, NULL, NULL);
	if (afd < 0)
		return -errno;
	printf("socket %d %d\n", tcp_port(cfd, false), tcp_port(cfd, true));
	child = fork();
	if (child < 0)
		return -errno;
	if (child == 0) {
		stall_sleep(ms);
		_exit(write(afd, "x", 1) == 1 ? 0 : 1);
	}
	close(afd);
	close(lfd);
	while (recv(cfd, &c, 1, 0) < 0 && errno == EINTR)
		;
	waitpid(child, NULL, 0);
	return 0;
}

static int setup(void)
{
	struct io_uring_params p;
	struct epoll_event ev = {.events = EPOLLIN};

	if (pipe(pipe_fd))
		return -errno;
	if (mode == M_IO_URING) {
		memset(&p, 0, sizeof(p));
		wait_fd = (int)syscall(__NR_io_uring_setup, 4, &p);
		if (wait_fd < 0)
			return -errno;
		if (!(p.features & IORING_FEAT_EXT_ARG))
			return -ENOSYS;
	} else if (mode == M_EPOLL_PWAIT2) {
		wait_fd = epoll_create1(EPOLL_CLOEXEC);
		if (wait_fd < 0 || epoll_ctl(wait_fd, EPOLL_CTL_ADD, pipe_fd[0], &ev))
			return -errno;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const modes[] = {"io_uring", "select", "ppoll", "epoll_pwait2"};
	struct sigaction sa = {.sa_handler = on_usr2};
	unsigned long ms = 300, linger_ms = 300, depth = 0;
	const struct victim_opt opts[] = {
	    {"--ms", .value = &ms},
	    {"--linger-ms", .value = &linger_ms},
	    {"--depth", .value = &depth},
	    {0},
	};
	const char *scen;
	int i, err;

	if (argc < 3) {
		fprintf(stderr, "usage: " PROG " io_uring|select|ppoll|epoll_pwait2"
				" sleep|select0|recv|idle [--ms N] [--linger-ms N] [--depth N]\n");
		return 2;
	}
	for (i = 0; i < 4 && strcmp(argv[1], modes[i]); i++)
		;
	if (i == 4) {
		fprintf(stderr, PROG ": unknown wait call %s\n", argv[1]);
		return 2;
	}
	mode = (enum mode)i;
	scen = argv[2];
	if (strcmp(scen, "sleep") && strcmp(scen, "select0") && strcmp(scen, "recv") &&
	    strcmp(scen, "idle")) {
		fprintf(stderr, PROG ": unknown scenario %s\n", scen);
		return 2;
	}
	/* the options follow the two words: argv + 2 is their argv[0] */
	if (victim_args(PROG,
			PROG " io_uring|select|ppoll|epoll_pwait2 sleep|select0|recv|idle"
			     " [--ms N] [--linger-ms N] [--depth N]",
			argc - 2, argv + 2, opts))
		return 2;
	err = setup();
	if (err) {
		fprintf(stderr, PROG ": cannot wait in %s here: %s\n", argv[1], strerror(-err));
		return 3;
	}
	/* no SA_RESTART: the signal interrupts the wait, the loop sees go */
	sigaction(SIGUSR2, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", getpid());
	/*
	 * Every wait from idle(): a loop waits from one place, and loopstall
	 * learns that place as the loop's own wait (a select or ppoll loop has
	 * no epoll fd to be known by): a wait from elsewhere is a blocking call.
	 */
	while (!go)
		idle(TICK_MS);
	printf("scenario %s begin\n", scen);
	if (!strcmp(scen, "sleep") && depth > 0)
		deep_frame((int)(depth > 64 ? 64 : depth) - 1, ms);
	else if (!strcmp(scen, "sleep"))
		stall_sleep(ms);
	else if (!strcmp(scen, "select0"))
		stall_select0(ms);
	else if (!strcmp(scen, "recv")) {
		err = stall_recv(ms);
		if (err) {
			fprintf(stderr, PROG ": recv scenario: %s\n", strerror(-err));
			return 1;
		}
	} else
		idle(1000);
	printf("scenario %s end\n", scen);
	idle((double)linger_ms);
	printf("done\n");
	return 0;
}
