/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libprobe: times every callback of a libev loop from inside the program,
 * measures heartbeat lateness and keeps a flight recorder of the last
 * callbacks, published in shared memory (/dev/shm/lprobe.PID) for the
 * loopstall agent. Works without the agent too: set LPROBE_OUTPUT and it
 * writes its own stall records.
 *
 * Two ways in:
 *   - no rebuild: LD_PRELOAD=libprobe.so ./service
 *   - source mode: include <lprobe_ev.h> after <ev.h>, link -lprobe, and
 *     call lp_ev_attach(loop) once per loop.
 *
 * Every function is safe to call before anything is attached; they return
 * 0 or a negative errno. Environment (read once, at the first attach):
 *   LPROBE_HEARTBEAT_MS  heartbeat period, default 10; 0 turns it off
 *   LPROBE_THRESHOLD_MS  busy period that counts as a stall, default 50
 *   LPROBE_OUTPUT        file for stall records (JSON Lines); %p: the pid
 *   LPROBE_RING          flight-recorder entries per loop: a power of two from
 *                        64 to 65536, default 256
 *   LPROBE_SHM=0         do not publish /dev/shm/lprobe.PID
 */
#ifndef LPROBE_H
#define LPROBE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LP_API __attribute__((visibility("default")))

struct ev_loop;

/* Attach libprobe to a loop (idempotent); needed in source mode only. */
LP_API int lp_ev_attach(struct ev_loop *loop);
/* Stop timing a loop; its numbers stay in the shared region. */
LP_API void lp_ev_detach(struct ev_loop *loop);

/*
 * Coroutine-style code on the loop. Call lp_await_begin where a task
 * suspends and lp_await_end with its result where it resumes: the time in
 * between is recorded as an await, and the code that runs after the resume
 * is named after it until the next await or yield, so a stall inside a
 * callback can name the task segment that caused it. lp_yield marks an
 * explicit yield point and names the code that follows. Names must outlive
 * the process's use of them (string literals). Outside a timed callback
 * these do nothing.
 */
typedef struct lp_await {
	const char *name;
	uint64_t start_ns;
} lp_await_t;

LP_API lp_await_t lp_await_begin(const char *name);
LP_API void lp_await_end(lp_await_t await);
LP_API void lp_yield(const char *name);

/* Heartbeat period in ms (0: off); loops pick a change up on their next tick. */
LP_API int lp_set_heartbeat_ms(unsigned int ms);
LP_API unsigned int lp_heartbeat_ms(void);
/* Busy period, in ms, from which libprobe counts a stall (default 50). */
LP_API int lp_set_threshold_ms(unsigned int ms);
/* Write stall records to path (NULL: stop); same as LPROBE_OUTPUT. */
LP_API int lp_set_output(const char *path);
/* Wait until the reporter thread has written every stall seen so far. */
LP_API int lp_flush(void);
LP_API const char *lp_version(void);

#ifdef __cplusplus
}
#endif

#endif
