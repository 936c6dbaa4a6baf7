// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * loopstall_probe._probe: see pyprobe.h. install() puts a C method in place
 * of asyncio.events.Handle._run (every callback of every asyncio loop passes
 * through it, TimerHandle included): it runs the callback itself, as
 * asyncio's _run does, between two timestamps, and names it (a Task step:
 * the task, its coroutine, the awaits it ran between). The loop is
 * attached at its first callback (loop.c). No Python code runs on the way.
 *
 * Why not sys.setprofile / PyEval_SetProfile: a profile function is called
 * for every Python call and return in the thread, not only the loop's
 * callbacks; a callback that makes a hundred calls would pay for two
 * hundred (tests/bench/pyprobe_bench.py measures both).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "config.h"
#include "jsonl.h"
#include "pyprobe.h"
#include "region.h"
#include "runtime.h"
#include "symtab.h"

struct pyp_global pyp_g = {.out_fd = -1};
static PyObject *s_coro, *s_self, *s_run;

struct lpi_region *pyp_region(void)
{
	return &pyp_g.region;
}

static inline PyObject *slot_at(PyObject *h, Py_ssize_t off)
{
	return *(PyObject **)((char *)h + off);
}

static bool is_task(PyObject *o)
{
	return (pyp_g.task_types[0] &&
		PyObject_TypeCheck(o, (PyTypeObject *)pyp_g.task_types[0])) ||
	       (pyp_g.task_types[1] && PyObject_TypeCheck(o, (PyTypeObject *)pyp_g.task_types[1]));
}

static bool step_name(const char *name)
{
	return strstr(name, "step") || strstr(name, "wakeup");
}

/* The Task a callback steps, or NULL (borrowed when *held is NULL, else *held owns it). */
static PyObject *task_of(PyObject *cb, PyObject **held)
{
	PyObject *self = NULL;

	*held = NULL;
	if (PyCFunction_Check(cb)) {
		/* C Task: its wakeup is a builtin bound to the task */
		self = PyCFunction_GET_SELF(cb);
		if (!self || !step_name(((PyCFunctionObject *)cb)->m_ml->ml_name))
			return NULL;
	} else if (Py_TYPE(cb) == pyp_g.step_type ||
		   (!pyp_g.step_type && strstr(Py_TYPE(cb)->tp_name, "TaskStepMethWrapper"))) {
		/* C Task: a step is a TaskStepMethWrapper, whose __self__ is the task */
		pyp_g.step_type = Py_TYPE(cb);
		self = *held = PyObject_GetAttr(cb, s_self);
		if (!self) {
			PyErr_Clear();
			return NULL;
		}
	} else if (PyMethod_Check(cb)) {
		/* the pure-Python Task: bound __step / __wakeup */
		PyObject *fn = PyMethod_GET_FUNCTION(cb);

		self = PyMethod_GET_SELF(cb);
		if (!PyFunction_Check(fn) ||
		    !step_name(PyUnicode_AsUTF8(((PyFunctionObject *)fn)->func_name))) {
			PyErr_Clear();
			return NULL;
		}
	}
	if (self && is_task(self))
		return self;
	Py_CLEAR(*held);
	return NULL;
}

static struct pyp_task_slot *task_slot(struct pyp_loop *l, PyObject *task)
{
	return &l->tasks[((uintptr_t)task >> 4) & (PYP_TASK_CACHE - 1)];
}

/*
 * The body of Handle._run: self._context.run(self._callback, *self._args),
 * and on an exception what asyncio does (_failed.py). Calling the original
 * instead costs one more entry into the interpreter per callback.
 */
