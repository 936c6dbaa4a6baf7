// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * loopstall_probe._probe: see pyprobe.h. install() puts a C method in place
 * of asyncio.events.Handle._run (every callback of every asyncio loop passes
 * through it, TimerHandle included): it runs the callback itself, as
 * asyncio's _run does, between two timestamps. On the first callback of
 * each loop it puts a proxy in the selector's _selector whose poll() it
 * times (or wraps selector.select), wraps run_forever and starts a
 * heartbeat timer on the loop. No Python code runs on the way.
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

#define MAX_LOOPS 64
#define RECENT 5

typedef struct {
	PyObject_HEAD struct pyp_loop l;
	PyObject *hb_handle; /* the heartbeat's TimerHandle while the loop runs */
	PyObject *orig_run_forever;
	PyObject *proxy; /* the PollProxy in selector._selector; NULL: select is wrapped */
} LoopProbe;

/*
 * What a poll-like selector (epoll, poll, devpoll: selectors._PollLikeSelector)
 * keeps in its _selector: our proxy calls the C poll it stands for, so the
 * poll is timed without one more entry into the interpreter per iteration
 * (wrapping selector.select, a Python function, costs one). Every other
 * attribute is the inner object's.
 */
typedef struct {
	PyObject_HEAD PyObject *inner;
	PyObject *inner_poll;
	PyObject *poll_fn; /* poll_proxy_poll bound to this object */
	PyObject *probe;   /* the LoopProbe */
} PollProxy;

static struct {
	bool installed;
	bool forked; /* in a child of fork(): run everything untimed */
	struct lpi_config cfg;
	struct lpi_region region;
	PyObject *handle_type;
	PyObject *orig_run;
	Py_ssize_t off_callback, off_loop, off_args, off_context;
	PyObject *run_failed; /* _failed.run_failed: NULL, call the original _run instead */
	PyObject *debug_kw;   /* its last argument: whether asyncio passes debug= */
	PyObject *task_types[2];
	PyTypeObject *step_type; /* TaskStepMethWrapper, once seen */
	LoopProbe *loops[MAX_LOOPS];
	struct pyp_loop *last;
	int out_fd;
	char comm[32];
	uint64_t calib_due;
	pthread_t reporter;
	bool reporter_running;
	volatile bool reporter_stop;
} g = {.out_fd = -1};

static PyObject *s_coro, *s_selector, *s_select, *s_call_later, *s_cancel, *s_run_forever, *s_self,
    *s_run, *s_poll, *s_inner;
static __thread uint32_t tls_tid;
static PyTypeObject LoopProbe_Type, PollProxy_Type;

struct lpi_region *pyp_region(void)
{
	return &g.region;
}

static uint32_t my_tid(void)
{
	if (!tls_tid)
		tls_tid = (uint32_t)syscall(SYS_gettid);
	return tls_tid;
}

static inline void store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline void count(uint64_t *p, uint64_t n)
{
	__atomic_store_n(p, *p + n, __ATOMIC_RELAXED);
}

