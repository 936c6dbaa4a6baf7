// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Shared library: find libev at run time, past libprobe's own definitions. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include "ev_api.h"

struct lpi_ev_api lpi_ev;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int resolved_err;

/*
 * RTLD_NEXT finds libev when libprobe comes first (LD_PRELOAD, or linked
 * before libev); RTLD_DEFAULT when libprobe was linked after it. Either way
 * a result that is libprobe's own definition is no use.
 */
static void *find(const char *name)
{
	void *next = dlsym(RTLD_NEXT, name);
	void *self = dlsym(RTLD_DEFAULT, name);
	Dl_info a, b;

	if (next)
		return next;
	if (self && dladdr(self, &a) && dladdr((void *)find, &b) && a.dli_fbase == b.dli_fbase)
		return NULL;
	return self;
}

#define GET(field, name)                                                                           \
	do {                                                                                       \
		*(void **)&lpi_ev.field = find(name);                                              \
		if (!lpi_ev.field)                                                                 \
			resolved_err = -ENOENT;                                                    \
	} while (0)

static void resolve(void)
{
#define NAME(type, watcher) [watcher] = #type,
	static const char *const types[LPS_W_COUNT] = {LPI_EV_WATCHER_TYPES(NAME)};
#undef NAME
	char name[32];
	int i;

	GET(feed_event, "ev_feed_event");
	GET(clear_pending, "ev_clear_pending");
	GET(invoke_pending, "ev_invoke_pending");
	GET(set_invoke_pending_cb, "ev_set_invoke_pending_cb");
	GET(set_loop_release_cb, "ev_set_loop_release_cb");
	GET(loop_new, "ev_loop_new");
	GET(default_loop, "ev_default_loop");
	GET(loop_destroy, "ev_loop_destroy");
	GET(run, "ev_run");
	GET(ref, "ev_ref");
	GET(unref, "ev_unref");
	GET(timer_again, "ev_timer_again");
	GET(periodic_again, "ev_periodic_again");
	for (i = 0; i < LPS_W_COUNT; i++) {
		if (!types[i])
			continue;
		snprintf(name, sizeof(name), "ev_%s_start", types[i]);
		GET(start[i], name);
		snprintf(name, sizeof(name), "ev_%s_stop", types[i]);
		GET(stop[i], name);
	}
}

int lpi_ev_resolve(void)
{
	pthread_once(&once, resolve);
	return resolved_err;
}
