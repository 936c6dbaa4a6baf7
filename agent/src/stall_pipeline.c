// SPDX-License-Identifier: BSD-2-Clause
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

int ls_stall_pipeline(const struct ls_stall_sources *src, struct ls_stall *s)
{
	struct ls_taken *taken = ls_stall_gather(src, s);

	/* stages 3 and 4 on the finisher's thread; the stall comes back in order */
	if (src->finisher)
		return ls_finisher__submit(src->finisher, s, taken);
	ls_stall_conclude(s);
	return 1;
}
