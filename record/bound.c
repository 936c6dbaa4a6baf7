// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "bound.h"
#include "grow.h"
#include "jsonout.h"

/*
 * Strings are first cut to STR_LONG bytes, or an eighth of the bound if
 * less (before any entry is dropped: no advice or path needs more), at last
 * to STR_FLOOR (a container_id, 64, is never cut).
 */
#define STR_LONG 1024
#define STR_FLOOR 64
/* What a cut string ends with: U+2026 HORIZONTAL ELLIPSIS */
#define CUT_MARK "\xe2\x80\xa6"

struct ls_bound {
	size_t limit; /* longest line, its newline not counted */
	/* ids of the stacks written to the current file: open addressing, 0 = free */
	uint64_t *seen;
	size_t n_seen, cap_seen;
};

int ls_bound__new(size_t max_line, struct ls_bound **out)
{
	struct ls_bound *b;

	if (max_line < LS_BOUND_MIN)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->limit = max_line - 1;
	*out = b;
	return 0;
}

void ls_bound__free(struct ls_bound *b)
{
	if (!b)
		return;
	free(b->seen);
	free(b);
}

size_t ls_bound__max_line(const struct ls_bound *b)
{
	return b->limit + 1;
}

void ls_bound__forget(struct ls_bound *b)
{
	if (b->seen)
		memset(b->seen, 0, b->cap_seen * sizeof(*b->seen));
	b->n_seen = 0;
}

static bool seen_has(const struct ls_bound *b, uint64_t id)
{
	size_t i;

	if (!b->cap_seen)
		return false;
	for (i = id & (b->cap_seen - 1); b->seen[i]; i = (i + 1) & (b->cap_seen - 1))
		if (b->seen[i] == id)
			return true;
	return false;
}

static void seen_put(uint64_t *tab, size_t cap, uint64_t id)
{
	size_t i;

	for (i = id & (cap - 1); tab[i] && tab[i] != id; i = (i + 1) & (cap - 1))
		;
	tab[i] = id;
}

static int seen_add(struct ls_bound *b, uint64_t id)
{
	size_t i, cap;
	uint64_t *tab;

	if (seen_has(b, id))
		return 0;
	/* at most half full, so a probe always ends */
	if (2 * (b->n_seen + 1) > b->cap_seen) {
		cap = b->cap_seen ? 2 * b->cap_seen : 64;
		tab = calloc(cap, sizeof(*tab));
		if (!tab)
			return -ENOMEM;
		for (i = 0; i < b->cap_seen; i++)
			if (b->seen[i])
				seen_put(tab, cap, b->seen[i]);
		free(b->seen);
		b->seen = tab;
		b->cap_seen = cap;
	}
	seen_put(b->seen, b->cap_seen, id);
	b->n_seen++;
	return 0;
}

void ls_lines__clear(struct ls_lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->line[i]);
	free(l->line);
	memset(l, 0, sizeof(*l));
}

static int lines_push(struct ls_lines *l, char *line)
{
	char **grown = ls_grow(l->line, &l->cap, l->n + 1, sizeof(*l->line), 8);

	if (!grown)
		return -ENOMEM;
	l->line = grown;
	l->line[l->n++] = line;
	l->bytes += strlen(line) + 1;
	return 0;
}

/*
 * cJSON keeps numbers as doubles: a ns timestamp printed again would lose
 * its last digits. The number tokens of the text, in order, become raw items
 * holding their own text, which prints back byte for byte.
 */
static const char *next_number(const char *p, size_t *len)
{
	while (*p) {
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p)
				p++;
		} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			const char *s = p;

			while (*p && strchr("+-.0123456789eE", *p))
				p++;
			*len = (size_t)(p - s);
			return s;
		} else {
			p++;
		}
	}
	return NULL;
}

static int numbers_raw(cJSON *item, const char **p)
{
	cJSON *c;
	size_t len;
	const char *tok;
	char *text;
	int err;

	if (cJSON_IsNumber(item)) {
		tok = next_number(*p, &len);
		if (!tok)
			return -EINVAL;
		*p = tok + len;
		text = strndup(tok, len);
		if (!text)
			return -ENOMEM;
		item->type = cJSON_Raw;
		item->valuestring = text;
		return 0;
	}
	for (c = item->child; c; c = c->next) {
		err = numbers_raw(c, p);
		if (err)
			return err;
	}
	return 0;
}

