/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * USDT probes (provider "lprobe"). Each is a single nop plus an ELF note
 * (readelf -n shows them); a tracer turns the nop into a breakpoint only
 * while it is attached, so they cost nothing otherwise.
 *
 *   callback_begin(loop, cb, watcher, arg)   watcher: enum lps_watcher
 *   callback_end(cb, duration_ns)
 *   stall_begin(tid, busy_start_ns)          seen by the reporter thread
 *   stall_end(tid, duration_ns, cb)          cb: the longest callback
 */
#ifndef LPROBE_USDT_H
#define LPROBE_USDT_H

#include <stdint.h>

/*
 * With semaphores: a tracer that attaches to a probe adds one to its
 * semaphore (the kernel does, for uprobes with a reference counter), so
 * libprobe can tell whether anyone listens. stall_begin's is checked at the
 * start of every loop iteration: the probe fires on the reporter thread,
 * which is started only then (or for LPROBE_OUTPUT). In .probes, next to
 * lpi_hot (loop.h): a page the iteration's start reads anyway.
 */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

#pragma GCC visibility push(hidden)
extern volatile uint16_t lprobe_callback_begin_semaphore;
extern volatile uint16_t lprobe_callback_end_semaphore;
extern volatile uint16_t lprobe_stall_begin_semaphore;
extern volatile uint16_t lprobe_stall_end_semaphore;
#pragma GCC visibility pop

#define LPI_USDT_STALL_BEGIN_ENABLED() (lprobe_stall_begin_semaphore != 0)

#define LPI_USDT_CALLBACK_BEGIN(loop, cb, watcher, arg)                                            \
	DTRACE_PROBE4(lprobe, callback_begin, loop, cb, watcher, arg)
#define LPI_USDT_CALLBACK_END(cb, dur) DTRACE_PROBE2(lprobe, callback_end, cb, dur)
#define LPI_USDT_STALL_BEGIN(tid, start) DTRACE_PROBE2(lprobe, stall_begin, tid, start)
#define LPI_USDT_STALL_END(tid, dur, cb) DTRACE_PROBE3(lprobe, stall_end, tid, dur, cb)

#endif
