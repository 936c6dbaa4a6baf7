// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Names for what the loop ran: every function, coroutine, "file:line" and
 * custom task name gets a small id the first time it is seen, and its text
 * goes into the region's symbol table under a version 2 key (lprobe_shm.h)
 * at once, so a reader finds it however long ago it was written. The table
 * holds a reference to each code object it numbered: an address it keys on
 * is never reused for other code. Both tables are bounded; past their size
 * new things run unnamed (id 0).
 */
#include "pyprobe.h"
#include <frameobject.h>
#include <stdio.h>
#include <string.h>
#include "symtab.h"

#define NAMES_SLOTS 16384u /* power of two */
#define NAMES_MAX (NAMES_SLOTS / 4 * 3)
#define ASYNCIO_DIR_MAX 512

struct name_ent {
	uintptr_t a; /* code object, method def, type; or a name's hash */
	uint32_t b;  /* line; or a name's length */
	uint8_t what;
	uint32_t id; /* 0: free */
	PyObject *ref;
};

static struct name_ent *tab;
static uint32_t used;
static uint32_t next_id[4];
static char asyncio_dir[ASYNCIO_DIR_MAX];
static size_t asyncio_dir_len;
static PyObject *s_cr_frame, *s_cr_await, *s_gi_frame, *s_gi_yieldfrom, *s_cr_code, *s_gi_code,
    *s_qualname, *s_get_name, *s_func, *s_co_filename, *s_co_firstlineno;
static PyObject *partial_type;

int pyp_names_init(void)
{
	static const struct pyp_name names[] = {
	    {&s_cr_frame, "cr_frame"},
	    {&s_cr_await, "cr_await"},
	    {&s_gi_frame, "gi_frame"},
	    {&s_gi_yieldfrom, "gi_yieldfrom"},
	    {&s_cr_code, "cr_code"},
	    {&s_gi_code, "gi_code"},
	    {&s_qualname, "__qualname__"},
	    {&s_get_name, "get_name"},
	    {&s_func, "func"},
	    {&s_co_filename, "co_filename"},
	    {&s_co_firstlineno, "co_firstlineno"},
	};
	PyObject *functools;

	if (!tab) {
		tab = PyMem_RawCalloc(NAMES_SLOTS, sizeof(*tab));
		if (!tab) {
			PyErr_NoMemory();
			return -1;
		}
	}
	if (pyp_intern(names, Py_ARRAY_LENGTH(names)))
		return -1;
	if (!partial_type) {
		functools = PyImport_ImportModule("functools");
		if (!functools)
			return -1;
		partial_type = PyObject_GetAttrString(functools, "partial");
		Py_DECREF(functools);
		if (!partial_type)
			return -1;
	}
	return 0;
}

void pyp_names_set_asyncio_dir(const char *dir)
{
	size_t n = strlen(dir);

	if (n >= sizeof(asyncio_dir))
		n = 0;
	memcpy(asyncio_dir, dir, n);
	asyncio_dir[n] = '\0';
	asyncio_dir_len = n;
}

static uint32_t hash(uintptr_t a, uint32_t b, uint8_t what)
{
	uint64_t h = ((uint64_t)a * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)b << 8 | what);

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(h >> 32) & (NAMES_SLOTS - 1);
}

/* The entry of (a, b, what), or the free slot where it goes; NULL when the table is full. */
static struct name_ent *find(uintptr_t a, uint32_t b, uint8_t what)
{
	uint32_t i = hash(a, b, what), k;

	for (k = 0; k < NAMES_SLOTS; k++, i = (i + 1) & (NAMES_SLOTS - 1)) {
		struct name_ent *e = &tab[i];

		if (!e->id || (e->a == a && e->b == b && e->what == what))
			return e;
	}
	return NULL;
}

/* Number a new entry and publish its texts; 0 when the table is full. */
static uint32_t add(struct name_ent *e, uintptr_t a, uint32_t b, uint8_t what, PyObject *ref,
		    const char *name, const char *module)
{
	struct lpi_region *r = pyp_region();

	if (!e || used >= NAMES_MAX)
		return 0;
	e->a = a;
	e->b = b;
	e->what = what;
	e->id = ++next_id[what];
	Py_XINCREF(ref);
	e->ref = ref;
	used++;
	if (r && r->base)
		lpi_symtab_add(r, LPS_PY_KEY(what, e->id), name, module, 0);
	return e->id;
}

void pyp_names_clear(void)
{
	uint32_t i;

	if (!tab)
		return;
	for (i = 0; i < NAMES_SLOTS; i++)
		Py_CLEAR(tab[i].ref);
	memset(tab, 0, NAMES_SLOTS * sizeof(*tab));
	used = 0;
	memset(next_id, 0, sizeof(next_id));
}