static cJSON *raw_uint(uint64_t v)
{
	char text[24];

	snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
	return cJSON_CreateRaw(text);
}

/* o[key] = v, where the key already is or at the end. */
static int set_count(cJSON *o, const char *key, uint64_t v)
{
	cJSON *old = cJSON_GetObjectItemCaseSensitive(o, key), *n = raw_uint(v);

	if (!n)
		return -ENOMEM;
	/* (ReplaceItemViaPointer would leave the new item without its key) */
	if (old)
		return cJSON_ReplaceItemInObjectCaseSensitive(o, key, n) ? 0 : -ENOMEM;
	return cJSON_AddItemToObject(o, key, n) ? 0 : -ENOMEM;
}

/* The printed length of o; 0 without memory. */
static size_t printed_len(const cJSON *o)
{
	char *text = cJSON_PrintUnformatted(o);
	size_t n = text ? strlen(text) : 0;

	free(text);
	return n;
}

/* FNV-1a, 64 bits: a stack's id from its frames' text. Never 0 (the free slot). */
static uint64_t hash_text(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h ? h : 1;
}

static void id_text(uint64_t id, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)id);
}

/* The longest string value below o that can still be cut to floor. */
static cJSON *longest_string(cJSON *o, size_t floor, size_t *len)
{
	cJSON *best = NULL, *c, *sub;
	size_t n, sub_len;

	*len = 0;
	for (c = o->child; c; c = c->next) {
		if (cJSON_IsString(c) && c->valuestring) {
			n = strlen(c->valuestring);
			if (n > floor + sizeof(CUT_MARK) - 1 && n > *len) {
				best = c;
				*len = n;
			}
		} else if (c->child) {
			sub = longest_string(c, floor, &sub_len);
			if (sub && sub_len > *len) {
				best = sub;
				*len = sub_len;
			}
		}
	}
	return best;
}

/*
 * Shorten the longest string by about excess bytes (to no fewer than
 * floor), at a UTF-8 character boundary, ending it with CUT_MARK.
 * Returns false when no string is long enough to cut.
 */
static bool cut_string(cJSON *o, size_t excess, size_t floor)
{
	size_t len, keep;
	cJSON *s = longest_string(o, floor, &len);

	if (!s)
		return false;
	keep = len - (sizeof(CUT_MARK) - 1);
	keep = keep > excess + floor ? keep - excess : floor;
	while (keep > 0 && ((unsigned char)s->valuestring[keep] & 0xc0) == 0x80)
		keep--;
	memcpy(s->valuestring + keep, CUT_MARK, sizeof(CUT_MARK));
	return true;
}

/* The non-empty array below o (o included) with the most elements. */
static cJSON *largest_array(cJSON *o, int *size)
{
	cJSON *best = NULL, *c, *sub;
	int n, sub_n;

	*size = 0;
	if (cJSON_IsArray(o)) {
		n = cJSON_GetArraySize(o);
		if (n > 0) {
			best = o;
			*size = n;
		}
	}
	for (c = o->child; c; c = c->next) {
		if (!c->child)
			continue;
		sub = largest_array(c, &sub_n);
		if (sub && sub_n > *size) {
			best = sub;
			*size = sub_n;
		}
	}
	return best;
}

static double raw_value(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsRaw(v) ? strtod(v->valuestring, NULL) : 0.0;
}

/* The cpu stack with the fewest samples (the last of equals): it matters least. */
static int least_cpu_stack(const cJSON *arr)
{
	const cJSON *c;
	double least = 0;
	int i = 0, at = -1;

	cJSON_ArrayForEach(c, arr)
	{
		double v = raw_value(c, "samples");

		if (at < 0 || v <= least) {
			least = v;
			at = i;
		}
		i++;
	}
	return at;
}

