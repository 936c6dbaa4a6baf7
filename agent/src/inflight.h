/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_INFLIGHT_H
#define LOOPSTALL_INFLIGHT_H

#include <stdbool.h>
#include "stall.h"

/*
 * A stall already running when the agent attaches. People attach because a
 * service hangs: its loop thread is blocked inside a callback (a poll under
 * a socket timeout, a nested loop, a sleep, a read) and the agent has seen
 * nothing of it yet. At attach the agent reads each blocked thread's
 * registers and stack, unwinds it, and asks ls_inflight_in_callback whether
 * an event loop dispatched the code that blocks; such a thread's busy
 * period starts at once (at attach: its duration is a lower bound), so that
 * stall_begin announces it while it lasts.
 */

/*
 * Is a thread blocked with this stack (innermost frame first) inside a
 * callback of an event loop? `loop_wait`: the call it blocks in is one a
 * loop waits in (poll, epoll_wait...): then the loop's own wait is told
 * apart by its caller.
 *
 * True when, outside the frame that made the call, the stack runs a loop's
 * dispatcher: libev's ev_invoke_pending, libuv's uv__io_poll and
 * uv__run_*, GLib's g_main_dispatch, libevent's event_process_active,
 * Redis's aeProcessEvents, CPython's asyncio Task step, Context.run and
 * the Python frames Handle._run and Task.__step, V8 entering JavaScript or
 * a V8 binding called from JavaScript (JIT frames are unnamed at attach:
 * the perf map is not read then). For a call no loop waits in (a sleep, a
 * read, a lock), also a loop's run function (ev_run, uv_run, Redis's
 * aeMain...): a loop waits in its wait call only, so anything else below
 * it is busy time. For a wait, also when the function that made it is on
 * the stack twice (a loop run from inside itself). Pure, for unit tests.
 */
bool ls_inflight_in_callback(const struct ls_frame *frames, unsigned n, bool loop_wait);

#endif
