// SPDX-License-Identifier: BSD-2-Clause
/*
 * ls_inflight_in_callback on stacks as the symbolizer gives them (innermost
 * first), shaped after real ones: a loop's own wait must never read as a
 * callback (a false stall from attach on every idle service), and a call
 * made from a callback must (the stall already running is missed otherwise).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "inflight.h"

#define LIBC "/usr/lib/x86_64-linux-gnu/libc.so.6"
#define N(a) (sizeof(a) / sizeof((a)[0]))

#define F(sym, mod)                                                                                \
	{                                                                                          \
		.symbol = (sym), .module = (mod)                                                   \
	}
#define INL(sym, mod)                                                                              \
	{                                                                                          \
		.symbol = (sym), .module = (mod), .inlined = true                                  \
	}
#define JS(sym)                                                                                    \
	{                                                                                          \
		.symbol = (sym), .module = "/tmp/perf-1.map", .kind = LS_FRAME_JS                  \
	}

/* libev, epoll backend: the loop's own wait, backend function inlined into ev_run */
static const struct ls_frame libev_wait[] = {
    F("epoll_wait", LIBC), INL("epoll_poll", "/usr/lib/libev.so.4"),
    F("ev_run", "/usr/lib/libev.so.4"), F("main", "/srv/app"), F("__libc_start_main", LIBC)};
/* a callback's poll (the stack of tests/victims/libev_nested.c) */
static const struct ls_frame libev_nested_poll[] = {F("__poll", LIBC),
						    F("poll_unrelated_pipe", "/srv/app"),
						    F("on_work", "/srv/app"),
						    F("ev_invoke_pending", "/usr/lib/libev.so.4"),
						    F("ev_run", "/usr/lib/libev.so.4"),
						    F("main", "/srv/app")};
/* Node's main loop waiting */
static const struct ls_frame node_wait[] = {
    F("epoll_pwait", LIBC),
    F("uv__io_poll", "/usr/bin/node"),
    F("uv_run", "/usr/bin/node"),
    F("node::SpinEventLoop(node::Environment*)", "/usr/bin/node"),
    F("node::Start(int, char**)", "/usr/bin/node"),
    F("main", "/usr/bin/node")};
/* child_process.execSync: a nested libuv loop under JavaScript under the main loop's timer */
static const struct ls_frame node_exec_sync[] = {
    F("epoll_pwait", LIBC),
    F("uv__io_poll", "/usr/bin/node"),
    F("uv_run", "/usr/bin/node"),
    F("node::SyncProcessRunner::TryInitializeAndRunLoop(v8::Local<v8::Value>)", "/usr/bin/node"),
    JS("execSync node:child_process:1"),
    JS("onTimeout /srv/app.js:12"),
    F("Builtins_JSEntry", "/usr/bin/node"),
    F("uv__run_timers", "/usr/bin/node"),
    F("uv_run", "/usr/bin/node"),
    F("main", "/usr/bin/node")};
/* the same as the unwinder gives it: it stops at the V8 builtin that called the binding */
static const struct ls_frame node_exec_sync_cut[] = {
    F("epoll_pwait", LIBC), F("uv__io_poll", "/usr/bin/node"), F("uv_run", "/usr/bin/node"),
    F("node::SyncProcessRunner::TryInitializeAndRunLoop(v8::Local<v8::Value>)", "/usr/bin/node"),
    F("node::SyncProcessRunner::Spawn(v8::FunctionCallbackInfo<v8::Value> const&)",
      "/usr/bin/node")};
/* a home-made loop that runs itself again from a handler */
static const struct ls_frame recursive_loop[] = {
    F("epoll_wait", LIBC),	  F("my_loop_run", "/srv/app"), F("handler", "/srv/app"),
    F("my_dispatch", "/srv/app"), F("my_loop_run", "/srv/app"), F("main", "/srv/app")};
/* Debian's stripped python3.11: time.sleep in a coroutine, the Task step in _asyncio's .so */
static const struct ls_frame stripped_python_sleep[] = {
    F("clock_nanosleep", LIBC),
    {.addr = 0x5d64b4, .module = "/usr/bin/python3.11"},
    {.addr = 0x4f1a20, .module = "/usr/bin/python3.11"},
    {.addr = 0x7f3a1c2d5e10,
     .module = "/usr/lib/python3.11/lib-dynload/_asyncio.cpython-311-x86_64-linux-gnu.so"},
    {.addr = 0x4f1a20, .module = "/usr/bin/python3.11"},
    F("main", "/usr/bin/python3.11")};
