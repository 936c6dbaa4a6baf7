// SPDX-License-Identifier: BSD-2-Clause
#include <string.h>
#include "inflight.h"

/*
 * Functions that call a loop's callbacks. Some also make the loop's own
 * wait (uv__io_poll, aeProcessEvents): those count only when they are not
 * the frame the wait was made from.
 */
static const char *const dispatchers[] = {
    "ev_invoke_pending",		 /* libev */
    "uv__io_poll",			 /* libuv: I/O watchers */
    "uv__run_timers",			 /* libuv */
    "uv__run_idle",			 /* libuv */
    "uv__run_prepare",			 /* libuv */
    "uv__run_check",			 /* libuv: setImmediate */
    "uv__run_pending",			 /* libuv */
    "uv__run_closing_handles",		 /* libuv */
    "g_main_dispatch",			 /* GLib */
    "event_process_active",		 /* libevent */
    "event_process_active_single_queue", /* libevent */
    "aeProcessEvents",			 /* Redis */
    "task_step",			 /* CPython's C asyncio.Task */
    "task_step_impl",			 /* CPython's C asyncio.Task */
    "task_wakeup",			 /* CPython's C asyncio.Task */
    "context_run",			 /* CPython: Handle._run's Context.run */
    "Builtins_JSEntry",			 /* V8: native code calls JavaScript */
    "Builtins_JSEntryTrampoline",	 /* V8 */
};

/*
 * Functions a loop runs in between its waits. Below a call no loop waits in
 * (a sleep, a read, a lock), one of these means the thread is in the loop's
 * busy period: the loop waits in its wait call only. Below a wait they tell
 * nothing (the loop's own wait is made from inside them too).
 */
static const char *const run_loops[] = {
    "ev_run",	       /* libev */
    "uv_run",	       /* libuv */
    "aeMain",	       /* Redis (aeProcessEvents is static: unnamed in a stripped server) */
    "g_main_loop_run", /* GLib */
    "event_base_loop", /* libevent */
};

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

/* The C library's own frames: the syscall wrapper and what glibc calls inside it. */
static bool in_libc(const struct ls_frame *f)
{
	const char *m = base_name(f->module);

	return m && (!strncmp(m, "libc.so", 7) || !strncmp(m, "libc-", 5) ||
		     !strncmp(m, "libpthread", 10) || !strncmp(m, "ld-linux", 8));
}

/* asyncio's own Python frames that run a callback (Handle._run) or step a pure-Python Task */
static bool asyncio_runs_callback(const struct ls_frame *f)
{
	size_t n = f->file ? strlen(f->file) : 0;

	if (!f->symbol)
		return false;
	if (n >= 17 && !strcmp(f->file + n - 17, "asyncio/events.py"))
		return !strcmp(f->symbol, "Handle._run") || !strcmp(f->symbol, "_run");
	if (n >= 16 && !strcmp(f->file + n - 16, "asyncio/tasks.py"))
		return strstr(f->symbol, "__step") != NULL;
	return false;
}

static bool dispatches(const struct ls_frame *f)
{
	const char *m;
	size_t i;

	if (f->kind == LS_FRAME_PYTHON)
		return asyncio_runs_callback(f);
	/* a stripped CPython names no static function: its _asyncio module's code is a Task step */
	m = base_name(f->module);
	if (f->kind == LS_FRAME_NATIVE && m && !strncmp(m, "_asyncio.", 9))
		return true;
	if (!f->symbol)
		return false;
	/*
	 * A V8 binding: C++ called from JavaScript (fs.readFileSync, execSync),
	 * so JavaScript is running. Found even where the unwinder stops at the
	 * builtin that called it (V8's embedded code has no CFI).
	 */
	if (strstr(f->symbol, "(v8::FunctionCallbackInfo<v8::Value> const&)"))
		return true;
	for (i = 0; i < sizeof(dispatchers) / sizeof(dispatchers[0]); i++)
		if (!strcmp(f->symbol, dispatchers[i]))
			return true;
	return false;
}

static bool runs_loop(const struct ls_frame *f)
{
	size_t i;

	if (f->kind != LS_FRAME_NATIVE || !f->symbol)
		return false;
	for (i = 0; i < sizeof(run_loops) / sizeof(run_loops[0]); i++)
		if (!strcmp(f->symbol, run_loops[i]))
			return true;
	return false;
}

static bool same_function(const struct ls_frame *a, const struct ls_frame *b)
{
	return a->symbol && b->symbol && !strcmp(a->symbol, b->symbol) &&
	       (a->module == b->module ||
		(a->module && b->module && !strcmp(a->module, b->module)));
}

bool ls_inflight_in_callback(const struct ls_frame *frames, unsigned n, bool loop_wait)
{
	unsigned i = 0, caller, caller_end, j;

	if (!frames || !n)
		return false;
	while (i < n && in_libc(&frames[i]))
		i++;
	if (i == n)
		return false;
	/*
	 * The frame that made the call: the first outside libc, with the
	 * functions inlined into it (the symbolizer lists them first).
	 */
	caller = i;
	while (i < n && frames[i].inlined)
		i++;
	caller_end = i < n ? i + 1 : n;
	for (j = loop_wait ? caller_end : caller; j < n; j++)
		if (dispatches(&frames[j]) || (!loop_wait && runs_loop(&frames[j])))
			return true;
	if (!loop_wait)
		return false;
	/* a loop run from one of its own callbacks waits from the same function twice */
	for (i = caller; i < caller_end; i++)
		for (j = caller_end; j < n; j++)
			if (same_function(&frames[i], &frames[j]))
				return true;
	return false;
}
