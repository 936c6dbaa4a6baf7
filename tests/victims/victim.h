/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the C victims share: their protocol with the e2e tests and, for the
 * libev ones, the way a scenario starts.
 *
 * The protocol: a victim prints `ready` when its loop is about to run,
 * `scenario NAME begin` and `scenario NAME end` around the work that stalls,
 * and `done` when it is over; each line is flushed at once, as the tests read
 * stdout while the victim runs. The scenario starts on SIGUSR2
 * (--wait-signal: the test attaches first, then signals) or after a delay.
 *
 * Header-only: each victim is one executable built from one file (some with
 * their own compile options, see tests/CMakeLists.txt). Include it after
 * <ev.h> (or lprobe_ev.h, so that its ev_*_start/stop calls go through
 * libprobe like the victim's own) to get the libev part.
 */
#ifndef LOOPSTALL_VICTIM_H
#define LOOPSTALL_VICTIM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void victim_say(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));

/* One line of the protocol, flushed: the tests wait for it. */
static void victim_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/*
 * An option: `--name N` (N milliseconds, or a count) into *value, `--name
 * WORD` into *text (the victim checks the word), or a `--name` flag.
 */
struct victim_opt {
	const char *name;
	unsigned long *value;
	bool *flag;
	const char **text;
};

/* A whole decimal number up to an hour in milliseconds; -1 and one line on stderr if not. */
static inline int victim_number(const char *prog, const char *name, const char *s,
				unsigned long *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		goto bad;
	*out = strtoul(s, &end, 10);
	if (*end || *out > 3600000UL)
		goto bad;
	return 0;
bad:
	fprintf(stderr, "%s: %s: expected a whole number from 0 to 3600000\n", prog, name);
	return -1;
}

/*
 * Parse ARGV[1..] against OPTS (ended by a {0} entry). 0, or -1 after one
 * line on stderr: an option it does not know prints USAGE, a bad or missing
 * value says which.
 */
static inline int victim_args(const char *prog, const char *usage, int argc, char **argv,
			      const struct victim_opt *opts)
{
	for (int i = 1; i < argc; i++) {
		const struct victim_opt *o = opts;

		while (o->name && strcmp(o->name, argv[i]))
			o++;
		if (!o->name) {
			fprintf(stderr, "usage: %s\n", usage);
			return -1;
		}
		if (o->flag) {
			*o->flag = true;
		} else if (o->text) {
			if (i + 1 >= argc) {
				fprintf(stderr, "%s: %s: expected a value\n", prog, o->name);
				return -1;
			}
			*o->text = argv[++i];
		} else if (victim_number(prog, o->name, i + 1 < argc ? argv[++i] : NULL,
					 o->value)) {
			return -1;
		}
	}
	return 0;
}

#ifdef EV_VERSION_MAJOR
/*
 * A libev victim's start: a 10 ms heartbeat keeps the loop iterating, and
 * SCENARIO (a timer the victim set up with ev_init) is started once, AFTER_S
 * seconds after SIGUSR2 (wait_signal) or after DELAY_MS, whichever comes first.
 */
struct victim_start {
	ev_timer heartbeat, delay;
	ev_signal usr2;
	ev_timer *scenario;
	double after_s;
	bool started;
};

#define VICTIM_HEARTBEAT_S 0.010

static volatile unsigned long victim_sink __attribute__((unused));

static inline void victim_heartbeat(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	victim_sink++;
}

static inline void victim_go(struct ev_loop *loop, struct victim_start *v)
{
	if (v->started)
		return;
	v->started = true;
	ev_timer_stop(loop, &v->delay);
	ev_signal_stop(loop, &v->usr2);
	ev_timer_set(v->scenario, v->after_s, 0.);
	ev_timer_start(loop, v->scenario);
}

static inline void victim_on_delay(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	victim_go(loop, w->data);
}

static inline void victim_on_usr2(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	victim_go(loop, w->data);
}

static inline void victim_start(struct ev_loop *loop, struct victim_start *v, ev_timer *scenario,
				double after_s, bool wait_signal, unsigned long delay_ms)
{
	v->scenario = scenario;
	v->after_s = after_s;
	v->started = false;
	ev_timer_init(&v->heartbeat, victim_heartbeat, VICTIM_HEARTBEAT_S, VICTIM_HEARTBEAT_S);
	ev_timer_start(loop, &v->heartbeat);
	ev_signal_init(&v->usr2, victim_on_usr2, SIGUSR2);
	v->usr2.data = v;
	ev_signal_start(loop, &v->usr2);
	ev_timer_init(&v->delay, victim_on_delay, (double)delay_ms / 1000.0, 0.);
	v->delay.data = v;
	if (!wait_signal)
		ev_timer_start(loop, &v->delay);
}

/* Stop the loop LINGER_MS from now (the callback that asks may have run long). */
static inline void victim_linger(struct ev_loop *loop, ev_timer *finish, unsigned long linger_ms)
{
	ev_now_update(loop);
	ev_timer_set(finish, (double)linger_ms / 1000.0, 0.);
	ev_timer_start(loop, finish);
}
#endif

#endif
