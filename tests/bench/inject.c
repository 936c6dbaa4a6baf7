// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * inject: a poll() event loop that stalls itself for known durations, so
 * overhead.py can compare what loopstall reports with what really happened.
 *
 *   inject [--count N] [--min-ms A] [--max-ms B] [--gap-ms G] [--kind sleep|spin|both]
 *
 * The loop waits in poll() for G ms (idle), prints what it measured of the
 * last stall, polls once more with timeout 0 so that the printing is a busy
 * period of its own, then blocks for the next of N durations spread evenly
 * from A to B: in clock_nanosleep (a blocking syscall) or spinning on the
 * CPU, alternating with --kind both. So each stall's busy period holds the
 * blocking call, three clock reads and nothing else. For each stall:
 *
 *   inject seq=I kind=K target_ms=D blocked_ns=X busy_ns=Y start_unix_ns=S
 *
 * blocked_ns: CLOCK_MONOTONIC around the blocking call alone;
 * busy_ns: from the return of poll() to the next call of poll(), what the
 * loop itself sees as the busy period (loopstall measures the same span in
 * the kernel, so it should read a few microseconds longer);
 * start_unix_ns: that return of poll(), as wall-clock time.
 * "done" ends the output.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum kind { KIND_SLEEP, KIND_SPIN, KIND_BOTH };

struct result {
	unsigned long seq;
	const char *kind;
	unsigned long target_ms;
	uint64_t blocked_ns;
	uint64_t busy_ns;
	int64_t start_unix_ns;
};

static uint64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void block_sleep(unsigned long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

static volatile uint64_t sink;

static void block_spin(unsigned long ms)
{
	uint64_t end = read_ns(CLOCK_MONOTONIC) + (uint64_t)ms * 1000000ull;
	uint64_t x = 1;

	do {
		for (int i = 0; i < 1000; i++)
			x = x * 6364136223846793005ull + 1442695040888963407ull;
	} while (read_ns(CLOCK_MONOTONIC) < end);
	sink = x;
}

static void print_result(const struct result *r)
{
	printf("inject seq=%lu kind=%s target_ms=%lu blocked_ns=%llu busy_ns=%llu "
	       "start_unix_ns=%lld\n",
	       r->seq, r->kind, r->target_ms, (unsigned long long)r->blocked_ns,
	       (unsigned long long)r->busy_ns, (long long)r->start_unix_ns);
	fflush(stdout);
}

static int parse_ulong(const char *name, const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || end == s || *out > max) {
		fprintf(stderr, "inject: --%s: '%s' is not a number from 0 to %lu\n", name, s, max);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"count", required_argument, NULL, 'n'},
	    {"min-ms", required_argument, NULL, 'a'},
	    {"max-ms", required_argument, NULL, 'b'},
	    {"gap-ms", required_argument, NULL, 'g'},
	    {"kind", required_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	unsigned long count = 20, min_ms = 60, max_ms = 500, gap_ms = 100, i;
	struct result prev = {0};
	enum kind kind = KIND_BOTH;
	int opt, have_prev = 0;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (parse_ulong("count", optarg, 100000, &count) || !count)
				return 2;
			break;
		case 'a':
			if (parse_ulong("min-ms", optarg, 3600000, &min_ms))
				return 2;
			break;
		case 'b':
			if (parse_ulong("max-ms", optarg, 3600000, &max_ms))
				return 2;
			break;
		case 'g':
			if (parse_ulong("gap-ms", optarg, 3600000, &gap_ms) || !gap_ms)
				return 2;
			break;
		case 'k':
			if (!strcmp(optarg, "sleep"))
				kind = KIND_SLEEP;
			else if (!strcmp(optarg, "spin"))
				kind = KIND_SPIN;
			else if (!strcmp(optarg, "both"))
				kind = KIND_BOTH;
			else {
				fprintf(stderr, "inject: --kind: sleep, spin or both\n");
				return 2;
			}
			break;
		case 'h':
			printf("usage: inject [--count N] [--min-ms A] [--max-ms B] [--gap-ms G] "
			       "[--kind sleep|spin|both]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc || max_ms < min_ms) {
		fprintf(stderr, "inject: bad arguments (see --help)\n");
		return 2;
	}

	/* One iteration more than stalls: the last one prints the last stall. */
	for (i = 0; i <= count; i++) {
		struct result cur = {.seq = i};
		uint64_t ret_ns, t0;
		int spin;

		/* the loop's wait: idle for gap_ms, so every stall stands alone */
		if (poll(NULL, 0, (int)gap_ms) < 0 && errno != EINTR) {
			perror("inject: poll");
			return 1;
		}
		if (have_prev)
			print_result(&prev);
		if (i == count)
			break;
		/* ends the busy period that printed: the stall starts clean */
		if (poll(NULL, 0, 0) < 0 && errno != EINTR) {
			perror("inject: poll");
			return 1;
		}
		ret_ns = read_ns(CLOCK_MONOTONIC);
		cur.start_unix_ns =
		    (int64_t)read_ns(CLOCK_REALTIME) - (int64_t)(read_ns(CLOCK_MONOTONIC) - ret_ns);

		cur.target_ms = count > 1 ? min_ms + (max_ms - min_ms) * i / (count - 1) : min_ms;
		spin = kind == KIND_SPIN || (kind == KIND_BOTH && i % 2);
		cur.kind = spin ? "spin" : "sleep";
		t0 = read_ns(CLOCK_MONOTONIC);
		if (spin)
			block_spin(cur.target_ms);
		else
			block_sleep(cur.target_ms);
		cur.blocked_ns = read_ns(CLOCK_MONOTONIC) - t0;
		cur.busy_ns = read_ns(CLOCK_MONOTONIC) - ret_ns;
		prev = cur;
		have_prev = 1;
	}
	printf("done\n");
	fflush(stdout);
	return 0;
}
