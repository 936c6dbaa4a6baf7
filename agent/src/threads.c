// SPDX-License-Identifier: BSD-2-Clause
/*
 * Loop threads by tid: an open-addressing table (linear probing, deletion by
 * shifting back, so no tombstones pile up as threads come and go), and which
 * `live` entries are in use, as a bitmap the stall scan walks in slot order.
 */
#include <stdlib.h>
#include <string.h>
#include "threads.h"

#define SLOT_WORDS (LT_MAX_THREADS / 64)

struct ls_threads {
	struct ls_thread *table; /* tid 0: empty */
	size_t cap;		 /* a power of two */
	size_t n;
	uint64_t used[SLOT_WORDS];	/* `live` entries in use */
	uint32_t owner[LT_MAX_THREADS]; /* the tid holding each, 0: none known */
};

struct ls_threads *ls_threads__new(void)
{
	struct ls_threads *th = calloc(1, sizeof(*th));

	if (!th)
		return NULL;
	th->cap = 64;
	th->table = calloc(th->cap, sizeof(*th->table));
	if (!th->table) {
		free(th);
		return NULL;
	}
	return th;
}

void ls_threads__free(struct ls_threads *th)
{
	if (!th)
		return;
	free(th->table);
	free(th);
}

static size_t home(const struct ls_threads *th, uint32_t tid)
{
	/* Fibonacci hashing: consecutive tids spread over the table */
	return (size_t)((tid * 2654435769u) & (th->cap - 1));
}

static struct ls_thread *lookup(const struct ls_threads *th, uint32_t tid)
{
	size_t i;

	if (!tid)
		return NULL;
	for (i = home(th, tid); th->table[i].tid; i = (i + 1) & (th->cap - 1))
		if (th->table[i].tid == tid)
			return &th->table[i];
	return NULL;
}

struct ls_thread *ls_threads__find(struct ls_threads *th, uint32_t tid)
{
	return lookup(th, tid);
}

static void insert(struct ls_threads *th, const struct ls_thread *t)
{
	size_t i;

	for (i = home(th, t->tid); th->table[i].tid; i = (i + 1) & (th->cap - 1))
		;
	th->table[i] = *t;
}

static int grow(struct ls_threads *th)
{
	struct ls_thread *old = th->table;
	size_t i, old_cap = th->cap;

	th->table = calloc(2 * old_cap, sizeof(*th->table));
	if (!th->table) {
		th->table = old;
		return -1;
	}
	th->cap = 2 * old_cap;
	for (i = 0; i < old_cap; i++)
		if (old[i].tid)
			insert(th, &old[i]);
	free(old);
	return 0;
}

struct ls_thread *ls_threads__get(struct ls_threads *th, uint32_t pid, uint32_t tid)
{
	struct ls_thread *t = lookup(th, tid), fresh = {0};

	if (t || !tid)
		return t;
	fresh.tid = tid;
	fresh.pid = pid;
	fresh.slot = LS_THREAD_NO_SLOT;
	/* at most half full: probe runs stay short */
	if (2 * (th->n + 1) > th->cap && grow(th))
		return NULL;
	insert(th, &fresh);
	th->n++;
	return lookup(th, tid);
}

void ls_threads__set_slot(struct ls_threads *th, struct ls_thread *t, uint32_t slot)
{
	if (slot >= LT_MAX_THREADS)
		return;
	t->slot = slot;
	th->used[slot / 64] |= 1ull << (slot % 64);
	th->owner[slot] = t->tid;
}

/* Give a `live` entry up unless another thread holds it now. */
static uint32_t release_slot(struct ls_threads *th, uint32_t slot, uint32_t tid)
{
	if (slot >= LT_MAX_THREADS || (th->owner[slot] && th->owner[slot] != tid))
		return LS_THREAD_NO_SLOT;
	th->used[slot / 64] &= ~(1ull << (slot % 64));
	th->owner[slot] = 0;
	return slot;
}

/* Close the gap at i: later entries of the probe run move back toward their home. */
static void delete_at(struct ls_threads *th, size_t i)
{
	size_t j = i, h;

	for (;;) {
		th->table[i].tid = 0;
		for (;;) {
			j = (j + 1) & (th->cap - 1);
			if (!th->table[j].tid)
				return;
			h = home(th, th->table[j].tid);
			/* j's entry may move to i only if its home is not cyclically in (i, j] */
			if (i <= j ? (h <= i || h > j) : (h <= i && h > j))
				break;
		}
		th->table[i] = th->table[j];
		i = j;
	}
}

uint32_t ls_threads__remove(struct ls_threads *th, uint32_t tid, uint32_t slot_hint)
{
	struct ls_thread *t = lookup(th, tid);
	uint32_t slot = slot_hint;

	if (t) {
		if (t->slot != LS_THREAD_NO_SLOT)
			slot = t->slot;
		delete_at(th, (size_t)(t - th->table));
		th->n--;
	}
	return release_slot(th, slot, tid);
}

int64_t ls_threads__next_slot(const struct ls_threads *th, int64_t slot)
{
	uint64_t from = (uint64_t)(slot + 1), bits;
	size_t w;

	if (slot + 1 >= LT_MAX_THREADS)
		return -1;
	w = (size_t)(from / 64);
	bits = th->used[w] & (~0ull << (from % 64));
	for (;;) {
		if (bits)
			return (int64_t)(w * 64 + (unsigned)__builtin_ctzll(bits));
		if (++w >= SLOT_WORDS)
			return -1;
		bits = th->used[w];
	}
}

void ls_thread_stats_from_bpf(struct ls_thread_stats *out, const struct lt_thread *t)
{
	_Static_assert(sizeof(out->hist) == sizeof(t->hist), "one histogram layout");
	*out = (struct ls_thread_stats){
	    .pid = t->pid,
	    .tid = t->tid,
	    .first_seen_ns = t->first_seen_ns,
	    .iterations = t->iterations,
	    .busy_ns = t->busy_ns,
	    .max_busy_ns = t->max_busy_ns,
	    .stalls = t->stalls,
	    .busy_start_ns = t->cur.start_ns,
	};
	memcpy(out->hist, t->hist, sizeof(out->hist));
}

size_t ls_threads__count(const struct ls_threads *th)
{
	return th->n;
}
