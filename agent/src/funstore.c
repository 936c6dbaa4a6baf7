// SPDX-License-Identifier: BSD-2-Clause
/* A module's symbolizer caches as one buffer, and back (funstore.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "funstore.h"
#include "grow.h"

#define VERSION 1
#define MAX_ID 64
/* a symbol or path longer than this is no real one */
#define MAX_STR 65536

static const char magic[8] = "LSFUNCS";

struct header {
	char magic[8];
	uint32_t version;
	uint32_t id_len;
	uint32_t n_symtab;
	uint32_t pad;
	uint64_t body_len;
	uint64_t body_hash;
};

_Static_assert(sizeof(struct header) == 40, "the header is laid out as written");

/*
 * The body's checksum, 8 bytes a step (a byte-wise FNV-1a costs ~0.5 ms
 * on python3's store, on the first stall's path): a changed or moved byte
 * changes it; it is no defence against a forger, whom the cache
 * directory's owner and mode keep out.
 */
uint64_t ls_funstore_body_hash(const void *body, size_t len)
{
	const uint8_t *p = body;
	uint64_t h = 14695981039346656037ull ^ len, w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	for (; len; p++, len--)
		h = (h ^ *p) * 0x100000001b3ull;
	return h ^ (h >> 32);
}

/* Pointers to small indexes (1-based: 0 is "none"), for strings and functions. */
struct ptrix {
	const void **keys;
	unsigned *vals;
	size_t cap;
	const void **order; /* by index - 1 */
	size_t n, order_cap;
};

