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

#include <sys/sdt.h>

#define LPI_USDT_CALLBACK_BEGIN(loop, cb, watcher, arg)                                            \
	DTRACE_PROBE4(lprobe, callback_begin, loop, cb, watcher, arg)
#define LPI_USDT_CALLBACK_END(cb, dur) DTRACE_PROBE2(lprobe, callback_end, cb, dur)
#define LPI_USDT_STALL_BEGIN(tid, start) DTRACE_PROBE2(lprobe, stall_begin, tid, start)
#define LPI_USDT_STALL_END(tid, dur, cb) DTRACE_PROBE3(lprobe, stall_end, tid, dur, cb)

#endif