/* Begin ring entry head (the protocol of lprobe_shm.h); returns its index. */
static inline uint64_t event_begin(struct pyp_loop *l, uint64_t key, uint32_t watcher,
				   uint64_t task, uint64_t locs, uint64_t now)
{
	uint64_t i = l->head++;
	struct lps_event *e = &l->ring[i & l->mask];

	store(&e->seq, 4 * i + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e->key = key;
	e->start_ns = now;
	e->end_ns = 0;
	e->interval_ns = task;
	e->kind = LPS_K_CALLBACK;
	e->watcher = watcher;
	e->arg = -1;
	e->depth = l->depth;
	e->reserved = locs;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	store(&e->seq, 4 * i + 2);
	/* readers find entries past ring_head by their seq while it lags less than the ring */
	if (!(l->head & (l->mask >> 1)))
		__atomic_store_n(&l->slot->ring_head, l->head, __ATOMIC_RELEASE);
	return i;
}

static inline void event_end(struct pyp_loop *l, uint64_t i, uint64_t now, uint64_t locs)
{
	struct lps_event *e;

	if (l->head - i > l->mask + 1)
		return; /* overwritten by the callbacks it ran (a nested loop) */
	e = &l->ring[i & l->mask];
	store(&e->seq, 4 * i + 3);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e->end_ns = now;
	e->reserved = locs;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	store(&e->seq, 4 * i + 4);
}

static void publish(struct pyp_loop *l)
{
	struct lps_loop *s = l->slot;

	store(&s->callbacks, l->n_callbacks);
	store(&s->callback_ns, l->cb_ns);
	store(&s->callback_max_ns, l->cb_max_ns);
	store(&s->awaits, l->awaits);
	__atomic_store_n(&s->ring_head, l->head, __ATOMIC_RELEASE);
}

static void busy_begin(struct pyp_loop *l, uint64_t now)
{
	struct lps_loop *s = l->slot;

	if (l->poll_start && now > l->poll_start)
		count(&s->poll_ns, now - l->poll_start);
	l->poll_start = 0;
	l->busy_start = now;
	l->iter_head = l->head;
	l->iter_ncb = l->n_callbacks;
	__atomic_store_n(&s->busy_start_ns, now, __ATOMIC_RELEASE);
}

static const struct lps_event *longest_callback(const struct pyp_loop *l)
{
	const struct lps_event *best = NULL;
	uint64_t i = l->head - l->iter_head > l->mask + 1 ? l->head - l->mask - 1 : l->iter_head;

	for (; i < l->head; i++) {
		const struct lps_event *e = &l->ring[i & l->mask];

		if (e->end_ns && (!best || e->end_ns - e->start_ns > best->end_ns - best->start_ns))
			best = e;
	}
	return best;
}

/* The texts of a ring entry, for a record. */
struct cb_text {
	char symbol[256], module[512], task[128], resumed[512], suspended[512];
};

static void describe(const struct lps_event *e, struct lpi_cb_report *c, struct cb_text *t)
{
	char *colon;

	memset(c, 0, sizeof(*c));
	c->addr = e->key;
	c->watcher = e->watcher;
	c->arg = -1;
	c->start_ns = e->start_ns;
	c->end_ns = e->end_ns;
	c->symbol = pyp_key_text(e->key, false, t->symbol, sizeof(t->symbol));
	c->module = pyp_key_text(e->key, true, t->module, sizeof(t->module));
	/* the module text is "file:line" of the definition */
	if (c->module && (colon = strrchr(t->module, ':'))) {
		*colon = '\0';
		c->line = atoi(colon + 1);
	}
	if (e->watcher != LPS_W_ASYNCIO_TASK)
		return;
	c->task = pyp_key_text(e->interval_ns, false, t->task, sizeof(t->task));
	if (!c->task)
		c->task = "";
	c->resumed_at = pyp_key_text(LPS_PY_KEY(LPS_PY_LOC, e->reserved & 0xffffffffu), false,
				     t->resumed, sizeof(t->resumed));
	c->suspended_at = pyp_key_text(LPS_PY_KEY(LPS_PY_LOC, e->reserved >> 32), false,
				       t->suspended, sizeof(t->suspended));
}

static int64_t unix_of(uint64_t mono)
{
	struct timespec ts;
	uint64_t now = lpi_mono_ns();

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec - (int64_t)(now - mono);
}

/* A stall's record (standalone mode): written here, by the loop thread it already stalled. */
static void write_stall(struct pyp_loop *l, const struct lps_event *best, uint64_t now,
			uint64_t callbacks)
{
	static struct cb_text texts[RECENT + 1];
	struct lpi_cb_report recent[RECENT];
	struct lpi_stall_report r = {
	    .pid = (uint32_t)getpid(),
	    .tid = l->tid,
	    .comm = g.comm,
	    .start_ns = l->busy_start,
	    .end_ns = now,
	    .threshold_ns = g.cfg.threshold_ns,
	    .callbacks = (uint32_t)callbacks,
	    .recent = recent,
	};
	char buf[8192];
	uint64_t i, first = l->head > l->mask + 1 ? l->head - l->mask - 1 : 0;
	unsigned n = 0;
	size_t len;

	r.start_unix_ns = unix_of(r.start_ns);
	r.end_unix_ns = unix_of(r.end_ns);
	if (best) {
		r.has_cb = true;
		describe(best, &r.cb, &texts[RECENT]);
	}
	for (i = l->head; i-- > first && n < RECENT;)
		if (l->ring[i & l->mask].end_ns)
			n++;
	r.n_recent = n;
	for (i = l->head; i-- > first && n > 0;) {
		if (!l->ring[i & l->mask].end_ns)
			continue;
		n--;
		describe(&l->ring[i & l->mask], &recent[n], &texts[n]);
	}
	len = lpi_json_stall(buf, sizeof(buf), &r);
	if (len && write(g.out_fd, buf, len) < 0)
		return; /* nowhere to say it: the region still has it */
}

static void record_stall(struct pyp_loop *l, uint64_t now, uint64_t callbacks)
{
	struct lps_loop *s = l->slot;
	uint64_t i = s->stall_head;
	struct lps_stall *st = &s->stall_ring[i % LPS_STALL_RING];
	const struct lps_event *e = longest_callback(l);

	store(&st->seq, 2 * i + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	st->start_ns = l->busy_start;
	st->end_ns = now;
	st->callbacks = (uint32_t)callbacks;
	st->seg_key = 0;
	st->cb_key = 0;
	if (e) {
		st->cb_key = e->key;
		st->cb_start_ns = e->start_ns;
		st->cb_end_ns = e->end_ns;
		st->cb_interval_ns = e->interval_ns;
		st->cb_watcher = e->watcher;
		st->cb_arg = e->arg;
		st->reserved[0] = e->reserved;
		if (e->end_ns - e->start_ns > l->cb_max_ns)
			l->cb_max_ns = e->end_ns - e->start_ns;
	}
	__atomic_thread_fence(__ATOMIC_RELEASE);
	store(&st->seq, 2 * i + 2);
	__atomic_store_n(&s->stall_head, i + 1, __ATOMIC_RELEASE);
	count(&s->stalls, 1);
	if (g.out_fd >= 0)
		write_stall(l, e, now, callbacks);
}

/* The loop enters its poll (or stops running): its busy period ends. */
static void busy_end(struct pyp_loop *l, uint64_t now)
{
	struct lps_loop *s = l->slot;

	if (l->busy_start) {
		uint64_t cbs = l->n_callbacks - l->iter_ncb;
		uint64_t dur = now > l->busy_start ? now - l->busy_start : 0;

		count(&s->iterations, 1);
		count(&s->busy_ns, dur);
		count(&s->callbacks_per_iteration[lps_cpi_bucket(cbs)], 1);
		if (cbs > s->max_callbacks_per_iteration)
			store(&s->max_callbacks_per_iteration, cbs);
		if (dur >= g.cfg.threshold_ns)
			record_stall(l, now, cbs);
		publish(l);
		__atomic_store_n(&s->busy_start_ns, 0, __ATOMIC_RELEASE);
		l->busy_start = 0;
	}
	l->poll_start = now;
}

/* The loop, while it lives (new reference), else NULL. */
static PyObject *loop_of(struct pyp_loop *l)
{
	PyObject *loop = NULL;

	if (!l->loop_ref)
		return NULL;
#if PY_VERSION_HEX >= 0x030D0000
	if (PyWeakref_GetRef(l->loop_ref, &loop) < 0)
		PyErr_Clear();
#else
	loop = PyWeakref_GetObject(l->loop_ref);
	if (loop == Py_None)
		loop = NULL;
	Py_XINCREF(loop);
#endif
	return loop;
}

/* (Re)start the heartbeat: due one period from now. */
static void heartbeat_schedule(LoopProbe *p, uint64_t now)
{
	struct pyp_loop *l = &p->l;
	PyObject *loop = loop_of(l), *delay, *h;

	Py_CLEAR(p->hb_handle);
	if (!l->hb_interval_ns || !loop || !l->hb_fn) {
		Py_XDECREF(loop);
		return;
	}
	if (l->hb_due < now)
		l->hb_due = now;
	delay = PyFloat_FromDouble((double)(l->hb_due - now) / 1e9);
	h = delay ? PyObject_CallMethodObjArgs(loop, s_call_later, delay, l->hb_fn, NULL) : NULL;
	Py_XDECREF(delay);
	Py_DECREF(loop);
	if (!h)
		PyErr_Clear();
	p->hb_handle = h;
}

/* The heartbeat tick: how late it came, into the histogram (as libprobe's heartbeat.c). */
static PyObject *heartbeat(PyObject *self, PyObject *unused)
{
	LoopProbe *p = (LoopProbe *)self;
	struct pyp_loop *l = &p->l;
	struct lps_loop *s = l->slot;
	uint64_t now = lpi_now(), late;

	(void)unused;
	if (l->gone || g.forked)
		Py_RETURN_NONE;
	late = now > l->hb_due ? now - l->hb_due : 0;
	count(&s->heartbeat_late[lps_hist_bucket(late)], 1);
	count(&s->heartbeat_samples, 1);
	if (late > s->heartbeat_max_ns)
		store(&s->heartbeat_max_ns, late);
	l->hb_due += l->hb_interval_ns;
	heartbeat_schedule(p, now);
	Py_RETURN_NONE;
}

static PyMethodDef heartbeat_def = {"_loopstall_heartbeat", heartbeat, METH_NOARGS, NULL};

/* Around the loop's poll: its busy period ends before, the next begins after. */
static void poll_enter(struct pyp_loop *l)
{
	busy_end(l, lpi_now());
}

static void poll_leave(struct pyp_loop *l)
{
	uint64_t now = lpi_now();

	/* the clock's refit, when due: at most five clock pairs, after a poll */
	if (now >= g.calib_due) {
		g.calib_due = lpi_clock_tick(now);
		now = lpi_now();
	}
	if (l->tid != my_tid()) {
		l->tid = my_tid();
		__atomic_store_n(&l->slot->tid, l->tid, __ATOMIC_RELEASE);
	}
	busy_begin(l, now);
}

/* selector.select(timeout), for selectors without a poll-like _selector. */
static PyObject *LoopProbe_call(PyObject *self, PyObject *args, PyObject *kw)
{
	LoopProbe *p = (LoopProbe *)self;
	struct pyp_loop *l = &p->l;
	PyObject *res;

	if (!l->orig_select) {
		PyErr_SetString(PyExc_RuntimeError, "loopstall_probe: no select to call");
		return NULL;
	}
	if (l->gone || g.forked)
		return PyObject_Call(l->orig_select, args, kw);
	poll_enter(l);
	res = PyObject_Call(l->orig_select, args, kw);
	poll_leave(l);
	return res;
}

static PyObject *proxy_poll(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
			    PyObject *kwnames)
{
	PollProxy *x = (PollProxy *)self;
	struct pyp_loop *l = x->probe ? &((LoopProbe *)x->probe)->l : NULL;
	PyObject *res;

	if (!l || l->gone || g.forked)
		return PyObject_Vectorcall(x->inner_poll, args, (size_t)nargs, kwnames);
	poll_enter(l);
	res = PyObject_Vectorcall(x->inner_poll, args, (size_t)nargs, kwnames);
	poll_leave(l);
	return res;
}

static PyMethodDef proxy_poll_def = {"poll", (PyCFunction)(void (*)(void))proxy_poll,
				     METH_FASTCALL | METH_KEYWORDS, NULL};

static PyObject *PollProxy_getattro(PyObject *self, PyObject *name)
{
	PollProxy *x = (PollProxy *)self;

	if (name == s_poll || (PyUnicode_Check(name) && !PyUnicode_Compare(name, s_poll))) {
		Py_INCREF(x->poll_fn);
		return x->poll_fn;
	}
	return PyObject_GetAttr(x->inner, name);
}

static int PollProxy_traverse(PyObject *self, visitproc visit, void *arg)
{
	PollProxy *x = (PollProxy *)self;

	Py_VISIT(x->inner);
	Py_VISIT(x->inner_poll);
	Py_VISIT(x->poll_fn);
	Py_VISIT(x->probe);
	return 0;
}

static int PollProxy_clear(PyObject *self)
{
	PollProxy *x = (PollProxy *)self;

	Py_CLEAR(x->inner);
	Py_CLEAR(x->inner_poll);
	Py_CLEAR(x->poll_fn);
	Py_CLEAR(x->probe);
	return 0;
}

static void PollProxy_dealloc(PyObject *self)
{
	PyObject_GC_UnTrack(self);
	PollProxy_clear(self);
	Py_TYPE(self)->tp_free(self);
}

static PyTypeObject PollProxy_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "loopstall_probe._probe.PollProxy",
    .tp_basicsize = sizeof(PollProxy),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_getattro = PollProxy_getattro,
    .tp_traverse = PollProxy_traverse,
    .tp_clear = PollProxy_clear,
    .tp_dealloc = PollProxy_dealloc,
    .tp_doc = "a poll object whose poll() loopstall_probe times",
};

/* Put a PollProxy in selector._selector; NULL (no error) when it has no poll. */
static PyObject *proxy_install(PyObject *selector, LoopProbe *p)
{
	PyObject *inner = PyObject_GetAttr(selector, s_inner), *poll;
	PollProxy *x;

	poll = inner ? PyObject_GetAttr(inner, s_poll) : NULL;
	if (!poll || !PyCallable_Check(poll) || Py_IS_TYPE(inner, &PollProxy_Type))
		goto fail;
	x = PyObject_GC_New(PollProxy, &PollProxy_Type);
	if (!x)
		goto fail;
	x->inner = inner;
	x->inner_poll = poll;
	x->probe = (PyObject *)p;
	Py_INCREF(p);
	x->poll_fn = NULL;
	PyObject_GC_Track(x);
	x->poll_fn = PyCFunction_New(&proxy_poll_def, (PyObject *)x);
	if (!x->poll_fn || PyObject_SetAttr(selector, s_inner, (PyObject *)x)) {
		Py_DECREF(x);
		PyErr_Clear();
		return NULL;
	}
	return (PyObject *)x;
fail:
	Py_XDECREF(poll);
	Py_XDECREF(inner);
	PyErr_Clear();
	return NULL;
}

/* loop.run_forever(): the heartbeat runs while the loop runs; its end ends a busy period. */
static PyObject *run_forever(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	LoopProbe *p = (LoopProbe *)self;
	struct pyp_loop *l = &p->l;
	PyObject *res, *orig = p->orig_run_forever, *loop = loop_of(l), *stack[8];
	uint64_t now;
	Py_ssize_t k;

	if (!orig || !loop || nargs > 7) {
		Py_XDECREF(loop);
		PyErr_SetString(PyExc_RuntimeError, "loopstall_probe: no run_forever to call");
		return NULL;
	}
	/* the class's function, with the loop: a bound method would keep the loop alive */
	stack[0] = loop;
	for (k = 0; k < nargs; k++)
		stack[1 + k] = args[k];
	Py_INCREF(orig);
	if (!l->gone && !g.forked) {
		now = lpi_now();
		l->hb_due = now + l->hb_interval_ns;
		heartbeat_schedule(p, now);
		busy_begin(l, now);
	}
	res = PyObject_Vectorcall(orig, stack, (size_t)(nargs + 1), NULL);
	Py_DECREF(orig);
	Py_DECREF(loop);
	if (!l->gone && !g.forked) {
		PyObject *exc_type, *exc, *tb, *r;

		PyErr_Fetch(&exc_type, &exc, &tb);
		busy_end(l, lpi_now());
		/* stopped: neither busy nor polling until it runs again */
		l->poll_start = 0;
		if (p->hb_handle) {
			r = PyObject_CallMethodNoArgs(p->hb_handle, s_cancel);
			Py_XDECREF(r);
			PyErr_Clear();
			Py_CLEAR(p->hb_handle);
		}
		PyErr_Restore(exc_type, exc, tb);
	}
	return res;
}

static PyMethodDef run_forever_def = {"run_forever", (PyCFunction)(void (*)(void))run_forever,
				      METH_FASTCALL, NULL};

static void loop_release(struct pyp_loop *l)
{
	int i;

	if (l->gone)
		return;
	l->gone = true;
	if (l->slot) {
		__atomic_store_n(&l->slot->busy_start_ns, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&l->slot->state, LPS_LOOP_GONE, __ATOMIC_RELEASE);
	}
	if (g.last == l)
		g.last = NULL;
	for (i = 0; i < MAX_LOOPS; i++)
		if (g.loops[i] && &g.loops[i]->l == l)
			Py_CLEAR(g.loops[i]);
}

/* The loop was collected. */
static PyObject *loop_gone(PyObject *self, PyObject *ref)
{
	(void)ref;
	loop_release(&((LoopProbe *)self)->l);
	Py_RETURN_NONE;
}

static PyMethodDef loop_gone_def = {"_loopstall_loop_gone", loop_gone, METH_O, NULL};

static int LoopProbe_traverse(PyObject *self, visitproc visit, void *arg)
{
	LoopProbe *p = (LoopProbe *)self;

	Py_VISIT(p->l.selector);
	Py_VISIT(p->l.orig_select);
	Py_VISIT(p->l.hb_fn);
	Py_VISIT(p->l.loop_ref);
	Py_VISIT(p->hb_handle);
	Py_VISIT(p->orig_run_forever);
	Py_VISIT(p->proxy);
	return 0;
}

static int LoopProbe_clear(PyObject *self)
{
	LoopProbe *p = (LoopProbe *)self;

	Py_CLEAR(p->l.selector);
	Py_CLEAR(p->l.orig_select);
	Py_CLEAR(p->l.hb_fn);
	Py_CLEAR(p->l.loop_ref);
	Py_CLEAR(p->hb_handle);
	Py_CLEAR(p->orig_run_forever);
	Py_CLEAR(p->proxy);
	return 0;
}

static void LoopProbe_dealloc(PyObject *self)
{
	LoopProbe *p = (LoopProbe *)self;

	PyObject_GC_UnTrack(self);
	if (p->l.slot && !p->l.gone) {
		__atomic_store_n(&p->l.slot->busy_start_ns, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&p->l.slot->state, LPS_LOOP_GONE, __ATOMIC_RELEASE);
	}
	if (g.last == &p->l)
		g.last = NULL;
	LoopProbe_clear(self);
	PyMem_RawFree(p->l.private_slot);
	Py_TYPE(self)->tp_free(self);
}

static PyTypeObject LoopProbe_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "loopstall_probe._probe.LoopProbe",
    .tp_basicsize = sizeof(LoopProbe),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_call = LoopProbe_call,
    .tp_traverse = LoopProbe_traverse,
    .tp_clear = LoopProbe_clear,
    .tp_dealloc = LoopProbe_dealloc,
    .tp_doc = "the probe of one asyncio loop; called, it is the loop's selector.select",
};