static size_t slot(const struct ptrix *x, const void *p)
{
	return (size_t)(((uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull) >> 20) & (x->cap - 1);
}

static int ptrix_grow(struct ptrix *x)
{
	size_t cap = x->cap ? 2 * x->cap : 256, i, j;
	const void **keys = calloc(cap, sizeof(*keys));
	unsigned *vals = calloc(cap, sizeof(*vals));

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (i = 0; i < x->cap; i++) {
		if (!x->keys[i])
			continue;
		for (j = (size_t)(((uint64_t)(uintptr_t)x->keys[i] * 0x9e3779b97f4a7c15ull) >> 20) &
			 (cap - 1);
		     keys[j]; j = (j + 1) & (cap - 1))
			;
		keys[j] = x->keys[i];
		vals[j] = x->vals[i];
	}
	free(x->keys);
	free(x->vals);
	x->keys = keys;
	x->vals = vals;
	x->cap = cap;
	return 0;
}

/* p's index, given one when it has none yet; 0 for NULL, -ENOMEM. */
static long ptrix_get(struct ptrix *x, const void *p)
{
	void *grown;
	size_t i;

	if (!p)
		return 0;
	if ((x->n + 1) * 2 > x->cap && ptrix_grow(x))
		return -ENOMEM;
	for (i = slot(x, p); x->keys[i]; i = (i + 1) & (x->cap - 1))
		if (x->keys[i] == p)
			return x->vals[i];
	grown = ls_grow(x->order, &x->order_cap, x->n + 1, sizeof(*x->order), 256);
	if (!grown)
		return -ENOMEM;
	x->order = grown;
	x->order[x->n++] = p;
	x->keys[i] = p;
	x->vals[i] = (unsigned)x->n;
	return (long)x->n;
}

static void ptrix_free(struct ptrix *x)
{
	free(x->keys);
	free(x->vals);
	free(x->order);
}

struct wbuf {
	uint8_t *p;
	size_t n, cap;
	int err;
};

static void put(struct wbuf *w, const void *data, size_t len)
{
	void *grown;

	if (w->err)
		return;
	if (len > LS_FUNSTORE_MAX - w->n) {
		w->err = -E2BIG;
		return;
	}
	grown = ls_grow(w->p, &w->cap, w->n + len, 1, 65536);
	if (!grown) {
		w->err = -ENOMEM;
		return;
	}
	w->p = grown;
	memcpy(w->p + w->n, data, len);
	w->n += len;
}

static void put_u8(struct wbuf *w, uint8_t v)
{
	put(w, &v, sizeof(v));
}

static void put_u32(struct wbuf *w, uint32_t v)
{
	put(w, &v, sizeof(v));
}

static void put_u64(struct wbuf *w, uint64_t v)
{
	put(w, &v, sizeof(v));
}

struct franges {
	uint64_t lo, hi;
	unsigned func; /* index in the function ptrix */
};

/* One map's functions, each once, with the ranges that lead to it. */
struct flist {
	struct ptrix funcs;
	struct franges *fr;
	size_t n_fr, cap_fr;
};

struct collect {
	struct ptrix strs;
	struct flist lists[2], *cur; /* funcs, bare */
	size_t n_syms;
	int err;
};

static int str_ref(struct collect *c, const char *s)
{
	long i = ptrix_get(&c->strs, s);

	if (i < 0 || (s && strlen(s) > MAX_STR))
		c->err = i < 0 ? (int)i : -E2BIG;
	return i < 0 ? 0 : (int)i;
}

static int collect_sym(void *ctx, uint64_t lo, uint64_t hi, void *value)
{
	struct collect *c = ctx;

	(void)lo, (void)hi;
	str_ref(c, value);
	c->n_syms++;
	return c->err;
}

static int collect_func(void *ctx, uint64_t lo, uint64_t hi, void *value)
{
	struct collect *c = ctx;
	struct flist *l = c->cur;
	const struct ls_func *f = value;
	long idx = ptrix_get(&l->funcs, f);
	struct franges *grown;
	unsigned i;

	if (idx < 0)
		return c->err = (int)idx;
	grown = ls_grow(l->fr, &l->cap_fr, l->n_fr + 1, sizeof(*l->fr), 256);
	if (!grown)
		return c->err = -ENOMEM;
	l->fr = grown;
	l->fr[l->n_fr++] = (struct franges){.lo = lo, .hi = hi, .func = (unsigned)idx};
	if ((size_t)idx != l->funcs.n)
		return 0;
	/* first seen: its strings */
	str_ref(c, f->symbol);
	for (i = 0; i < f->n_inst; i++) {
		str_ref(c, f->inst[i].symbol);
		str_ref(c, f->inst[i].call_file);
	}
	for (i = 0; i < f->n_rows; i++)
		str_ref(c, f->rows[i].file);
	return c->err;
}

static int by_func(const void *a, const void *b)
{
	const struct franges *x = a, *y = b;

	if (x->func != y->func)
		return x->func < y->func ? -1 : 1;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

struct emit {
	struct wbuf *w;
	struct collect *c;
};

static int emit_sym(void *ctx, uint64_t lo, uint64_t hi, void *value)
{
	struct emit *e = ctx;

	put_u64(e->w, lo);
	put_u64(e->w, hi);
	put_u32(e->w, (uint32_t)str_ref(e->c, value));
	return e->w->err;
}

static uint32_t ref(struct collect *c, const char *s)
{
	return (uint32_t)str_ref(c, s);
}

static void emit_func(struct wbuf *w, struct collect *c, const struct ls_func *f,
		      const struct franges *fr, size_t n_fr)
{
	unsigned i, k;
	size_t j;

	put_u32(w, ref(c, f->symbol));
	put_u8(w, f->lines);
	put_u32(w, f->n_inst);
	for (i = 0; i < f->n_inst; i++) {
		const struct ls_inl *in = &f->inst[i];

		put_u32(w, (uint32_t)in->parent);
		put_u32(w, ref(c, in->symbol));
		put_u32(w, ref(c, in->call_file));
		put_u32(w, (uint32_t)in->call_line);
		put_u32(w, in->n_ranges);
		for (k = in->range0; k < in->range0 + in->n_ranges; k++) {
			put_u64(w, f->ranges[k].lo);
			put_u64(w, f->ranges[k].hi);
		}
	}
	put_u32(w, f->n_rows);
	for (i = 0; i < f->n_rows; i++) {
		put_u64(w, f->rows[i].addr);
		put_u32(w, ref(c, f->rows[i].file));
		put_u32(w, (uint32_t)f->rows[i].line);
		put_u8(w, f->rows[i].end_sequence);
	}
	put_u32(w, (uint32_t)n_fr);
	for (j = 0; j < n_fr; j++) {
		put_u64(w, fr[j].lo);
		put_u64(w, fr[j].hi);
	}
}

static void emit_list(struct wbuf *w, struct collect *c, struct flist *l)
{
	size_t i, j;

	/* no ranges: fr may be NULL, which qsort must not be given even for none */
	if (l->n_fr)
		qsort(l->fr, l->n_fr, sizeof(*l->fr), by_func);
	put_u32(w, (uint32_t)l->funcs.n);
	for (i = 0, j = 0; i < l->funcs.n; i++) {
		size_t first = j;

		while (j < l->n_fr && l->fr[j].func == i + 1)
			j++;
		emit_func(w, c, l->funcs.order[i], &l->fr[first], j - first);
	}
}

int ls_funstore_encode(const struct ls_funstore_maps *maps, uint64_t key, const unsigned char *id,
		       size_t id_len, uint32_t n_symtab, void **buf, size_t *len)
{
	struct collect c = {0};
	struct wbuf w = {0};
	struct header h = {0};
	struct emit e = {.w = &w, .c = &c};
	size_t i;
	int err;

	*buf = NULL;
	*len = 0;
	if (!id_len || id_len > MAX_ID)
		return -EINVAL;
	/* the strings and functions first: the tables come before what refers to them */
	ls_rangemap__each(maps->elf_syms, key, collect_sym, &c);
	c.cur = &c.lists[0];
	if (!c.err)
		ls_rangemap__each(maps->funcs, key, collect_func, &c);
	c.cur = &c.lists[1];
	if (!c.err)
		ls_rangemap__each(maps->bare, key, collect_func, &c);
	err = c.err;
	if (err)
		goto cleanup;
	put(&w, &h, sizeof(h));
	put(&w, id, id_len);
	put_u32(&w, (uint32_t)c.strs.n);
	for (i = 0; i < c.strs.n; i++) {
		const char *s = c.strs.order[i];
		size_t n = strlen(s);

		put_u32(&w, (uint32_t)n);
		put(&w, s, n + 1);
	}
	put_u32(&w, (uint32_t)c.n_syms);
	ls_rangemap__each(maps->elf_syms, key, emit_sym, &e);
	emit_list(&w, &c, &c.lists[0]);
	emit_list(&w, &c, &c.lists[1]);
	err = w.err ? w.err : c.err;
	if (err)
		goto cleanup;
	memcpy(h.magic, magic, sizeof(h.magic));
	h.version = VERSION;
	h.id_len = (uint32_t)id_len;
	h.n_symtab = n_symtab;
	h.body_len = w.n - sizeof(h) - id_len;
	h.body_hash = ls_funstore_body_hash(w.p + sizeof(h) + id_len, h.body_len);
	memcpy(w.p, &h, sizeof(h));
	*buf = w.p;
	*len = w.n;
	w.p = NULL;
cleanup:
	free(w.p);
	for (i = 0; i < 2; i++) {
		free(c.lists[i].fr);
		ptrix_free(&c.lists[i].funcs);
	}
	ptrix_free(&c.strs);
	return err;
}

struct rbuf {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static void get(struct rbuf *r, void *out, size_t len)
{
	if (r->bad || len > r->left) {
		r->bad = true;
		memset(out, 0, len);
		return;
	}
	memcpy(out, r->p, len);
	r->p += len;
	r->left -= len;
}

static uint8_t get_u8(struct rbuf *r)
{
	uint8_t v;

	get(r, &v, sizeof(v));
	return v;
}

static uint32_t get_u32(struct rbuf *r)
{
	uint32_t v;

	get(r, &v, sizeof(v));
	return v;
}

static uint64_t get_u64(struct rbuf *r)
{
	uint64_t v;

	get(r, &v, sizeof(v));
	return v;
}

/* A count of items of at least `each` bytes: never more than the bytes left can hold. */
static uint32_t get_count(struct rbuf *r, size_t each)
{
	uint32_t n = get_u32(r);

	if (n > r->left / each)
		r->bad = true;
	return r->bad ? 0 : n;
}

struct strings {
	const char **raw; /* in the buffer, NUL-terminated, checked */
	const char **interned;
	uint32_t n;
	const struct ls_funstore_sink *sink;
	bool bad;
};

/* String ref i (1-based, 0: NULL), interned on first use. */
static const char *string(struct strings *s, uint32_t i)
{
	if (!i)
		return NULL;
	if (i > s->n) {
		s->bad = true;
		return NULL;
	}
	if (!s->interned[i - 1]) {
		s->interned[i - 1] = s->sink->intern(s->sink->ctx, s->raw[i - 1]);
		if (!s->interned[i - 1])
			s->bad = true;
	}
	return s->interned[i - 1];
}

static int read_strings(struct rbuf *r, struct strings *s)
{
	uint32_t i;

	/* a length and a NUL at least */
	s->n = get_count(r, 5);
	s->raw = calloc(s->n ? s->n : 1, sizeof(*s->raw));
	s->interned = calloc(s->n ? s->n : 1, sizeof(*s->interned));
	if (!s->raw || !s->interned)
		return -ENOMEM;
	for (i = 0; i < s->n && !r->bad; i++) {
		uint32_t len = get_u32(r);

		if (r->bad || len > MAX_STR || len >= r->left || r->p[len] ||
		    memchr(r->p, 0, len)) {
			r->bad = true;
			break;
		}
		s->raw[i] = (const char *)r->p;
		r->p += len + 1;
		r->left -= len + 1;
	}
	return 0;
}

static int read_func(struct rbuf *r, struct strings *s, struct ls_func *f, struct ls_rangemap *tf)
{
	uint32_t n_inst, n_rows, n_fr, i, k;
	int err;

	f->lines = get_u8(r) != 0;
	n_inst = get_count(r, 20);
	for (i = 0; i < n_inst && !r->bad; i++) {
		int32_t parent = (int32_t)get_u32(r);
		const char *sym = string(s, get_u32(r));
		const char *file = string(s, get_u32(r));
		int32_t line = (int32_t)get_u32(r);
		uint32_t n_ranges = get_count(r, 16);
		int me;

		if (r->bad || s->bad)
			return -EINVAL;
		me = ls_func__add_inst(f, parent, sym, file, line);
		if (me < 0)
			return me == -ENOMEM ? me : -EINVAL;
		for (k = 0; k < n_ranges; k++) {
			uint64_t lo = get_u64(r), hi = get_u64(r);

			if (r->bad)
				return -EINVAL;
			if ((err = ls_func__add_range(f, (unsigned)me, lo, hi)))
				return err == -ENOMEM ? err : -EINVAL;
		}
	}
	n_rows = get_count(r, 17);
	for (i = 0; i < n_rows && !r->bad; i++) {
		uint64_t addr = get_u64(r);
		const char *file = string(s, get_u32(r));
		int32_t line = (int32_t)get_u32(r);
		uint8_t endseq = get_u8(r);

		if (r->bad || s->bad || endseq > 1)
			return -EINVAL;
		if ((err = ls_func__add_row(f, addr, file, line, endseq)))
			return err == -ENOMEM ? err : -EINVAL;
	}
	n_fr = get_count(r, 16);
	/* a function no address leads to is no function of the store */
	if (r->bad || !n_fr)
		return -EINVAL;
	for (i = 0; i < n_fr; i++) {
		uint64_t lo = get_u64(r), hi = get_u64(r);

		if (r->bad)
			return -EINVAL;
		/* stored functions never overlap: a file where they do is wrong */
		if ((err = ls_rangemap__add(tf, 0, lo, hi, f)))
			return err == -ENOMEM ? err : -EINVAL;
	}
	return 0;
}

struct merge {
	struct ls_rangemap *to;
	uint64_t key;
};

static int merge_one(void *ctx, uint64_t lo, uint64_t hi, void *value)
{
	struct merge *m = ctx;
	int err = ls_rangemap__add(m->to, m->key, lo, hi, value);

	/* what this run learned already stays */
	return err == -EEXIST ? 0 : err;
}

/* One list of functions into tf; each one made goes to made[] (room for the bytes left). */
static int read_list(struct rbuf *r, struct strings *s, struct ls_rangemap *tf,
		     struct ls_func **made, size_t *n_made, size_t cap)
{
	/* a symbol, a flag and three counts */
	uint32_t n = get_count(r, 17), i;
	int err;

	for (i = 0; i < n && !r->bad; i++) {
		const char *sym = string(s, get_u32(r));

		if (r->bad || s->bad || *n_made == cap)
			return -EINVAL;
		made[*n_made] = ls_func__new(sym);
		if (!made[*n_made])
			return -ENOMEM;
		if ((err = read_func(r, s, made[(*n_made)++], tf)))
			return err;
	}
	return r->bad ? -EINVAL : 0;
}

int ls_funstore_decode(const void *buf, size_t len, const unsigned char *id, size_t id_len,
		       uint32_t n_symtab, uint64_t key, const struct ls_funstore_maps *maps,
		       const struct ls_funstore_sink *sink)
{
	struct rbuf r = {.p = buf, .left = len};
	struct strings s = {.sink = sink};
	struct ls_rangemap *ts = ls_rangemap__new(), *tf = ls_rangemap__new();
	struct ls_rangemap *tb = ls_rangemap__new();
	struct ls_func **made = NULL;
	uint32_t n_syms, i;
	size_t n_made = 0, cap;
	struct header h;
	struct merge m;
	int err = -EINVAL;

	if (!ts || !tf || !tb) {
		err = -ENOMEM;
		goto cleanup;
	}
	get(&r, &h, sizeof(h));
	if (r.bad || memcmp(h.magic, magic, sizeof(magic)) || h.version != VERSION || h.pad ||
	    h.id_len != id_len || h.n_symtab != n_symtab || h.id_len > r.left ||
	    memcmp(r.p, id, id_len))
		goto cleanup;
	r.p += id_len;
	r.left -= id_len;
	if (h.body_len != r.left || ls_funstore_body_hash(r.p, r.left) != h.body_hash)
		goto cleanup;
	if ((err = read_strings(&r, &s)))
		goto cleanup;
	err = -EINVAL;
	n_syms = get_count(&r, 20);
	for (i = 0; i < n_syms && !r.bad; i++) {
		uint64_t lo = get_u64(&r), hi = get_u64(&r);
		uint32_t str = get_u32(&r);
		const char *name = str ? string(&s, str) : NULL;

		if (r.bad || s.bad || !name)
			goto cleanup;
		if ((err = ls_rangemap__add(ts, 0, lo, hi, (void *)name))) {
			err = err == -ENOMEM ? err : -EINVAL;
			goto cleanup;
		}
		err = -EINVAL;
	}
	if (r.bad)
		goto cleanup;
	/* no more functions than the bytes left could describe (17 bytes at least each) */
	cap = r.left / 17 + 1;
	made = calloc(cap, sizeof(*made));
	if (!made) {
		err = -ENOMEM;
		goto cleanup;
	}
	if ((err = read_list(&r, &s, tf, made, &n_made, cap)) ||
	    (err = read_list(&r, &s, tb, made, &n_made, cap)))
		goto cleanup;
	err = -EINVAL;
	if (r.bad || s.bad || r.left)
		goto cleanup;
	/* whole and sound: the functions are the caller's, then the ranges its maps' */
	for (; n_made; n_made--) {
		if ((err = sink->adopt(sink->ctx, made[n_made - 1])))
			goto cleanup;
	}
	m = (struct merge){.to = maps->elf_syms, .key = key};
	err = ls_rangemap__each(ts, 0, merge_one, &m);
	m.to = maps->funcs;
	if (!err)
		err = ls_rangemap__each(tf, 0, merge_one, &m);
	m.to = maps->bare;
	if (!err)
		err = ls_rangemap__each(tb, 0, merge_one, &m);
cleanup:
	for (i = 0; i < n_made; i++)
		ls_func__free(made[i]);
	free(made);
	free(s.raw);
	free(s.interned);
	ls_rangemap__free(ts);
	ls_rangemap__free(tf);
	ls_rangemap__free(tb);
	return err;
}
