// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Standalone mode (LPROBE_OUTPUT): the same JSON Lines as libev's libprobe
 * (jsonl.c), with the asyncio fields. A stall's record is written by the
 * loop thread when the stall ends: it has lost that time already, and the
 * names are at hand. stall_begin records need another thread, as the loop
 * thread is the one stalled: it reads only the region, without the GIL.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "pyprobe.h"

#define RECENT 5

void pyp_describe(const struct lps_event *e, struct lpi_cb_report *c, struct pyp_cb_text *t)
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
void pyp_write_stall(struct pyp_loop *l, const struct lps_event *best, uint64_t now,
		     uint64_t callbacks)
{
	static struct pyp_cb_text texts[RECENT + 1];
	struct lpi_cb_report recent[RECENT];
	struct lpi_stall_report r = {
	    .pid = (uint32_t)getpid(),
	    .tid = l->tid,
	    .comm = pyp_g.comm,
	    .start_ns = l->busy.start,
	    .end_ns = now,
	    .threshold_ns = pyp_g.cfg.threshold_ns,
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
		pyp_describe(best, &r.cb, &texts[RECENT]);
	}
	for (i = l->head; i-- > first && n < RECENT;)
		if (l->ring[i & l->mask].end_ns)
			n++;
	r.n_recent = n;
	for (i = l->head; i-- > first && n > 0;) {
		if (!l->ring[i & l->mask].end_ns)
			continue;
		n--;
		pyp_describe(&l->ring[i & l->mask], &recent[n], &texts[n]);
	}
	len = lpi_json_stall(buf, sizeof(buf), &r);
	if (len && write(pyp_g.out_fd, buf, len) < 0)
		return; /* nowhere to say it: the region still has it */
}

/*
 * Standalone mode: stall_begin records while a stall lasts. The loop
 * thread is the one stalled, so another thread has to say it; this one
 * reads only the region (no GIL) and writes one line per stall.
 */
void *pyp_reporter_main(void *arg)
{
	uint64_t said[PYP_MAX_LOOPS] = {0};
	char buf[1024];

	(void)arg;
	while (!__atomic_load_n(&pyp_g.reporter_stop, __ATOMIC_RELAXED) && !pyp_g.forked) {
		const struct lps_header *h = pyp_g.region.hdr;
		uint32_t i;

		for (i = 0; i < h->max_loops && i < PYP_MAX_LOOPS; i++) {
			const struct lps_loop *s = lpi_region_loop(&pyp_g.region, i);
			uint64_t start = __atomic_load_n(&s->busy_start_ns, __ATOMIC_ACQUIRE);
			uint64_t now = lpi_now();
			size_t len;

			if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != LPS_LOOP_LIVE ||
			    !start || said[i] == start || now < start ||
			    now - start < pyp_g.cfg.threshold_ns)
				continue;
			said[i] = start;
			len = lpi_json_stall_begin(buf, sizeof(buf), (uint32_t)getpid(),
						   __atomic_load_n(&s->tid, __ATOMIC_RELAXED),
						   pyp_g.comm, unix_of(start), now - start,
						   pyp_g.cfg.threshold_ns);
			if (len && write(pyp_g.out_fd, buf, len) < 0)
				break;
		}
		usleep(5000);
	}
	return NULL;
}