static PyObject *call_handle(PyObject *h)
{
	PyObject *ctx, *cb, *args, *res, *stack[10], *exc, *et, *tb;
	Py_ssize_t n, k;

	if (!pyp_g.run_failed)
		return PyObject_CallOneArg(pyp_g.orig_run, h);
	ctx = slot_at(h, pyp_g.off_context);
	cb = slot_at(h, pyp_g.off_callback);
	args = slot_at(h, pyp_g.off_args);
	if (!ctx || !cb || !args || !PyTuple_CheckExact(args) || PyTuple_GET_SIZE(args) > 8)
		return PyObject_CallOneArg(pyp_g.orig_run, h);
	n = PyTuple_GET_SIZE(args);
	stack[0] = ctx;
	stack[1] = cb;
	for (k = 0; k < n; k++)
		stack[2 + k] = PyTuple_GET_ITEM(args, k);
	Py_INCREF(args);
	res = PyObject_VectorcallMethod(s_run, stack, (size_t)(2 + n), NULL);
	Py_DECREF(args);
	if (res) {
		Py_DECREF(res);
		Py_RETURN_NONE;
	}
	if (PyErr_ExceptionMatches(PyExc_SystemExit) ||
	    PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
		return NULL;
	PyErr_Fetch(&et, &exc, &tb);
	PyErr_NormalizeException(&et, &exc, &tb);
	if (tb && exc)
		PyException_SetTraceback(exc, tb);
	if (exc) {
		PyObject *st, *sv, *stb;

		/* as inside asyncio's except block: sys.exc_info() is the exception */
		PyErr_GetExcInfo(&st, &sv, &stb);
		Py_XINCREF(et);
		Py_INCREF(exc);
		Py_XINCREF(tb);
		PyErr_SetExcInfo(et, exc, tb);
		res = PyObject_CallFunctionObjArgs(pyp_g.run_failed, h, exc, pyp_g.debug_kw, NULL);
		PyErr_SetExcInfo(st, sv, stb);
	} else {
		res = NULL;
	}
	Py_XDECREF(et);
	Py_XDECREF(exc);
	Py_XDECREF(tb);
	if (!res)
		return NULL;
	Py_DECREF(res);
	Py_RETURN_NONE;
}

/* asyncio.events.Handle._run, in C: the callback between two timestamps. */
static PyObject *run(PyObject *h, PyObject *unused)
{
	PyObject *cb, *loop, *task, *held = NULL, *coro = NULL, *res, *probe;
	struct pyp_loop *l;
	uint64_t key = 0, tname = 0, i, start, now, dur;
	uint32_t resumed = 0, suspended = 0, code = 0, watcher = LPS_W_ASYNCIO_CALLBACK;

	(void)unused;
	if (pyp_g.forked || !pyp_g.installed)
		return PyObject_CallOneArg(pyp_g.orig_run, h);
	cb = slot_at(h, pyp_g.off_callback);
	loop = slot_at(h, pyp_g.off_loop);
	/* the heartbeat is libprobe's own: not a callback of the program */
	if (!cb || !loop ||
	    (PyCFunction_Check(cb) && PyCFunction_GET_SELF(cb) &&
	     Py_TYPE(PyCFunction_GET_SELF(cb)) == &pyp_LoopProbe_Type))
		return call_handle(h);
	l = pyp_loop_find(loop);
	if (!l)
		return call_handle(h);
	/* the callback may uninstall the probe or drop the loop: l lives until we are done */
	probe = (PyObject *)((char *)l - offsetof(LoopProbe, l));
	Py_INCREF(probe);
	Py_INCREF(cb);
	task = task_of(cb, &held);
	if (task) {
		struct pyp_task_slot *ts = task_slot(l, task);

		coro = PyObject_GetAttr(task, s_coro);
		if (!coro || coro == Py_None) {
			PyErr_Clear();
			Py_CLEAR(coro);
			task = NULL;
		}
		if (task) {
			/* a suspended coroutine has not moved: it resumes where its last step left
			 * it */
			bool known = ts->task == task && ts->coro == coro && ts->loc;

			watcher = LPS_W_ASYNCIO_TASK;
			code = known ? ts->code : pyp_coro_id(coro);
			key = LPS_PY_KEY(LPS_PY_CODE, code);
			tname = pyp_task_name(task);
			resumed = known ? ts->loc : pyp_await_loc(coro);
		}
	}
	if (!task) {
		watcher = LPS_W_ASYNCIO_CALLBACK;
		key = LPS_PY_KEY(LPS_PY_CODE, pyp_callable_id(cb));
	}
	start = lpi_now();
	i = pyp_event_begin(l, key, watcher, tname, resumed, start);
	l->depth++;
	res = call_handle(h);
	if (task) {
		struct pyp_task_slot *ts = task_slot(l, task);
		PyObject *et, *ev, *tb;

		PyErr_Fetch(&et, &ev, &tb);
		suspended = pyp_await_loc(coro);
		PyErr_Restore(et, ev, tb);
		/* a finished task forgets its place: its address may be another task's next */
		ts->task = suspended ? task : NULL;
		ts->coro = coro;
		ts->loc = suspended;
		ts->code = code;
		/* counted here, published with the iteration: the slot's page is not touched per
		 * step */
		l->awaits += suspended != 0;
	}
	now = lpi_now();
	l->depth--;
	/* uninstalled meanwhile: the slot may be another loop's now */
	if (!l->gone)
		pyp_event_end(l, i, now, (uint64_t)resumed | (uint64_t)suspended << 32);
	dur = now > start ? now - start : 0;
	l->n_callbacks++;
	l->cb_ns += dur;
	Py_XDECREF(coro);
	Py_XDECREF(held);
	Py_DECREF(cb);
	Py_DECREF(probe);
	return res;
}

static PyMethodDef run_def = {"_run", run, METH_NOARGS,
			      "asyncio.events.Handle._run, timed by loopstall_probe"};

static Py_ssize_t member_offset(PyObject *type, const char *name)
{
	PyObject *d = PyObject_GetAttrString(type, name);
	Py_ssize_t off = -1;

	if (d && Py_IS_TYPE(d, &PyMemberDescr_Type)) {
		PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;

		if (m->type == T_OBJECT_EX || m->type == T_OBJECT)
			off = m->offset;
	}
	Py_XDECREF(d);
	PyErr_Clear();
	return off;
}

/* The names asyncio's Handle._run uses (3.10-3.12; 3.13 adds get_debug). */
static const char *const run_names[] = {"BaseException",
					"KeyboardInterrupt",
					"SystemExit",
					"_args",
					"_callback",
					"_context",
					"_format_callback_source",
					"_loop",
					"_source_traceback",
					"call_exception_handler",
					"format_helpers",
					"run"};

/* Whether the original _run is the one _failed.py copies (else it is called as it is). */
static bool fast_run_ok(bool *debug_kw)
{
	PyObject *code = PyObject_GetAttrString(pyp_g.orig_run, "__code__");
	PyObject *names = code ? PyObject_GetAttrString(code, "co_names") : NULL;
	size_t want = sizeof(run_names) / sizeof(run_names[0]), k;
	Py_ssize_t i, n, have = 0;
	bool ok = names && PyTuple_Check(names);

	*debug_kw = false;
	n = ok ? PyTuple_GET_SIZE(names) : 0;
	for (i = 0; ok && i < n; i++) {
		const char *name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(names, i));

		if (!name) {
			ok = false;
			break;
		}
		if (!strcmp(name, "get_debug")) {
			*debug_kw = true;
			continue;
		}
		for (k = 0; k < want && strcmp(name, run_names[k]); k++)
			;
		ok = k < want;
		have++;
	}
	Py_XDECREF(names);
	Py_XDECREF(code);
	PyErr_Clear();
	return ok && have == (Py_ssize_t)want && pyp_g.off_args >= 0 && pyp_g.off_context >= 0;
}

