// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * linestamp: follows a file another process appends to and prints each new
 * line prefixed with the CLOCK_REALTIME nanoseconds at which it was seen,
 * so overhead.py can tell when a stall_begin record reached the file.
 *
 *   linestamp FILE [STOP]
 *
 * Woken by inotify (IN_MODIFY), so a line is stamped within a wakeup of the
 * write() that put it there; the stamp is taken when the wakeup arrives,
 * before the file is read. FILE must exist (an O_TRUNC open by the writer
 * keeps the inode, so the watch stays). Prints "ready" on stderr once
 * watching, and ends after a line containing STOP, or on SIGTERM/SIGINT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES (1 << 20)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Prints the complete lines in buf[0..*len) and keeps the incomplete rest. */
static int flush_lines(char *buf, size_t *len, uint64_t stamp, const char *stop_at)
{
	size_t start = 0, i;
	int seen_stop = 0;

	for (i = 0; i < *len; i++) {
		if (buf[i] != '\n')
			continue;
		buf[i] = '\0';
		printf("%llu %s\n", (unsigned long long)stamp, buf + start);
		if (stop_at && strstr(buf + start, stop_at))
			seen_stop = 1;
		start = i + 1;
	}
	memmove(buf, buf + start, *len - start);
	*len -= start;
	fflush(stdout);
	return seen_stop;
}

int main(int argc, char **argv)
{
	char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const char *stop_at = argc > 2 ? argv[2] : NULL;
	struct sigaction sa = {.sa_handler = on_signal};
	size_t len = 0;
	int in, fd, done = 0;
	char *buf;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: linestamp FILE [STOP]\n");
		return 2;
	}
	buf = malloc(LINE_MAX_BYTES);
	if (!buf)
		return 1;
	/* no SA_RESTART: a signal must end the blocking read() */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	in = inotify_init1(IN_CLOEXEC);
	if (in < 0 || inotify_add_watch(in, argv[1], IN_MODIFY) < 0) {
		fprintf(stderr, "linestamp: watch %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "linestamp: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	fprintf(stderr, "ready\n");

	while (!stop && !done) {
		uint64_t stamp;
		ssize_t n;

		n = read(in, events, sizeof(events));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "linestamp: inotify: %s\n", strerror(errno));
			return 1;
		}
		stamp = realtime_ns();
		/* read everything there is: one wakeup may cover several writes */
		for (;;) {
			n = read(fd, buf + len, LINE_MAX_BYTES - len);
			if (n < 0) {
				fprintf(stderr, "linestamp: read %s: %s\n", argv[1],
					strerror(errno));
				return 1;
			}
			if (n == 0)
				break;
			len += (size_t)n;
			if (len == LINE_MAX_BYTES) {
				fprintf(stderr, "linestamp: a line longer than %d bytes\n",
					LINE_MAX_BYTES);
				return 1;
			}
		}
		done = flush_lines(buf, &len, stamp, stop_at);
	}
	free(buf);
	return 0;
}