/* Replace obj.name with repl; the original is returned (new reference), NULL when it cannot. */
static PyObject *wrap_attr(PyObject *obj, PyObject *name, PyObject *repl)
{
	PyObject *orig = PyObject_GetAttr(obj, name);

	if (!orig || PyObject_SetAttr(obj, name, repl)) {
		Py_XDECREF(orig);
		PyErr_Clear();
		return NULL;
	}
	return orig;
}

/* A slot for a new loop: the region's, or private memory when it is full. */
static int bind_slot(struct pyp_loop *l, void *loop, uint64_t now)
{
	const struct lps_header *h = g.region.hdr;
	int i = lpi_region_claim(&g.region, (uintptr_t)loop, now);

	if (i >= 0) {
		l->slot = lpi_region_loop(&g.region, (uint32_t)i);
	} else {
		l->private_slot = PyMem_RawCalloc(1, h->loop_stride);
		if (!l->private_slot)
			return -ENOMEM;
		l->slot = l->private_slot;
		l->slot->state = LPS_LOOP_LIVE;
		l->slot->loop_id = (uintptr_t)loop;
		l->slot->attached_ns = now;
	}
	l->ring = (struct lps_event *)(l->slot + 1);
	l->mask = h->ring_len - 1;
	l->tid = my_tid();
	__atomic_store_n(&l->slot->tid, l->tid, __ATOMIC_RELEASE);
	return 0;
}

