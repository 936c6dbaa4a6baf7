// SPDX-License-Identifier: BSD-2-Clause
#include <string.h>
#include "demangle.h"
#include "fdtarget.h"
#include "finisher.h"
#include "probe_shm.h"
#include "stack_collector.h"
#include "stall_pipeline.h"
#include "target_store.h"

struct ls_taken *ls_stall_gather(const struct ls_stall_sources *src, struct ls_stall *s)
{
	unsigned i;

	/* from what BPF saw while each call blocked; live fds are checked against it */
	for (i = 0; i < s->n_syscalls; i++) {
		struct ls_syscall_use *u = &s->syscalls[i];

		if (u->nr < 0)
			continue;
		u->target_kind =
		    ls_target_resolve(s->pid, u->fd,
				      ls_target_store__find(src->targets, s->tid, s->start_ns,
							    (uint32_t)u->nr, u->fd),
				      u->target, sizeof(u->target));
	}
	/* libprobe's callback: read now, before its flight recorder moves on */
	ls_probe_set__fill_stall(src->probes, s);
	if (!src->finisher || !src->collector)
		return NULL;
	return ls_collector__take(src->collector, s);
}

static void name_callback(struct ls_unwinder *u, pid_t pid, struct ls_probe_cb *cb)
{
	char readable[sizeof(cb->symbol)];

	if (cb->addr && !cb->symbol[0])
		ls_unwinder__name(u, pid, cb->addr, cb->symbol, sizeof(cb->symbol), cb->module,
				  sizeof(cb->module));
	/* libprobe names callbacks from inside the process: C++ ones come mangled */
	else if (ls_demangle(cb->symbol, readable, sizeof(readable)))
		memcpy(cb->symbol, readable, sizeof(readable));
}

void ls_stall_resolve(struct ls_unwinder *u, struct ls_taken *taken, struct ls_stall *s)
{
	struct ls_stall_callback *c = &s->callback;
	unsigned i;

	/* a stall without its stacks is still worth delivering */
	if (taken)
		ls_collector__resolve(u, taken, s);
	/* libprobe's region names a callback only while its reporter thread runs: name the rest */
	if (!c->present)
		return;
	name_callback(u, (pid_t)s->pid, &c->cb);
	for (i = 0; i < c->n_recent && i < LS_PROBE_RECENT; i++)
		name_callback(u, (pid_t)s->pid, &c->recent[i]);
}

int ls_stall_pipeline(const struct ls_stall_sources *src, struct ls_stall *s)
{
	struct ls_taken *taken = ls_stall_gather(src, s);

	/* stages 3 and 4 on the finisher's thread; the stall comes back in order */
	if (src->finisher)
		return ls_finisher__submit(src->finisher, s, taken);
	ls_stall_conclude(s);
	return 1;
}