static void fast_run_setup(void)
{
	PyObject *mod;
	bool debug_kw;

	Py_CLEAR(pyp_g.run_failed);
	if (!fast_run_ok(&debug_kw))
		return;
	mod = PyImport_ImportModule("loopstall_probe._failed");
	if (mod) {
		pyp_g.run_failed = PyObject_GetAttrString(mod, "run_failed");
		Py_DECREF(mod);
	}
	PyErr_Clear();
	pyp_g.debug_kw = debug_kw ? Py_True : Py_False;
}

static const char *const env_names[] = {"LPROBE_HEARTBEAT_MS", "LPROBE_THRESHOLD_MS", "LPROBE_RING",
					"LPROBE_MAX_LOOPS", "LPROBE_OUTPUT"};

/* The environment, checked: false (after one line on stderr) when a value is bad. */
static bool read_config(void)
{
	unsigned bad, b;
	char line[512];
	size_t n = 0;

	lpi_config_defaults(&pyp_g.cfg);
	bad = lpi_config_from_env(&pyp_g.cfg, getenv);
	if (!bad)
		return true;
	n = (size_t)snprintf(line, sizeof(line), "loopstall_probe: bad");
	for (b = 0; b < sizeof(env_names) / sizeof(env_names[0]); b++) {
		const char *v = getenv(env_names[b]);

		if (bad & (1u << b) && n < sizeof(line))
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=%.40s%s",
					      env_names[b], v ? v : "",
					      v && strlen(v) > 40 ? "..." : "");
	}
	fprintf(stderr, "%s; the program runs without the probe\n", line);
	return false;
}