/* First callback of a loop: start timing it. NULL (no error set) when it cannot be. */
static struct pyp_loop *attach(PyObject *loop)
{
	LoopProbe *p;
	PyObject *selector, *cb;
	uint64_t now = lpi_now();
	int i, free_i = -1;

	for (i = 0; i < MAX_LOOPS; i++) {
		if (g.loops[i] && g.loops[i]->l.loop == loop && !g.loops[i]->l.gone)
			return &g.loops[i]->l;
		if (!g.loops[i] && free_i < 0)
			free_i = i;
	}
	if (free_i < 0)
		return NULL;
	p = PyObject_GC_New(LoopProbe, &LoopProbe_Type);
	if (!p) {
		PyErr_Clear();
		return NULL;
	}
	memset(&p->l, 0, sizeof(p->l));
	p->hb_handle = NULL;
	p->orig_run_forever = NULL;
	p->proxy = NULL;
	PyObject_GC_Track(p);
	p->l.loop = loop;
	cb = PyCFunction_New(&loop_gone_def, (PyObject *)p);
	p->l.loop_ref = cb ? PyWeakref_NewRef(loop, cb) : NULL;
	Py_XDECREF(cb);
	if (!p->l.loop_ref || bind_slot(&p->l, loop, now)) {
		PyErr_Clear();
		Py_DECREF(p);
		return NULL;
	}
	/* selector loops: the poll is selector.select, an attribute of that instance */
	selector = PyObject_GetAttr(loop, s_selector);
	if (selector) {
		p->proxy = proxy_install(selector, p);
		if (!p->proxy)
			p->l.orig_select = wrap_attr(selector, s_select, (PyObject *)p);
		if (p->proxy || p->l.orig_select)
			p->l.selector = selector;
		else
			Py_DECREF(selector);
	}
	PyErr_Clear();
	cb = PyCFunction_New(&run_forever_def, (PyObject *)p);
	if (cb) {
		PyObject *bound = wrap_attr(loop, s_run_forever, cb);

		if (bound)
			p->orig_run_forever =
			    PyObject_GetAttr((PyObject *)Py_TYPE(loop), s_run_forever);
		Py_XDECREF(bound);
		Py_DECREF(cb);
	}
	PyErr_Clear();
	p->l.hb_fn = PyCFunction_New(&heartbeat_def, (PyObject *)p);
	PyErr_Clear();
	p->l.hb_interval_ns = g.cfg.heartbeat_ns;
	store(&p->l.slot->heartbeat_interval_ns, p->l.hb_interval_ns);
	p->l.hb_due = now + p->l.hb_interval_ns;
	heartbeat_schedule(p, now);
	g.loops[free_i] = p;
	busy_begin(&p->l, now);
	return &p->l;
}