static const char *utf8(PyObject *s)
{
	const char *t = s && PyUnicode_Check(s) ? PyUnicode_AsUTF8(s) : NULL;

	if (!t)
		PyErr_Clear();
	return t;
}

/* "file:line" of a code object's definition into buf. */
static void code_where(PyObject *code, char *buf, size_t len)
{
	PyObject *file = PyObject_GetAttr(code, s_co_filename);
	PyObject *line = PyObject_GetAttr(code, s_co_firstlineno);
	const char *f = utf8(file);
	long n = line && PyLong_Check(line) ? PyLong_AsLong(line) : 0;

	PyErr_Clear();
	snprintf(buf, len, "%s:%ld", f ? f : "?", n);
	Py_XDECREF(file);
	Py_XDECREF(line);
}

/* Id of a code object, named name (an object's __qualname__, or text when that has none). */
static uint32_t code_id(PyObject *code, PyObject *named, const char *text)
{
	struct name_ent *e = find((uintptr_t)code, 0, LPS_PY_CODE);
	char where[ASYNCIO_DIR_MAX + 32], fallback[256];
	PyObject *qn;
	const char *name;
	uint32_t id;

	if (e && e->id)
		return e->id;
	qn = named ? PyObject_GetAttr(named, s_qualname) : NULL;
	name = utf8(qn);
	if (!name && named) {
		snprintf(fallback, sizeof(fallback), "%s", Py_TYPE(named)->tp_name);
		name = fallback;
	}
	if (!name)
		name = text;
	if (PyCode_Check(code))
		code_where(code, where, sizeof(where));
	else
		snprintf(where, sizeof(where), "<builtin>:0");
	id = add(e, (uintptr_t)code, 0, LPS_PY_CODE, code, name, where);
	Py_XDECREF(qn);
	return id;
}

uint32_t pyp_callable_id(PyObject *cb)
{
	PyObject *f = cb, *held = NULL;
	uint32_t id = 0;
	int depth;

	/* down to the function a bound method or a functools.partial calls */
	for (depth = 0; depth < 4; depth++) {
		PyObject *inner;

		if (PyMethod_Check(f)) {
			f = PyMethod_GET_FUNCTION(f);
			continue;
		}
		if (!PyObject_TypeCheck(f, (PyTypeObject *)partial_type))
			break;
		inner = PyObject_GetAttr(f, s_func);
		if (!inner) {
			PyErr_Clear();
			break;
		}
		Py_XSETREF(held, inner);
		f = inner;
	}
	if (PyFunction_Check(f)) {
		id = code_id(PyFunction_GET_CODE(f), f, NULL);
	} else if (PyCFunction_Check(f)) {
		/* a builtin's method table lives as long as its module: its address is its key */
		PyMethodDef *ml = ((PyCFunctionObject *)f)->m_ml;
		struct name_ent *e = find((uintptr_t)ml, 0, LPS_PY_CODE);

		if (e && e->id) {
			id = e->id;
		} else {
			PyObject *qn = PyObject_GetAttr(f, s_qualname);
			const char *name = utf8(qn);

			id = add(e, (uintptr_t)ml, 0, LPS_PY_CODE, NULL, name ? name : ml->ml_name,
				 "<builtin>:0");
			Py_XDECREF(qn);
		}
	} else {
		/* any other callable: named by its type */
		id = code_id((PyObject *)Py_TYPE(f), (PyObject *)Py_TYPE(f), NULL);
	}
	Py_XDECREF(held);
	return id;
}

uint32_t pyp_coro_id(PyObject *coro)
{
	PyObject *code = PyObject_GetAttr(coro, PyCoro_CheckExact(coro) ? s_cr_code : s_gi_code);
	uint32_t id;

	if (!code) {
		PyErr_Clear();
		return code_id((PyObject *)Py_TYPE(coro), (PyObject *)Py_TYPE(coro), NULL);
	}
	id = code_id(code, coro, NULL);
	Py_DECREF(code);
	return id;
}

static bool in_asyncio(PyCodeObject *code)
{
	Py_ssize_t n;
	const char *f;

	if (!asyncio_dir_len)
		return false;
	f = PyUnicode_AsUTF8AndSize(code->co_filename, &n);
	if (!f) {
		PyErr_Clear();
		return false;
	}
	return (size_t)n > asyncio_dir_len && !memcmp(f, asyncio_dir, asyncio_dir_len);
}