static int open_output(void)
{
	char path[PATH_MAX];

	if (!pyp_g.cfg.output[0] || pyp_g.out_fd >= 0)
		return 0;
	if (lpi_expand_path(pyp_g.cfg.output, (int)getpid(), path, sizeof(path))) {
		fprintf(stderr,
			"loopstall_probe: LPROBE_OUTPUT=%s: name too long; the program runs "
			"without the probe\n",
			pyp_g.cfg.output);
		return -1;
	}
	pyp_g.out_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (pyp_g.out_fd < 0) {
		fprintf(stderr,
			"loopstall_probe: LPROBE_OUTPUT=%s: %s; the program runs without the "
			"probe\n",
			path, strerror(errno));
		return -1;
	}
	return 0;
}

static void read_comm(void)
{
	int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, pyp_g.comm, sizeof(pyp_g.comm) - 1) : 0;

	if (fd >= 0)
		close(fd);
	pyp_g.comm[n > 0 ? n : 0] = '\0';
	if (n > 0 && pyp_g.comm[n - 1] == '\n')
		pyp_g.comm[n - 1] = '\0';
}

static void atfork_child(void)
{
	/* the region is the parent's: a child writes nothing to it */
	pyp_g.forked = true;
	pyp_g.reporter_running = false;
}

static int task_types(void)
{
	PyObject *tasks = PyImport_ImportModule("asyncio.tasks");
	const char *names[2] = {"_CTask", "_PyTask"};
	int i;

	if (!tasks)
		return -1;
	for (i = 0; i < 2; i++) {
		Py_XSETREF(pyp_g.task_types[i], PyObject_GetAttrString(tasks, names[i]));
		if (!pyp_g.task_types[i] || !PyType_Check(pyp_g.task_types[i]))
			Py_CLEAR(pyp_g.task_types[i]);
		PyErr_Clear();
	}
	if (!pyp_g.task_types[0] && !pyp_g.task_types[1])
		pyp_g.task_types[0] = PyObject_GetAttrString(tasks, "Task");
	Py_DECREF(tasks);
	return pyp_g.task_types[0] || pyp_g.task_types[1] ? 0 : -1;
}

static int asyncio_dir(void)
{
	PyObject *mod = PyImport_ImportModule("asyncio"), *file;
	const char *f;
	char dir[PATH_MAX], *slash;

	if (!mod)
		return -1;
	file = PyObject_GetAttrString(mod, "__file__");
	Py_DECREF(mod);
	f = file && PyUnicode_Check(file) ? PyUnicode_AsUTF8(file) : NULL;
	if (f && strlen(f) < sizeof(dir)) {
		strcpy(dir, f);
		slash = strrchr(dir, '/');
		if (slash) {
			slash[1] = '\0';
			pyp_names_set_asyncio_dir(dir);
		}
	}
	Py_XDECREF(file);
	PyErr_Clear();
	return 0;
}