/* CPython's selector waiting (asyncio's loop itself) */
static const struct ls_frame python_wait[] = {F("epoll_wait", LIBC),
					      F("select_epoll_poll_impl", "/usr/bin/python3.12"),
					      F("_PyEval_EvalFrameDefault", "/usr/bin/python3.12"),
					      F("PyEval_EvalCode", "/usr/bin/python3.12"),
					      F("Py_RunMain", "/usr/bin/python3.12"),
					      F("main", "/usr/bin/python3.12")};
/* Redis's loop: aeApiPoll inlined into aeProcessEvents, which also dispatches */
static const struct ls_frame redis_wait[] = {
    F("epoll_wait", LIBC), INL("aeApiPoll", "/usr/bin/redis-server"),
    F("aeProcessEvents", "/usr/bin/redis-server"), F("aeMain", "/usr/bin/redis-server"),
    F("main", "/usr/bin/redis-server")};
/* Redis's beforeSleep flushing the AOF: inside the busy period */
static const struct ls_frame redis_fsync[] = {F("fdatasync", LIBC),
					      F("flushAppendOnlyFile", "/usr/bin/redis-server"),
					      F("beforeSleep", "/usr/bin/redis-server"),
					      F("aeProcessEvents", "/usr/bin/redis-server"),
					      F("aeMain", "/usr/bin/redis-server"),
					      F("main", "/usr/bin/redis-server")};
#define PY(sym, path)                                                                              \
	{                                                                                          \
		.symbol = (sym), .file = (path), .kind = LS_FRAME_PYTHON                           \
	}
/* a sample of a call_soon callback computing, with the interpreter's frames (no C Task) */
static const struct ls_frame python_callback_cpu[] = {
    PY("crunch", "/srv/app.py"),
    F("_PyEval_EvalFrameDefault", "/usr/bin/python3.11"),
    {.addr = 0x4f1a20, .module = "/usr/bin/python3.11"},
    PY("Handle._run", "/usr/lib/python3.11/asyncio/events.py"),
    PY("BaseEventLoop._run_once", "/usr/lib/python3.11/asyncio/base_events.py"),
    F("_PyEval_EvalFrameDefault", "/usr/bin/python3.11"),
    F("main", "/usr/bin/python3.11")};
/* the same loop in its selector, between callbacks */
static const struct ls_frame python_select[] = {
    F("epoll_wait", LIBC),
    {.addr = 0x5d64b4, .module = "/usr/bin/python3.11"},
    PY("EpollSelector.select", "/usr/lib/python3.11/selectors.py"),
    PY("BaseEventLoop._run_once", "/usr/lib/python3.11/asyncio/base_events.py"),
    F("_PyEval_EvalFrameDefault", "/usr/bin/python3.11"),
    F("main", "/usr/bin/python3.11")};
/* a pure-Python Task's step (asyncio.tasks._PyTask) */
static const struct ls_frame python_pytask[] = {
    PY("crunch", "/srv/app.py"),
    PY("Task.__step_run_and_handle_result", "/usr/lib/python3.12/asyncio/tasks.py"),
    PY("Task.__step", "/usr/lib/python3.12/asyncio/tasks.py")};
/* a function named like asyncio's, in the user's own file, proves nothing */
static const struct ls_frame python_lookalike[] = {
    PY("crunch", "/srv/app.py"), PY("Handle._run", "/srv/myevents.py"), F("main", "/srv/app")};

/* DEBUG SLEEP in a stripped redis-server: the static functions between have no name */
static const struct ls_frame redis_debug_sleep[] = {
    F("clock_nanosleep", LIBC),
    F("__nanosleep", LIBC),
    F("debugCommand", "/usr/bin/redis-server"),
    F("call", "/usr/bin/redis-server"),
    F("processCommand", "/usr/bin/redis-server"),
    F("readQueryFromClient", "/usr/bin/redis-server"),
    {.addr = 0x5a0011, .module = "/usr/bin/redis-server"},
    {.addr = 0x4c0c2e, .module = "/usr/bin/redis-server"},
    F("aeMain", "/usr/bin/redis-server"),
    F("main", "/usr/bin/redis-server")};