static uint32_t loc_id(PyCodeObject *code, int line)
{
	struct name_ent *e = find((uintptr_t)code, (uint32_t)line, LPS_PY_LOC);
	char where[ASYNCIO_DIR_MAX + 32];
	PyObject *qn;
	const char *f, *name;
	uint32_t id;

	if (e && e->id)
		return e->id;
	f = utf8(code->co_filename);
	snprintf(where, sizeof(where), "%s:%d", f ? f : "?", line);
	/* the function the line is in, as the entry's module: a reader may show it */
	qn = PyObject_GetAttrString((PyObject *)code, "co_name");
	name = utf8(qn);
	id = add(e, (uintptr_t)code, (uint32_t)line, LPS_PY_LOC, (PyObject *)code, where, name);
	Py_XDECREF(qn);
	return id;
}

uint32_t pyp_await_loc(PyObject *coro)
{
	PyObject *obj = coro, *best = NULL;
	PyCodeObject *code;
	uint32_t id = 0;
	int depth;

	Py_INCREF(obj);
	/*
	 * Outermost first, down to the first frame of asyncio's own (sleep,
	 * wait_for, a Future's __await__): the frame above it is where the
	 * program awaits. A task that runs asyncio's code itself is named by it.
	 */
	for (depth = 0; depth < 32; depth++) {
		PyObject *frame, *next;
		bool coro_ = PyCoro_CheckExact(obj), theirs;

		if (!coro_ && !PyGen_Check(obj))
			break;
		frame = PyObject_GetAttr(obj, coro_ ? s_cr_frame : s_gi_frame);
		if (!frame || !PyFrame_Check(frame)) {
			Py_XDECREF(frame);
			break;
		}
		code = PyFrame_GetCode((PyFrameObject *)frame);
		theirs = in_asyncio(code);
		Py_DECREF(code);
		if (theirs && best) {
			Py_DECREF(frame);
			break;
		}
		Py_XSETREF(best, frame);
		if (theirs)
			break;
		next = PyObject_GetAttr(obj, coro_ ? s_cr_await : s_gi_yieldfrom);
		Py_DECREF(obj);
		obj = next;
		if (!obj || obj == Py_None)
			break;
	}
	Py_XDECREF(obj);
	PyErr_Clear();
	/* the line of the frame chosen only: it costs a walk of the code's line table */
	if (best) {
		code = PyFrame_GetCode((PyFrameObject *)best);
		id = loc_id(code, PyFrame_GetLineNumber((PyFrameObject *)best));
		Py_DECREF(code);
		Py_DECREF(best);
	}
	return id;
}

uint64_t pyp_task_name(PyObject *task)
{
	PyObject *name = PyObject_CallMethodNoArgs(task, s_get_name);
	struct name_ent *e;
	Py_ssize_t n = 0, i;
	const char *s;
	uint64_t num = 0, h = 0xcbf29ce484222325ull;
	uint32_t id;

	s = name && PyUnicode_Check(name) ? PyUnicode_AsUTF8AndSize(name, &n) : NULL;
	if (!s) {
		PyErr_Clear();
		Py_XDECREF(name);
		return LPS_PY_KEY(LPS_PY_NAME, 0);
	}
	/* asyncio's own names, "Task-N", are numbers: no entry per task */
	if (n > 5 && n <= 5 + 18 && !memcmp(s, "Task-", 5)) {
		for (i = 5; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			num = num * 10 + (uint64_t)(s[i] - '0');
		if (i == n && s[5] != '0') {
			Py_DECREF(name);
			return LPS_PY_TASK_NUM | num;
		}
	}
	/* any other name by its text (FNV-1a): tasks that share a name share the entry */
	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	e = find((uintptr_t)h, (uint32_t)n, LPS_PY_NAME);
	id = e && e->id ? e->id : add(e, (uintptr_t)h, (uint32_t)n, LPS_PY_NAME, NULL, s, NULL);
	Py_DECREF(name);
	return LPS_PY_KEY(LPS_PY_NAME, id);
}

const char *pyp_key_text(uint64_t key, bool module, char *buf, size_t len)
{
	struct lpi_region *r = pyp_region();
	struct lps_sym *e;
	bool found;

	if (key & LPS_PY_TASK_NUM) {
		if (module)
			return NULL;
		snprintf(buf, len, "Task-%llu", (unsigned long long)(key & ~LPS_PY_TASK_NUM));
		return buf;
	}
	if (!r || !r->base || !(key & 0xffffffffull))
		return NULL;
	e = lpi_symtab_find(r, key, &found);
	return found ? lpi_symtab_text(r, e, module, buf, len) : NULL;
}

int pyp_intern(const struct pyp_name *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!*names[i].var && !(*names[i].var = PyUnicode_InternFromString(names[i].text)))
			return -1;
	return 0;
}
