// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A libev loop built -O2 -fomit-frame-pointer (see tests/CMakeLists.txt)
 * whose timer callback blocks in usleep() three calls down:
 *
 *   on_tick -> handle_request -> lookup_user -> read_profile -> usleep
 *
 * Without frame pointers only DWARF CFI can walk from usleep back to
 * on_tick: test_stack_libev_nofp.py checks that the stall's clock_nanosleep
 * stack names the four functions in order, each with the file:line of its
 * call. Keep each call expression on one line: the test finds the lines by
 * searching this file for them.
 *
 * A 10 ms heartbeat keeps the loop iterating. Prints `ready`, runs the
 * scenario on SIGUSR2 (--wait-signal) or after --delay-ms, prints `done`
 * and exits --linger-ms after it.
 *
 * usage: libev_nofp [--ms N] [--wait-signal] [--delay-ms N] [--linger-ms N]
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#define PROG "libev_nofp"
#define HEARTBEAT_S 0.010

/*
 * noclone as well as noinline: a GCC clone would be named
 * read_profile.constprop.0 and the stack would not name the function.
 * The work after each call keeps it from being a tail call, which would
 * drop the caller's frame.
 */
#define OUT_OF_LINE __attribute__((noinline, noclone))

static volatile unsigned long sink;
static unsigned long opt_ms = 200, opt_delay_ms = 200, opt_linger_ms = 300;
static bool opt_wait_signal;
static bool started;

static ev_timer heartbeat, start_timer, tick_timer, finish_timer;
static ev_signal usr2;

static void say(const char *line)
{
	fputs(line, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

OUT_OF_LINE static int read_profile(unsigned long ms)
{
	int err = usleep((useconds_t)(ms * 1000));

	sink += (unsigned long)err + 1;
	return err;
}

OUT_OF_LINE static int lookup_user(unsigned long ms)
{
	int err = read_profile(ms);

	sink += (unsigned long)err + 2;
	return err;
}

OUT_OF_LINE static int handle_request(unsigned long ms)
{
	int err = lookup_user(ms);

	sink += (unsigned long)err + 3;
	return err;
}

static void on_finish(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	say("done");
	ev_break(loop, EVBREAK_ALL);
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	say("scenario sleep begin");
	if (handle_request(opt_ms))
		perror(PROG ": usleep");
	say("scenario sleep end");
	/* the callback ran long: count the linger from now, not from the stale ev_now */
	ev_now_update(loop);
	ev_timer_set(&finish_timer, (double)opt_linger_ms / 1000.0, 0.);
	ev_timer_start(loop, &finish_timer);
}

static void start_scenario(struct ev_loop *loop)
{
	if (started)
		return;
	started = true;
	ev_timer_stop(loop, &start_timer);
	ev_signal_stop(loop, &usr2);
	ev_timer_set(&tick_timer, 0., 0.);
	ev_timer_start(loop, &tick_timer);
}

static void on_start(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	start_scenario(loop);
}

static void on_usr2(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	start_scenario(loop);
}

static void on_heartbeat(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

static int parse_ms(const char *name, const char *s, unsigned long *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		goto bad;
	*out = strtoul(s, &end, 10);
	if (*end || *out > 3600000UL)
		goto bad;
	return 0;
bad:
	fprintf(stderr, PROG ": %s: expected a number of milliseconds\n", name);
	return -1;
}

int main(int argc, char **argv)
{
	struct ev_loop *loop;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int err = 0;

		if (!strcmp(a, "--wait-signal"))
			opt_wait_signal = true;
		else if (!strcmp(a, "--ms"))
			err = parse_ms(a, i + 1 < argc ? argv[++i] : NULL, &opt_ms);
		else if (!strcmp(a, "--delay-ms"))
			err = parse_ms(a, i + 1 < argc ? argv[++i] : NULL, &opt_delay_ms);
		else if (!strcmp(a, "--linger-ms"))
			err = parse_ms(a, i + 1 < argc ? argv[++i] : NULL, &opt_linger_ms);
		else {
			fprintf(stderr, PROG ": unknown option '%s'\n", a);
			return 2;
		}
		if (err)
			return 2;
	}

	loop = ev_default_loop(EVFLAG_AUTO);
	if (!loop) {
		fprintf(stderr, PROG ": cannot initialize libev\n");
		return 1;
	}
	ev_timer_init(&heartbeat, on_heartbeat, HEARTBEAT_S, HEARTBEAT_S);
	ev_timer_start(loop, &heartbeat);
	ev_init(&tick_timer, on_tick);
	ev_init(&finish_timer, on_finish);
	ev_init(&start_timer, on_start);
	ev_signal_init(&usr2, on_usr2, SIGUSR2);
	ev_signal_start(loop, &usr2);
	if (!opt_wait_signal) {
		ev_timer_set(&start_timer, (double)opt_delay_ms / 1000.0, 0.);
		ev_timer_start(loop, &start_timer);
	}
	say("ready");
	ev_run(loop, 0);
	ev_loop_destroy(loop);
	return 0;
}