static struct pyp_loop *loop_find(PyObject *loop)
{
	struct pyp_loop *l = g.last;
	int i;

	if (l && l->loop == loop)
		return l;
	for (i = 0; i < MAX_LOOPS; i++) {
		if (g.loops[i] && g.loops[i]->l.loop == loop && !g.loops[i]->l.gone) {
			g.last = &g.loops[i]->l;
			return g.last;
		}
	}
	l = attach(loop);
	if (l)
		g.last = l;
	return l;
}

static inline PyObject *slot_at(PyObject *h, Py_ssize_t off)
{
	return *(PyObject **)((char *)h + off);
}

static bool is_task(PyObject *o)
{
	return (g.task_types[0] && PyObject_TypeCheck(o, (PyTypeObject *)g.task_types[0])) ||
	       (g.task_types[1] && PyObject_TypeCheck(o, (PyTypeObject *)g.task_types[1]));
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
	} else if (Py_TYPE(cb) == g.step_type ||
		   (!g.step_type && strstr(Py_TYPE(cb)->tp_name, "TaskStepMethWrapper"))) {
		/* C Task: a step is a TaskStepMethWrapper, whose __self__ is the task */
		g.step_type = Py_TYPE(cb);
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

	if (!g.run_failed)
		return PyObject_CallOneArg(g.orig_run, h);
	ctx = slot_at(h, g.off_context);
	cb = slot_at(h, g.off_callback);
	args = slot_at(h, g.off_args);
	if (!ctx || !cb || !args || !PyTuple_CheckExact(args) || PyTuple_GET_SIZE(args) > 8)
		return PyObject_CallOneArg(g.orig_run, h);
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
		res = PyObject_CallFunctionObjArgs(g.run_failed, h, exc, g.debug_kw, NULL);
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
	if (g.forked || !g.installed)
		return PyObject_CallOneArg(g.orig_run, h);
	cb = slot_at(h, g.off_callback);
	loop = slot_at(h, g.off_loop);
	/* the heartbeat is libprobe's own: not a callback of the program */
	if (!cb || !loop ||
	    (PyCFunction_Check(cb) && PyCFunction_GET_SELF(cb) &&
	     Py_TYPE(PyCFunction_GET_SELF(cb)) == &LoopProbe_Type))
		return call_handle(h);
	l = loop_find(loop);
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
	i = event_begin(l, key, watcher, tname, resumed, start);
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
		/* counted here, published with the iteration: the slot's page is not touched per step */
		l->awaits += suspended != 0;
	}
	now = lpi_now();
	l->depth--;
	/* uninstalled meanwhile: the slot may be another loop's now */
	if (!l->gone)
		event_end(l, i, now, (uint64_t)resumed | (uint64_t)suspended << 32);
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

