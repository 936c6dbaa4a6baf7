/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_WORKER_H
#define LOOPSTALL_WORKER_H

#include <pthread.h>
#include <stdbool.h>

/*
 * The agent's worker threads (the finisher, the wait-call reaper) sleep on
 * a condition variable until there is work or *stop is set: ask one to
 * stop. The caller joins it.
 */
static inline void ls_worker_stop(pthread_mutex_t *mu, pthread_cond_t *cond, bool *stop)
{
	pthread_mutex_lock(mu);
	*stop = true;
	pthread_cond_signal(cond);
	pthread_mutex_unlock(mu);
}

#endif
