/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_LEAN_H
#define LOOPSTALL_LEAN_H

#include <stdbool.h>
#include <stdint.h>

/*
 * When a loop thread runs lean (thread_events.h): its context-switch event
 * costs ~400 ns per wake-up, which matters only to a loop that wakes often
 * and does little each time, and is worth nothing while no busy period runs
 * long. A loop thread goes lean once it has iterated at least
 * LS_LEAN_MIN_RATE times a second over a whole LS_LEAN_WINDOW_NS with no
 * busy period reaching the follow line (ls_lean_follow_ns) for
 * LS_LEAN_HOLD_NS; a lean thread whose period reaches the line is followed
 * again at once. Pure logic: the agent feeds it what `live` says.
 */
#define LS_LEAN_MIN_RATE 2000ull	     /* iterations per second */
#define LS_LEAN_WINDOW_NS 1000000000ull	     /* measured over this long */
#define LS_LEAN_HOLD_NS 2000000000ull	     /* after a long period, followed this long */
#define LS_LEAN_MIN_THRESHOLD_NS 20000000ull /* below this threshold, always followed */
#define LS_LEAN_FOLLOW_MIN_NS 1000000ull
#define LS_LEAN_FOLLOW_MAX_NS 5000000ull

struct ls_lean {
	uint64_t mark_ns; /* start of the window being measured, 0: none yet */
	uint64_t mark_iterations;
	uint64_t long_ns; /* when a busy period last reached the follow line, 0: never */
};

/*
 * How long a busy period of a lean thread runs before the agent follows the
 * thread again: a tenth of the threshold, within 1..5 ms. Blocks before
 * that are in the stall's totals but not in its per-call list; the scan
 * for stalls in progress wakes this often while a lean loop runs.
 */
uint64_t ls_lean_follow_ns(uint64_t threshold_ns);
/*
 * A busy period of the thread has run `busy_ns` so far (0: waiting):
 * remembered when it reaches the follow line.
 */
void ls_lean_busy(struct ls_lean *l, uint64_t now_ns, uint64_t busy_ns, uint64_t threshold_ns);
/*
 * Once a window has passed since the mark (the first call sets it): should
 * the thread, followed now, go lean? `iterations`: its count in `live`.
 * Whether it is lean now is BPF's `live[slot].lean`, which only the agent
 * writes: the caller asks this of followed threads only.
 */
bool ls_lean_due(struct ls_lean *l, uint64_t now_ns, uint64_t iterations, uint64_t busy_ns,
		 uint64_t threshold_ns);

#endif
