/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_CLOCK_H
#define LOOPSTALL_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC ns: the clock bpf_ktime_get_ns() reads. */
uint64_t ls_now_ns(void);
/* Wall-clock ns for a CLOCK_MONOTONIC timestamp, for output only. */
int64_t ls_mono_to_unix_ns(uint64_t mono_ns);

#endif
