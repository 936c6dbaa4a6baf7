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

#include "victim.h"

#define PROG "libev_nofp"

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

static struct victim_start start;
static ev_timer tick_timer, finish_timer;

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
	victim_say("done");
	ev_break(loop, EVBREAK_ALL);
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	victim_say("scenario sleep begin");
	if (handle_request(opt_ms))
		perror(PROG ": usleep");
	victim_say("scenario sleep end");
	victim_linger(loop, &finish_timer, opt_linger_ms);
}

int main(int argc, char **argv)
{
	const struct victim_opt opts[] = {
	    {"--ms", .value = &opt_ms},
	    {"--wait-signal", .flag = &opt_wait_signal},
	    {"--delay-ms", .value = &opt_delay_ms},
	    {"--linger-ms", .value = &opt_linger_ms},
	    {0},
	};
	struct ev_loop *loop;

	if (victim_args(PROG, PROG " [--ms N] [--wait-signal] [--delay-ms N] [--linger-ms N]", argc,
			argv, opts))
		return 2;
	loop = ev_default_loop(EVFLAG_AUTO);
	if (!loop) {
		fprintf(stderr, PROG ": cannot initialize libev\n");
		return 1;
	}
	ev_init(&tick_timer, on_tick);
	ev_init(&finish_timer, on_finish);
	victim_start(loop, &start, &tick_timer, 0., opt_wait_signal, opt_delay_ms);
	victim_say("ready");
	ev_run(loop, 0);
	ev_loop_destroy(loop);
	return 0;
}