static void *reporter_main(void *arg);

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
	PyObject *code = PyObject_GetAttrString(g.orig_run, "__code__");
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
	return ok && have == (Py_ssize_t)want && g.off_args >= 0 && g.off_context >= 0;
}

static void fast_run_setup(void)
{
	PyObject *mod;
	bool debug_kw;

	Py_CLEAR(g.run_failed);
	if (!fast_run_ok(&debug_kw))
		return;
	mod = PyImport_ImportModule("loopstall_probe._failed");
	if (mod) {
		g.run_failed = PyObject_GetAttrString(mod, "run_failed");
		Py_DECREF(mod);
	}
	PyErr_Clear();
	g.debug_kw = debug_kw ? Py_True : Py_False;
}

static const char *const env_names[] = {"LPROBE_HEARTBEAT_MS", "LPROBE_THRESHOLD_MS", "LPROBE_RING",
					"LPROBE_MAX_LOOPS", "LPROBE_OUTPUT"};

/* The environment, checked: false (after one line on stderr) when a value is bad. */
static bool read_config(void)
{
	unsigned bad, b;
	char line[512];
	size_t n = 0;

	lpi_config_defaults(&g.cfg);
	bad = lpi_config_from_env(&g.cfg, getenv);
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

	if (!g.cfg.output[0] || g.out_fd >= 0)
		return 0;
	if (lpi_expand_path(g.cfg.output, (int)getpid(), path, sizeof(path))) {
		fprintf(stderr,
			"loopstall_probe: LPROBE_OUTPUT=%s: name too long; the program runs "
			"without the probe\n",
			g.cfg.output);
		return -1;
	}
	g.out_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (g.out_fd < 0) {
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
	ssize_t n = fd >= 0 ? read(fd, g.comm, sizeof(g.comm) - 1) : 0;

	if (fd >= 0)
		close(fd);
	g.comm[n > 0 ? n : 0] = '\0';
	if (n > 0 && g.comm[n - 1] == '\n')
		g.comm[n - 1] = '\0';
}

static void atfork_child(void)
{
	/* the region is the parent's: a child writes nothing to it */
	g.forked = true;
	g.reporter_running = false;
}

static int task_types(void)
{
	PyObject *tasks = PyImport_ImportModule("asyncio.tasks");
	const char *names[2] = {"_CTask", "_PyTask"};
	int i;

	if (!tasks)
		return -1;
	for (i = 0; i < 2; i++) {
		Py_XSETREF(g.task_types[i], PyObject_GetAttrString(tasks, names[i]));
		if (!g.task_types[i] || !PyType_Check(g.task_types[i]))
			Py_CLEAR(g.task_types[i]);
		PyErr_Clear();
	}
	if (!g.task_types[0] && !g.task_types[1])
		g.task_types[0] = PyObject_GetAttrString(tasks, "Task");
	Py_DECREF(tasks);
	return g.task_types[0] || g.task_types[1] ? 0 : -1;
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
	if (g.installed)
		Py_RETURN_TRUE;
	if (g.forked)
		Py_RETURN_FALSE;
	if (!read_config() || open_output())
		Py_RETURN_FALSE;
	if (pyp_names_init() || task_types() || asyncio_dir())
		goto fail;
	events = PyImport_ImportModule("asyncio.events");
	if (!events)
		goto fail;
	Py_XSETREF(g.handle_type, PyObject_GetAttrString(events, "Handle"));
	if (!g.handle_type || !PyType_Check(g.handle_type))
		goto fail;
	g.off_callback = member_offset(g.handle_type, "_callback");
	g.off_loop = member_offset(g.handle_type, "_loop");
	if (g.off_callback < 0 || g.off_loop < 0) {
		PyErr_SetString(
		    PyExc_RuntimeError,
		    "loopstall_probe: asyncio.events.Handle has no _callback/_loop slots");
		goto fail;
	}
	g.off_args = member_offset(g.handle_type, "_args");
	g.off_context = member_offset(g.handle_type, "_context");
	Py_XSETREF(g.orig_run, PyObject_GetAttrString(g.handle_type, "_run"));
	if (!g.orig_run)
		goto fail;
	fast_run_setup();
	if (!g.region.base) {
		lpi_clock_init();
		g.calib_due = 0;
		geom = (struct lpi_region_geom){
		    .max_loops = g.cfg.max_loops,
		    .ring_len = g.cfg.ring_len,
		    .sym_slots = 16384,
		    .strtab_size = 1 << 20,
		    .threshold_ns = g.cfg.threshold_ns,
		    .version = LPS_VERSION_PY,
		};
		if (lpi_region_create(&g.region, &geom, g.cfg.shm)) {
			PyErr_SetString(PyExc_OSError, "loopstall_probe: cannot create the region");
			goto fail;
		}
	}
	read_comm();
	descr = PyDescr_NewMethod((PyTypeObject *)g.handle_type, &run_def);
	if (!descr || PyObject_SetAttrString(g.handle_type, "_run", descr))
		goto fail;
	Py_DECREF(descr);
	Py_DECREF(events);
	if (!atfork) {
		pthread_atfork(NULL, NULL, atfork_child);
		atfork = true;
	}
	g.installed = true;
	if (g.out_fd >= 0 && !g.reporter_running) {
		g.reporter_stop = false;
		g.reporter_running = !pthread_create(&g.reporter, NULL, reporter_main, NULL);
	}
	Py_RETURN_TRUE;
fail:
	Py_XDECREF(descr);
	Py_XDECREF(events);
	Py_CLEAR(g.orig_run);
	Py_CLEAR(g.handle_type);
	if (g.out_fd >= 0) {
		close(g.out_fd);
		g.out_fd = -1;
	}
	return NULL;
}

static PyObject *uninstall(PyObject *mod, PyObject *unused)
{
	int i;

	(void)mod;
	(void)unused;
	if (!g.installed)
		Py_RETURN_FALSE;
	if (PyObject_SetAttrString(g.handle_type, "_run", g.orig_run))
		return NULL;
	g.installed = false;
	for (i = 0; i < MAX_LOOPS; i++) {
		LoopProbe *p = g.loops[i];

		if (!p)
			continue;
		/* the loops get their own select and run_forever back */
		if (p->l.selector && p->l.orig_select && PyObject_DelAttr(p->l.selector, s_select))
			PyErr_Clear();
		if (p->l.selector && p->proxy &&
		    PyObject_SetAttr(p->l.selector, s_inner, ((PollProxy *)p->proxy)->inner))
			PyErr_Clear();
		if (p->orig_run_forever) {
			PyObject *loop = loop_of(&p->l);

			if (loop && PyObject_DelAttr(loop, s_run_forever))
				PyErr_Clear();
			Py_XDECREF(loop);
		}
		if (p->hb_handle) {
			PyObject *r = PyObject_CallMethodNoArgs(p->hb_handle, s_cancel);

			Py_XDECREF(r);
			PyErr_Clear();
		}
		loop_release(&p->l);
	}
	Py_RETURN_TRUE;
}

static PyObject *dict_of_event(const struct lps_event *e)
{
	struct lpi_cb_report c;
	struct cb_text t;

	describe(e, &c, &t);
	return Py_BuildValue(
	    "{s:s,s:z,s:z,s:i,s:z,s:z,s:z,s:K,s:K,s:d}", "watcher", lps_watcher_name(e->watcher),
	    "symbol", c.symbol, "module", c.module, "line", c.line, "task", c.task, "resumed_at",
	    c.resumed_at, "suspended_at", c.suspended_at, "start_ns",
	    (unsigned long long)e->start_ns, "end_ns", (unsigned long long)e->end_ns, "duration_ms",
	    e->end_ns > e->start_ns ? (double)(e->end_ns - e->start_ns) / 1e6 : 0.0);
}

/* recent(): the flight recorder of every loop, oldest first (for tests and debugging). */
static PyObject *recent(PyObject *mod, PyObject *unused)
{
	PyObject *list = PyList_New(0);
	int k;

	(void)mod;
	(void)unused;
	for (k = 0; list && k < MAX_LOOPS; k++) {
		struct pyp_loop *l = g.loops[k] ? &g.loops[k]->l : NULL;
		uint64_t i;

		if (!l)
			continue;
		for (i = l->head > l->mask + 1 ? l->head - l->mask - 1 : 0; i < l->head; i++) {
			PyObject *d = dict_of_event(&l->ring[i & l->mask]);

			if (!d || PyList_Append(list, d)) {
				Py_XDECREF(d);
				Py_CLEAR(list);
				break;
			}
			Py_DECREF(d);
		}
	}
	return list;
}

/* stats(): each live loop's counters as the region has them. */
static PyObject *stats(PyObject *mod, PyObject *unused)
{
	PyObject *list = PyList_New(0);
	int k;

	(void)mod;
	(void)unused;
	for (k = 0; list && k < MAX_LOOPS; k++) {
		struct pyp_loop *l = g.loops[k] ? &g.loops[k]->l : NULL;
		const struct lps_loop *s;
		PyObject *d;

		if (!l)
			continue;
		s = l->slot;
		d = Py_BuildValue(
		    "{s:K,s:K,s:K,s:K,s:K,s:d,s:d,s:d,s:K,s:i}", "iterations",
		    (unsigned long long)s->iterations, "callbacks",
		    (unsigned long long)l->n_callbacks, "awaits", (unsigned long long)s->awaits,
		    "stalls", (unsigned long long)s->stalls, "heartbeat_samples",
		    (unsigned long long)s->heartbeat_samples, "heartbeat_max_ms",
		    (double)s->heartbeat_max_ns / 1e6, "busy_ms", (double)s->busy_ns / 1e6,
		    "poll_ms", (double)s->poll_ns / 1e6, "tid", (unsigned long long)s->tid, "slot",
		    l->private_slot ? -1 : (int)((char *)s - (char *)g.region.base));
		if (!d || PyList_Append(list, d)) {
			Py_XDECREF(d);
			Py_CLEAR(list);
		}
		Py_XDECREF(d);
	}
	return list;
}

static PyObject *region_path(PyObject *mod, PyObject *unused)
{
	(void)mod;
	(void)unused;
	if (!g.region.base || !g.region.shared || !g.region.path[0])
		Py_RETURN_NONE;
	return PyUnicode_FromString(g.region.path);
}

/*
 * Standalone mode: stall_begin records while a stall lasts. The loop
 * thread is the one stalled, so another thread has to say it; this one
 * reads only the region (no GIL) and writes one line per stall.
 */
static void *reporter_main(void *arg)
{
	uint64_t said[MAX_LOOPS] = {0};
	char buf[1024];

	(void)arg;
	while (!__atomic_load_n(&g.reporter_stop, __ATOMIC_RELAXED) && !g.forked) {
		const struct lps_header *h = g.region.hdr;
		uint32_t i;

		for (i = 0; i < h->max_loops && i < MAX_LOOPS; i++) {
			const struct lps_loop *s = lpi_region_loop(&g.region, i);
			uint64_t start = __atomic_load_n(&s->busy_start_ns, __ATOMIC_ACQUIRE);
			uint64_t now = lpi_now();
			size_t len;

			if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != LPS_LOOP_LIVE ||
			    !start || said[i] == start || now < start ||
			    now - start < g.cfg.threshold_ns)
				continue;
			said[i] = start;
			len =
			    lpi_json_stall_begin(buf, sizeof(buf), (uint32_t)getpid(),
						 __atomic_load_n(&s->tid, __ATOMIC_RELAXED), g.comm,
						 unix_of(start), now - start, g.cfg.threshold_ns);
			if (len && write(g.out_fd, buf, len) < 0)
				break;
		}
		usleep(5000);
	}
	return NULL;
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
	if (g.reporter_running) {
		g.reporter_stop = true;
		pthread_join(g.reporter, NULL);
		g.reporter_running = false;
	}
	lpi_region_unlink(&g.region);
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
	if (g.reporter_running && !g.forked) {
		g.reporter_stop = true;
		pthread_join(g.reporter, NULL);
		g.reporter_running = false;
	}
	if (!g.forked)
		lpi_region_unlink(&g.region);
}

PyMODINIT_FUNC PyInit__probe(void)
{
#define INTERN(var, text)                                                                          \
	do {                                                                                       \
		if (!((var) = PyUnicode_InternFromString(text)))                                   \
			return NULL;                                                               \
	} while (0)
	INTERN(s_coro, "_coro");
	INTERN(s_selector, "_selector");
	INTERN(s_select, "select");
	INTERN(s_call_later, "call_later");
	INTERN(s_cancel, "cancel");
	INTERN(s_run_forever, "run_forever");
	INTERN(s_self, "__self__");
	INTERN(s_run, "run");
	INTERN(s_poll, "poll");
	INTERN(s_inner, "_selector");
#undef INTERN
	if (PyType_Ready(&LoopProbe_Type) < 0 || PyType_Ready(&PollProxy_Type) < 0)
		return NULL;
	return PyModule_Create(&module);
}
