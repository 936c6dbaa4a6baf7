/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_JSONOUT_H
#define LOOPSTALL_JSONOUT_H

#include <stdint.h>
#include "stall.h"
#include "summary.h"

#define LS_SCHEMA_VERSION 1

/*
 * JSON Lines records (schema_version 1, see tests/schema/records.schema.json).
 * Each returns one line without its newline, malloc'd, or NULL without memory.
 * Wall-clock fields come from the *_unix_ns arguments so the writers stay pure.
 */
char *ls_json_stall(const struct ls_stall *s, int64_t start_unix_ns, int64_t end_unix_ns);
char *ls_json_stall_begin(uint32_t pid, uint32_t tid, const char *comm, int64_t start_unix_ns,
			  uint64_t elapsed_ns, uint64_t threshold_ns);
char *ls_json_summary(const struct ls_run_summary *sum, int64_t start_unix_ns, int64_t end_unix_ns);

#endif
