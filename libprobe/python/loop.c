// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One asyncio loop as the probe sees it: attached at its first callback,
 * its poll timed (a proxy for the poll-like selector's _selector, else a
 * wrapped selector.select), its run_forever wrapped (a stopped loop is
 * neither busy nor polling), a heartbeat timer on it, and its busy periods
 * counted and logged as stalls in its region slot, as libev's libprobe
 * does (dispatch.c, heartbeat.c).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "clock.h"
#include "pyprobe.h"

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

static PyObject *s_selector, *s_select, *s_call_later, *s_cancel, *s_run_forever, *s_poll, *s_inner;
static __thread uint32_t tls_tid;
static PyTypeObject PollProxy_Type;

static uint32_t my_tid(void)
{
	if (!tls_tid)
		tls_tid = (uint32_t)syscall(SYS_gettid);
	return tls_tid;
}

static void busy_begin(struct pyp_loop *l, uint64_t now)
{
	lpi_period_begin(&l->busy, l->slot, l->head, l->n_callbacks, now);
}

static void record_stall(struct pyp_loop *l, uint64_t now, uint64_t callbacks)
{
	const struct lps_event *e = lpi_period_longest(&l->busy, l->ring, l->mask, l->head);

	lpi_period_stall(l->slot, &l->busy, now, callbacks, 0, e);
	if (e && e->end_ns - e->start_ns > l->cb_max_ns)
		l->cb_max_ns = e->end_ns - e->start_ns;
	if (pyp_g.out_fd >= 0)
		pyp_write_stall(l, e, now, callbacks);
}