/*
 * Cut o until it prints in at most limit bytes, in this order: strings
 * longer than STR_LONG, cpu stacks (fewest samples first), syscalls
 * (smallest total first: they are sorted), then the longest strings down to
 * STR_FLOOR, then the last elements of the longest arrays.
 * Each cut is counted in o. Returns 0, -E2BIG or -ENOMEM.
 */
static int cut_record(cJSON *o, size_t limit)
{
	cJSON *cpu = cJSON_GetObjectItemCaseSensitive(o, "cpu_stacks");
	cJSON *calls = cJSON_GetObjectItemCaseSensitive(o, "syscalls");
	uint64_t n_cpu = 0, n_calls = 0, n_strings = 0, n_items = 0;
	size_t len = printed_len(o), longest = limit / 8 < STR_LONG ? limit / 8 : STR_LONG;
	cJSON *arr;
	int size, err;

	while (len > limit) {
		if (cut_string(o, len - limit, longest)) {
			err = set_count(o, "strings_cut", ++n_strings);
		} else if (cJSON_IsArray(cpu) && cJSON_GetArraySize(cpu) > 0) {
			cJSON_DeleteItemFromArray(cpu, least_cpu_stack(cpu));
			err = set_count(o, "cpu_stacks_cut", ++n_cpu);
		} else if (cJSON_IsArray(calls) && cJSON_GetArraySize(calls) > 0) {
			cJSON_DeleteItemFromArray(calls, cJSON_GetArraySize(calls) - 1);
			err = set_count(o, "syscalls_cut", ++n_calls);
		} else if (cut_string(o, len - limit, STR_FLOOR)) {
			err = set_count(o, "strings_cut", ++n_strings);
		} else if ((arr = largest_array(o, &size))) {
			cJSON_DeleteItemFromArray(arr, size - 1);
			err = set_count(o, "items_cut", ++n_items);
		} else {
			return -E2BIG;
		}
		if (err)
			return err;
		len = printed_len(o);
	}
	return 0;
}

/* A stack taken out of the record: its id and its frames. */
struct moved {
	uint64_t id;
	cJSON *frames;
};

struct split {
	struct moved *m;
	size_t n, cap;
};

static void split_free(struct split *sp)
{
	size_t i;

	for (i = 0; i < sp->n; i++)
		cJSON_Delete(sp->m[i].frames);
	free(sp->m);
}

/* Move each non-empty "stack" of arr's elements to sp; leave [] and "stack_ref". */
static int move_stacks(cJSON *arr, struct split *sp)
{
	cJSON *el, *st, *empty, *frames;
	char *text, id[17];
	uint64_t h;
	size_t i;

	if (!cJSON_IsArray(arr))
		return 0;
	cJSON_ArrayForEach(el, arr)
	{
		st = cJSON_GetObjectItemCaseSensitive(el, "stack");
		if (!cJSON_IsArray(st) || !st->child)
			continue;
		text = cJSON_PrintUnformatted(st);
		if (!text)
			return -ENOMEM;
		h = hash_text(text);
		free(text);
		for (i = 0; i < sp->n && sp->m[i].id != h; i++)
			;
		if (i == sp->n) {
			struct moved *grown = ls_grow(sp->m, &sp->cap, sp->n + 1, sizeof(*sp->m), 8);

			if (!grown)
				return -ENOMEM;
			sp->m = grown;
			frames = cJSON_Duplicate(st, true);
			if (!frames)
				return -ENOMEM;
			sp->m[sp->n].id = h;
			sp->m[sp->n++].frames = frames;
		}
		/* the key stays where it was, as an empty array: readers of before still find it */
		empty = cJSON_CreateArray();
		if (!empty || !cJSON_ReplaceItemInObjectCaseSensitive(el, "stack", empty)) {
			cJSON_Delete(empty);
			return -ENOMEM;
		}
		id_text(h, id);
		if (!cJSON_AddStringToObject(el, "stack_ref", id))
			return -ENOMEM;
	}
	return 0;
}

/* Whether one of arr's elements refers to id. */
static bool refers(const cJSON *arr, const char *id)
{
	const cJSON *el, *ref;

	if (!cJSON_IsArray(arr))
		return false;
	cJSON_ArrayForEach(el, arr)
	{
		ref = cJSON_GetObjectItemCaseSensitive(el, "stack_ref");
		if (cJSON_IsString(ref) && !strcmp(ref->valuestring, id))
			return true;
	}
	return false;
}