/* the same server idle: its wait made from the unnamed aeProcessEvents, in aeMain */
static const struct ls_frame stripped_redis_wait[] = {
    F("epoll_wait", LIBC),
    {.addr = 0x4c0b10, .module = "/usr/bin/redis-server"},
    F("aeMain", "/usr/bin/redis-server"),
    F("main", "/usr/bin/redis-server")};

/* a worker thread's sleep: no loop anywhere */
static const struct ls_frame worker_sleep[] = {F("clock_nanosleep", LIBC), F("worker", "/srv/app"),
					       F("start_thread", LIBC)};

static void test_loop_waits_are_not_callbacks(void **state)
{
	(void)state;
	assert_false(ls_inflight_in_callback(libev_wait, N(libev_wait), true));
	assert_false(ls_inflight_in_callback(node_wait, N(node_wait), true));
	assert_false(ls_inflight_in_callback(python_wait, N(python_wait), true));
	/* the dispatcher that made the wait, through a function inlined into it */
	assert_false(ls_inflight_in_callback(redis_wait, N(redis_wait), true));
}

static void test_waits_inside_callbacks(void **state)
{
	(void)state;
	assert_true(ls_inflight_in_callback(libev_nested_poll, N(libev_nested_poll), true));
	/* the inner uv__io_poll made the wait; the outer loop's timer dispatch ran JS */
	assert_true(ls_inflight_in_callback(node_exec_sync, N(node_exec_sync), true));
	assert_true(ls_inflight_in_callback(node_exec_sync_cut, N(node_exec_sync_cut), true));
	/* no dispatcher known: the loop function twice on the stack */
	assert_true(ls_inflight_in_callback(recursive_loop, N(recursive_loop), true));
}

static void test_other_calls(void **state)
{
	(void)state;
	assert_true(
	    ls_inflight_in_callback(stripped_python_sleep, N(stripped_python_sleep), false));
	/* not a wait: the dispatcher that made the loop's wait counts too */
	assert_true(ls_inflight_in_callback(redis_fsync, N(redis_fsync), false));
	assert_false(ls_inflight_in_callback(worker_sleep, N(worker_sleep), false));
	/* any call but a wait made inside a loop's run function is busy time */
	assert_true(ls_inflight_in_callback(redis_debug_sleep, N(redis_debug_sleep), false));
	/* the run function below the loop's own wait proves nothing */
	assert_false(ls_inflight_in_callback(stripped_redis_wait, N(stripped_redis_wait), true));
	/* recursion proves nothing for a call no loop waits in */
	assert_false(ls_inflight_in_callback(recursive_loop + 1, N(recursive_loop) - 1, false));
}

static void test_python_frames(void **state)
{
	(void)state;
	assert_true(ls_inflight_in_callback(python_callback_cpu, N(python_callback_cpu), false));
	assert_false(ls_inflight_in_callback(python_select, N(python_select), true));
	assert_true(ls_inflight_in_callback(python_pytask, N(python_pytask), false));
	assert_false(ls_inflight_in_callback(python_lookalike, N(python_lookalike), false));
}

static void test_degenerate_stacks(void **state)
{
	static const struct ls_frame only_libc[] = {F("epoll_wait", LIBC),
						    F("__libc_start_main", LIBC)};
	static const struct ls_frame unnamed[] = {{.addr = 1}, {.addr = 2}, {.addr = 1}};

	(void)state;
	assert_false(ls_inflight_in_callback(NULL, 3, true));
	assert_false(ls_inflight_in_callback(libev_nested_poll, 0, true));
	assert_false(ls_inflight_in_callback(only_libc, N(only_libc), true));
	/* frames without names never match each other */
	assert_false(ls_inflight_in_callback(unnamed, N(unnamed), true));
	/* the dispatcher outside the truncated stack: nothing to go by */
	assert_false(ls_inflight_in_callback(libev_nested_poll, 3, true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_loop_waits_are_not_callbacks),
	    cmocka_unit_test(test_waits_inside_callbacks),
	    cmocka_unit_test(test_other_calls),
	    cmocka_unit_test(test_python_frames),
	    cmocka_unit_test(test_degenerate_stacks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
