// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The public API that is not libev-specific (see lprobe.h). */
#include <errno.h>
#include <string.h>
#include "config.h"
#include "lprobe.h"
#include "runtime.h"

#define LPI_VERSION_STRING "0.1.0"

int lp_ev_attach(struct ev_loop *loop)
{
	return lpi_attach(loop) ? 0 : -errno;
}

void lp_ev_detach(struct ev_loop *loop)
{
	if (loop)
		lpi_detach(loop);
}

static void changed(void)
{
	/* loops apply it on their own thread, at their next iteration */
	__atomic_add_fetch(&lpi_gen, 1, __ATOMIC_RELEASE);
}

int lp_set_heartbeat_ms(unsigned int ms)
{
	if (ms > LPI_MAX_MS)
		return -ERANGE;
	lpi_init();
	__atomic_store_n(&lpi_rt.cfg.heartbeat_ns, ms * 1000000ull, __ATOMIC_RELAXED);
	changed();
	return 0;
}

unsigned int lp_heartbeat_ms(void)
{
	lpi_init();
	return (unsigned int)(__atomic_load_n(&lpi_rt.cfg.heartbeat_ns, __ATOMIC_RELAXED) /
			      1000000ull);
}

int lp_set_threshold_ms(unsigned int ms)
{
	if (!ms || ms > LPI_MAX_MS)
		return -ERANGE;
	lpi_init();
	__atomic_store_n(&lpi_rt.cfg.threshold_ns, ms * 1000000ull, __ATOMIC_RELAXED);
	pthread_mutex_lock(&lpi_rt.lock);
	if (lpi_rt.started)
		__atomic_store_n(&lpi_rt.region.hdr->threshold_ns, ms * 1000000ull,
				 __ATOMIC_RELAXED);
	pthread_mutex_unlock(&lpi_rt.lock);
	changed();
	return 0;
}

int lp_set_output(const char *path)
{
	bool started;

	if (path && strlen(path) >= sizeof(lpi_rt.cfg.output))
		return -ENAMETOOLONG;
	lpi_init();
	pthread_mutex_lock(&lpi_rt.lock);
	strcpy(lpi_rt.cfg.output, path ? path : "");
	lpi_rt.cfg.output_gen++;
	started = lpi_rt.started;
	pthread_mutex_unlock(&lpi_rt.lock);
	changed();
	/* the reporter writes the records; a loop attached later starts it itself */
	if (started)
		lpi_reporter_maybe();
	return 0;
}

int lp_flush(void)
{
	return lpi_reporter_flush();
}

const char *lp_version(void)
{
	return LPI_VERSION_STRING;
}