/*
 * A stack record; over the bound its outermost frames go first (innermost
 * is where the thread was: kept), counted in "frames_cut", then long
 * strings in what is left.
 */
static int stack_line(uint64_t id, cJSON *frames, size_t limit, char **out)
{
	cJSON *o = cJSON_CreateObject(), *ver = raw_uint(LS_SCHEMA_VERSION);
	uint64_t cut = 0, n_strings = 0;
	char idt[17];
	size_t len;
	int err = -ENOMEM;

	*out = NULL;
	id_text(id, idt);
	if (!o || !ver || !cJSON_AddStringToObject(o, "type", "stack") ||
	    !cJSON_AddItemToObject(o, "schema_version", ver)) {
		cJSON_Delete(ver);
		cJSON_Delete(frames);
		goto cleanup;
	}
	if (!cJSON_AddStringToObject(o, "id", idt) || !cJSON_AddItemToObject(o, "frames", frames)) {
		cJSON_Delete(frames);
		goto cleanup;
	}
	len = printed_len(o);
	while (len > limit) {
		if (cJSON_GetArraySize(frames) > 1) {
			cJSON_DeleteItemFromArray(frames, cJSON_GetArraySize(frames) - 1);
			err = set_count(o, "frames_cut", ++cut);
		} else if (cut_string(frames, len - limit, STR_FLOOR)) {
			err = set_count(o, "strings_cut", ++n_strings);
		} else {
			err = -E2BIG;
		}
		if (err)
			goto cleanup;
		len = printed_len(o);
	}
	*out = cJSON_PrintUnformatted(o);
	err = *out ? 0 : -ENOMEM;
cleanup:
	cJSON_Delete(o);
	return err;
}

int ls_bound__split(struct ls_bound *b, const char *line, struct ls_lines *out)
{
	struct ls_lines add = {0};
	struct split sp = {0};
	cJSON *o = cJSON_Parse(line), *calls, *cpu;
	const char *p = line;
	char *text = NULL, id[17];
	size_t i, j;
	int err;

	if (!cJSON_IsObject(o)) {
		err = -EINVAL;
		goto cleanup;
	}
	err = numbers_raw(o, &p);
	if (err)
		goto cleanup;
	calls = cJSON_GetObjectItemCaseSensitive(o, "syscalls");
	cpu = cJSON_GetObjectItemCaseSensitive(o, "cpu_stacks");
	err = move_stacks(calls, &sp);
	if (!err)
		err = move_stacks(cpu, &sp);
	if (!err)
		err = cut_record(o, b->limit);
	if (err)
		goto cleanup;
	/* the stacks the record still refers to, that this file has not had */
	for (i = 0; i < sp.n; i++) {
		id_text(sp.m[i].id, id);
		if (seen_has(b, sp.m[i].id) || (!refers(calls, id) && !refers(cpu, id)))
			continue;
		err = stack_line(sp.m[i].id, sp.m[i].frames, b->limit, &text);
		sp.m[i].frames = NULL; /* the stack record owned them */
		if (!err)
			err = lines_push(&add, text);
		if (err) {
			free(text);
			goto cleanup;
		}
	}
	text = cJSON_PrintUnformatted(o);
	if (!text || lines_push(&add, text)) {
		free(text);
		err = -ENOMEM;
		goto cleanup;
	}
	/* all or nothing: the stacks count as written only once the lines are handed out */
	for (i = 0; i < sp.n; i++) {
		if (sp.m[i].frames)
			continue;
		err = seen_add(b, sp.m[i].id);
		if (err)
			goto cleanup;
	}
	for (j = 0; j < add.n; j++) {
		err = lines_push(out, add.line[j]);
		if (err) {
			/* the lines moved already belong to out */
			memmove(add.line, add.line + j, (add.n - j) * sizeof(*add.line));
			add.n -= j;
			goto cleanup;
		}
	}
	add.n = 0;
cleanup:
	ls_lines__clear(&add);
	split_free(&sp);
	cJSON_Delete(o);
	return err;
}
