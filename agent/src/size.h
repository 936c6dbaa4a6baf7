/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_SIZE_H
#define LOOPSTALL_SIZE_H

#include <stdint.h>

/*
 * Byte sizes as the agent's options take them, from `loopstall record`'s
 * command line and from loopstalld.conf alike. Returns 0, or -EINVAL for
 * malformed input, -ERANGE when it overflows.
 */

/* A byte size: a number with an optional K, M or G suffix (powers of 1024). */
int ls_parse_size(const char *text, uint64_t *bytes);
/*
 * A ring-buffer size: ls_parse_size's syntax ("256K", "4M"), a power of two
 * from LS_RING_BYTES_MIN to LS_RING_BYTES_MAX (agent.h), as the kernel wants.
 */
int ls_parse_ring_size(const char *text, uint32_t *bytes);

#endif