static PyObject *install(PyObject *mod, PyObject *unused)
{
	static bool atfork;
	struct lpi_region_geom geom;
	PyObject *events = NULL, *descr = NULL;

	(void)mod;
	(void)unused;
	if (pyp_g.installed)
		Py_RETURN_TRUE;
	if (pyp_g.forked)
		Py_RETURN_FALSE;
	if (!read_config() || open_output())
		Py_RETURN_FALSE;
	if (pyp_names_init() || task_types() || asyncio_dir())
		goto fail;
	events = PyImport_ImportModule("asyncio.events");
	if (!events)
		goto fail;
	Py_XSETREF(pyp_g.handle_type, PyObject_GetAttrString(events, "Handle"));
	if (!pyp_g.handle_type || !PyType_Check(pyp_g.handle_type))
		goto fail;
	pyp_g.off_callback = member_offset(pyp_g.handle_type, "_callback");
	pyp_g.off_loop = member_offset(pyp_g.handle_type, "_loop");
	if (pyp_g.off_callback < 0 || pyp_g.off_loop < 0) {
		PyErr_SetString(
		    PyExc_RuntimeError,
		    "loopstall_probe: asyncio.events.Handle has no _callback/_loop slots");
		goto fail;
	}
	pyp_g.off_args = member_offset(pyp_g.handle_type, "_args");
	pyp_g.off_context = member_offset(pyp_g.handle_type, "_context");
	Py_XSETREF(pyp_g.orig_run, PyObject_GetAttrString(pyp_g.handle_type, "_run"));
	if (!pyp_g.orig_run)
		goto fail;
	fast_run_setup();
	if (!pyp_g.region.base) {
		lpi_clock_init();
		pyp_g.calib_due = 0;
		geom = (struct lpi_region_geom){
		    .max_loops = pyp_g.cfg.max_loops,
		    .ring_len = pyp_g.cfg.ring_len,
		    .sym_slots = 16384,
		    .strtab_size = 1 << 20,
		    .threshold_ns = pyp_g.cfg.threshold_ns,
		    .version = LPS_VERSION_PY,
		};
		if (lpi_region_create(&pyp_g.region, &geom, pyp_g.cfg.shm)) {
			PyErr_SetString(PyExc_OSError, "loopstall_probe: cannot create the region");
			goto fail;
		}
	}
	read_comm();
	descr = PyDescr_NewMethod((PyTypeObject *)pyp_g.handle_type, &run_def);
	if (!descr || PyObject_SetAttrString(pyp_g.handle_type, "_run", descr))
		goto fail;
	Py_DECREF(descr);
	Py_DECREF(events);
	if (!atfork) {
		pthread_atfork(NULL, NULL, atfork_child);
		atfork = true;
	}
	pyp_g.installed = true;
	if (pyp_g.out_fd >= 0 && !pyp_g.reporter_running) {
		pyp_g.reporter_stop = false;
		pyp_g.reporter_running =
		    !pthread_create(&pyp_g.reporter, NULL, pyp_reporter_main, NULL);
	}
	Py_RETURN_TRUE;
fail:
	Py_XDECREF(descr);
	Py_XDECREF(events);
	Py_CLEAR(pyp_g.orig_run);
	Py_CLEAR(pyp_g.handle_type);
	if (pyp_g.out_fd >= 0) {
		close(pyp_g.out_fd);
		pyp_g.out_fd = -1;
	}
	return NULL;
}

static PyObject *uninstall(PyObject *mod, PyObject *unused)
{
	int i;

	(void)mod;
	(void)unused;
	if (!pyp_g.installed)
		Py_RETURN_FALSE;
	if (PyObject_SetAttrString(pyp_g.handle_type, "_run", pyp_g.orig_run))
		return NULL;
	pyp_g.installed = false;
	for (i = 0; i < PYP_MAX_LOOPS; i++)
		if (pyp_g.loops[i])
			pyp_loop_restore(pyp_g.loops[i]);
	Py_RETURN_TRUE;
}

static PyObject *dict_of_event(const struct lps_event *e)
{
	struct lpi_cb_report c;
	struct pyp_cb_text t;

	pyp_describe(e, &c, &t);
	return Py_BuildValue(
	    "{s:s,s:z,s:z,s:i,s:z,s:z,s:z,s:K,s:K,s:d}", "watcher", lps_watcher_name(e->watcher),
	    "symbol", c.symbol, "module", c.module, "line", c.line, "task", c.task, "resumed_at",
	    c.resumed_at, "suspended_at", c.suspended_at, "start_ns",
	    (unsigned long long)e->start_ns, "end_ns", (unsigned long long)e->end_ns, "duration_ms",
	    e->end_ns > e->start_ns ? (double)(e->end_ns - e->start_ns) / 1e6 : 0.0);
}

/* Append item, a new reference or NULL (an exception set), to list; -1 when it cannot be. */
static int append_new(PyObject *list, PyObject *item)
{
	int err = !item || PyList_Append(list, item) ? -1 : 0;

	Py_XDECREF(item);
	return err;
}

/* A list of what rows appends for each probed loop; NULL with an exception set. */
static PyObject *per_loop(int (*rows)(PyObject *list, const struct pyp_loop *l))
{
	PyObject *list = PyList_New(0);
	int k;

	for (k = 0; list && k < PYP_MAX_LOOPS; k++)
		if (pyp_g.loops[k] && rows(list, &pyp_g.loops[k]->l))
			Py_CLEAR(list);
	return list;
}