/* The loop enters its poll (or stops running): its busy period ends. */
static void busy_end(struct pyp_loop *l, uint64_t now)
{
	uint64_t cbs;

	if (l->busy.start) {
		if (lpi_period_count(&l->busy, l->slot, l->n_callbacks, now, &cbs) >=
		    pyp_g.cfg.threshold_ns)
			record_stall(l, now, cbs);
		lpi_store(&l->slot->awaits, l->awaits);
		lpi_period_publish(l->slot, l->head, l->n_callbacks, l->cb_ns, l->cb_max_ns);
	}
	lpi_period_end(&l->busy, l->slot, now);
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
	uint64_t now = lpi_now(), late;

	(void)unused;
	if (l->gone || pyp_g.forked)
		Py_RETURN_NONE;
	late = now > l->hb_due ? now - l->hb_due : 0;
	lpi_heartbeat_count(l->slot, late);
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
	if (now >= pyp_g.calib_due) {
		pyp_g.calib_due = lpi_clock_tick(now);
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
	if (l->gone || pyp_g.forked)
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

	if (!l || l->gone || pyp_g.forked)
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

/* The references each of the module's types owns, by offset: the collector's to visit and clear. */
static const size_t proxy_refs[] = {
    offsetof(PollProxy, inner),
    offsetof(PollProxy, inner_poll),
    offsetof(PollProxy, poll_fn),
    offsetof(PollProxy, probe),
};

static const size_t loop_probe_refs[] = {
    offsetof(LoopProbe, l.selector), offsetof(LoopProbe, l.orig_select),
    offsetof(LoopProbe, l.hb_fn),    offsetof(LoopProbe, l.loop_ref),
    offsetof(LoopProbe, hb_handle),  offsetof(LoopProbe, orig_run_forever),
    offsetof(LoopProbe, proxy),
};

/* One list per type, which both of the collector's walks use: none is visited but not cleared. */
static const size_t *refs_of(PyObject *self, size_t *n)
{
	if (Py_TYPE(self) == &PollProxy_Type) {
		*n = Py_ARRAY_LENGTH(proxy_refs);
		return proxy_refs;
	}
	*n = Py_ARRAY_LENGTH(loop_probe_refs);
	return loop_probe_refs;
}

static int traverse_refs(PyObject *self, visitproc visit, void *arg)
{
	size_t i, n;
	const size_t *refs = refs_of(self, &n);

	for (i = 0; i < n; i++)
		Py_VISIT(*(PyObject **)((char *)self + refs[i]));
	return 0;
}

static int clear_refs(PyObject *self)
{
	size_t i, n;
	const size_t *refs = refs_of(self, &n);

	for (i = 0; i < n; i++)
		Py_CLEAR(*(PyObject **)((char *)self + refs[i]));
	return 0;
}

static void PollProxy_dealloc(PyObject *self)
{
	PyObject_GC_UnTrack(self);
	clear_refs(self);
	Py_TYPE(self)->tp_free(self);
}

static PyTypeObject PollProxy_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "loopstall_probe._probe.PollProxy",
    .tp_basicsize = sizeof(PollProxy),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_getattro = PollProxy_getattro,
    .tp_traverse = traverse_refs,
    .tp_clear = clear_refs,
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
	if (!l->gone && !pyp_g.forked) {
		now = lpi_now();
		l->hb_due = now + l->hb_interval_ns;
		heartbeat_schedule(p, now);
		busy_begin(l, now);
	}
	res = PyObject_Vectorcall(orig, stack, (size_t)(nargs + 1), NULL);
	Py_DECREF(orig);
	Py_DECREF(loop);
	if (!l->gone && !pyp_g.forked) {
		PyObject *exc_type, *exc, *tb, *r;

		PyErr_Fetch(&exc_type, &exc, &tb);
		busy_end(l, lpi_now());
		/* stopped: neither busy nor polling until it runs again */
		l->busy.poll_start = 0;
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

/* The loop is timed no more: readers see its slot gone. */
static void loop_forget(struct pyp_loop *l)
{
	if (l->slot && !l->gone) {
		__atomic_store_n(&l->slot->busy_start_ns, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&l->slot->state, LPS_LOOP_GONE, __ATOMIC_RELEASE);
	}
	l->gone = true;
	if (pyp_g.last == l)
		pyp_g.last = NULL;
}

static void loop_release(struct pyp_loop *l)
{
	int i;

	if (l->gone)
		return;
	loop_forget(l);
	for (i = 0; i < PYP_MAX_LOOPS; i++)
		if (pyp_g.loops[i] && &pyp_g.loops[i]->l == l)
			Py_CLEAR(pyp_g.loops[i]);
}

/* The loop was collected. */
static PyObject *loop_gone(PyObject *self, PyObject *ref)
{
	(void)ref;
	loop_release(&((LoopProbe *)self)->l);
	Py_RETURN_NONE;
}

static PyMethodDef loop_gone_def = {"_loopstall_loop_gone", loop_gone, METH_O, NULL};

static void LoopProbe_dealloc(PyObject *self)
{
	LoopProbe *p = (LoopProbe *)self;

	PyObject_GC_UnTrack(self);
	loop_forget(&p->l);
	clear_refs(self);
	free(p->l.private_slot);
	Py_TYPE(self)->tp_free(self);
}

PyTypeObject pyp_LoopProbe_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "loopstall_probe._probe.LoopProbe",
    .tp_basicsize = sizeof(LoopProbe),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_call = LoopProbe_call,
    .tp_traverse = traverse_refs,
    .tp_clear = clear_refs,
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
	const struct lps_header *h = pyp_g.region.hdr;
	int index;

	l->slot = lpi_region_bind(&pyp_g.region, (uintptr_t)loop, now, &index, &l->private_slot);
	if (!l->slot)
		return -ENOMEM;
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

	for (i = 0; i < PYP_MAX_LOOPS; i++) {
		if (pyp_g.loops[i] && pyp_g.loops[i]->l.loop == loop && !pyp_g.loops[i]->l.gone)
			return &pyp_g.loops[i]->l;
		if (!pyp_g.loops[i] && free_i < 0)
			free_i = i;
	}
	if (free_i < 0)
		return NULL;
	p = PyObject_GC_New(LoopProbe, &pyp_LoopProbe_Type);
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
	p->l.hb_interval_ns = pyp_g.cfg.heartbeat_ns;
	lpi_store(&p->l.slot->heartbeat_interval_ns, p->l.hb_interval_ns);
	p->l.hb_due = now + p->l.hb_interval_ns;
	heartbeat_schedule(p, now);
	pyp_g.loops[free_i] = p;
	busy_begin(&p->l, now);
	return &p->l;
}

struct pyp_loop *pyp_loop_find(PyObject *loop)
{
	struct pyp_loop *l = pyp_g.last;
	int i;

	if (l && l->loop == loop)
		return l;
	for (i = 0; i < PYP_MAX_LOOPS; i++) {
		if (pyp_g.loops[i] && pyp_g.loops[i]->l.loop == loop && !pyp_g.loops[i]->l.gone) {
			pyp_g.last = &pyp_g.loops[i]->l;
			return pyp_g.last;
		}
	}
	l = attach(loop);
	if (l)
		pyp_g.last = l;
	return l;
}

void pyp_loop_restore(LoopProbe *p)
{
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

int pyp_loop_init(void)
{
	static const struct pyp_name names[] = {
	    {&s_selector, "_selector"},	     {&s_select, "select"},
	    {&s_call_later, "call_later"},   {&s_cancel, "cancel"},
	    {&s_run_forever, "run_forever"}, {&s_poll, "poll"},
	    {&s_inner, "_selector"},
	};

	if (pyp_intern(names, Py_ARRAY_LENGTH(names)))
		return -1;
	return PyType_Ready(&pyp_LoopProbe_Type) < 0 || PyType_Ready(&PollProxy_Type) < 0 ? -1 : 0;
}
