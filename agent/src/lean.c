// SPDX-License-Identifier: BSD-2-Clause
#include "lean.h"

uint64_t ls_lean_follow_ns(uint64_t threshold_ns)
{
	uint64_t line = threshold_ns / 10;

	if (line < LS_LEAN_FOLLOW_MIN_NS)
		return LS_LEAN_FOLLOW_MIN_NS;
	return line > LS_LEAN_FOLLOW_MAX_NS ? LS_LEAN_FOLLOW_MAX_NS : line;
}

void ls_lean_busy(struct ls_lean *l, uint64_t now_ns, uint64_t busy_ns, uint64_t threshold_ns)
{
	if (busy_ns >= ls_lean_follow_ns(threshold_ns))
		l->long_ns = now_ns;
}

bool ls_lean_due(struct ls_lean *l, uint64_t now_ns, uint64_t iterations, uint64_t busy_ns,
		 uint64_t threshold_ns)
{
	uint64_t span, done;

	ls_lean_busy(l, now_ns, busy_ns, threshold_ns);
	if (!l->mark_ns || now_ns < l->mark_ns || iterations < l->mark_iterations) {
		l->mark_ns = now_ns;
		l->mark_iterations = iterations;
		return false;
	}
	span = now_ns - l->mark_ns;
	if (span < LS_LEAN_WINDOW_NS)
		return false;
	done = iterations - l->mark_iterations;
	l->mark_ns = now_ns;
	l->mark_iterations = iterations;
	if (threshold_ns < LS_LEAN_MIN_THRESHOLD_NS)
		return false;
	if (l->long_ns && now_ns - l->long_ns < LS_LEAN_HOLD_NS)
		return false;
	/* done / span >= rate per second, without overflow for any sane count */
	return done >= LS_LEAN_MIN_RATE * (span / 1000000) / 1000;
}