static int recent_rows(PyObject *list, const struct pyp_loop *l)
{
	uint64_t i;

	for (i = l->head > l->mask + 1 ? l->head - l->mask - 1 : 0; i < l->head; i++)
		if (append_new(list, dict_of_event(&l->ring[i & l->mask])))
			return -1;
	return 0;
}

/* recent(): the flight recorder of every loop, oldest first (for tests and debugging). */
static PyObject *recent(PyObject *mod, PyObject *unused)
{
	(void)mod;
	(void)unused;
	return per_loop(recent_rows);
}

static int stats_row(PyObject *list, const struct pyp_loop *l)
{
	const struct lps_loop *s = l->slot;

	return append_new(
	    list,
	    Py_BuildValue(
		"{s:K,s:K,s:K,s:K,s:K,s:d,s:d,s:d,s:K,s:i}", "iterations",
		(unsigned long long)s->iterations, "callbacks", (unsigned long long)l->n_callbacks,
		"awaits", (unsigned long long)s->awaits, "stalls", (unsigned long long)s->stalls,
		"heartbeat_samples", (unsigned long long)s->heartbeat_samples, "heartbeat_max_ms",
		(double)s->heartbeat_max_ns / 1e6, "busy_ms", (double)s->busy_ns / 1e6, "poll_ms",
		(double)s->poll_ns / 1e6, "tid", (unsigned long long)s->tid, "slot",
		l->private_slot ? -1 : (int)((char *)s - (char *)pyp_g.region.base)));
}

/* stats(): each live loop's counters as the region has them. */
static PyObject *stats(PyObject *mod, PyObject *unused)
{
	(void)mod;
	(void)unused;
	return per_loop(stats_row);
}

static PyObject *region_path(PyObject *mod, PyObject *unused)
{
	(void)mod;
	(void)unused;
	if (!pyp_g.region.base || !pyp_g.region.shared || !pyp_g.region.path[0])
		Py_RETURN_NONE;
	return PyUnicode_FromString(pyp_g.region.path);
}

/* The floor of the other way to see every callback: a C profile function that does nothing. */
static int profile_noop(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
	(void)obj;
	(void)frame;
	(void)what;
	(void)arg;
	return 0;
}

static PyObject *profile_floor(PyObject *mod, PyObject *on)
{
	(void)mod;
	PyEval_SetProfile(PyObject_IsTrue(on) ? profile_noop : NULL, NULL);
	Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"install", install, METH_NOARGS,
     "Time every callback of every asyncio loop from now on; True when installed."},
    {"uninstall", uninstall, METH_NOARGS, "Give asyncio its own Handle._run back."},
    {"recent", recent, METH_NOARGS, "The flight recorder's entries, oldest first."},
    {"stats", stats, METH_NOARGS, "Each loop's counters."},
    {"region_path", region_path, METH_NOARGS, "The shared region's path, or None."},
    {"_profile_floor", profile_floor, METH_O,
     "Benchmarks only: a no-op C profile function on this thread (True) or none (False)."},
    {NULL, NULL, 0, NULL},
};

static void module_free(void *m)
{
	(void)m;
	if (pyp_g.reporter_running) {
		pyp_g.reporter_stop = true;
		pthread_join(pyp_g.reporter, NULL);
		pyp_g.reporter_running = false;
	}
	lpi_region_unlink(&pyp_g.region);
}

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "loopstall_probe._probe",
    "loopstall's libprobe for asyncio, in C",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    module_free,
};

/* At exit the region's file goes, as libprobe's does (its memory stays mapped). */
__attribute__((destructor)) static void probe_fini(void)
{
	if (pyp_g.reporter_running && !pyp_g.forked) {
		pyp_g.reporter_stop = true;
		pthread_join(pyp_g.reporter, NULL);
		pyp_g.reporter_running = false;
	}
	if (!pyp_g.forked)
		lpi_region_unlink(&pyp_g.region);
}

PyMODINIT_FUNC PyInit__probe(void)
{
	static const struct pyp_name names[] = {
	    {&s_coro, "_coro"},
	    {&s_self, "__self__"},
	    {&s_run, "run"},
	};

	if (pyp_intern(names, Py_ARRAY_LENGTH(names)))
		return NULL;
	if (pyp_loop_init())
		return NULL;
	return PyModule_Create(&module);
}
