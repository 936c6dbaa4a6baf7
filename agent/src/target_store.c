// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "target_store.h"

struct thread_targets {
	uint32_t tid;
	uint64_t busy_start_ns;
	unsigned n;
	struct lt_target_rec recs[LT_MAX_SLOTS];
};

struct ls_target_store {
	struct thread_targets *threads;
	size_t n, cap;
};

struct ls_target_store *ls_target_store__new(void)
{
	return calloc(1, sizeof(struct ls_target_store));
}

static struct thread_targets *find_thread(const struct ls_target_store *st, uint32_t tid)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		if (st->threads[i].tid == tid)
			return &st->threads[i];
	return NULL;
}

int ls_target_store__add(struct ls_target_store *st, const void *data, size_t size)
{
	const struct lt_target_rec *rec = data;
	struct thread_targets *t;
	unsigned i;

	if (size < sizeof(*rec) || rec->type != LT_REC_TARGET || rec->cap.path_len > LT_CAP_PATH)
		return -EINVAL;
	t = find_thread(st, rec->tid);
	if (!t) {
		void *grown = ls_grow(st->threads, &st->cap, st->n + 1, sizeof(*st->threads), 4);

		if (!grown)
			return -ENOMEM;
		st->threads = grown;
		t = &st->threads[st->n++];
		t->tid = rec->tid;
		t->busy_start_ns = rec->busy_start_ns;
		t->n = 0;
	}
	/* a new busy period: the previous one ended without becoming a stall */
	if (t->busy_start_ns != rec->busy_start_ns) {
		t->busy_start_ns = rec->busy_start_ns;
		t->n = 0;
	}
	for (i = 0; i < t->n; i++)
		if (t->recs[i].nr == rec->nr && t->recs[i].fd == rec->fd)
			break;
	if (i == LT_MAX_SLOTS)
		return 0;
	t->recs[i] = *rec;
	if (i == t->n)
		t->n++;
	return 0;
}

const struct lt_capture *ls_target_store__find(const struct ls_target_store *st, uint32_t tid,
					       uint64_t busy_start_ns, uint32_t nr, int32_t fd)
{
	const struct thread_targets *t = st ? find_thread(st, tid) : NULL;
	unsigned i;

	if (!t || t->busy_start_ns != busy_start_ns)
		return NULL;
	for (i = 0; i < t->n; i++)
		if (t->recs[i].nr == nr && t->recs[i].fd == fd)
			return &t->recs[i].cap;
	return NULL;
}

void ls_target_store__drop(struct ls_target_store *st, uint32_t tid)
{
	struct thread_targets *t = find_thread(st, tid);

	if (t)
		*t = st->threads[--st->n];
}

void ls_target_store__free(struct ls_target_store *st)
{
	if (!st)
		return;
	free(st->threads);
	free(st);
}
