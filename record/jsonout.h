/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_JSONOUT_H
#define LOOPSTALL_JSONOUT_H

#include <stdint.h>
#include "stall.h"
#include "summary.h"

#define LS_SCHEMA_VERSION 1

/*
 * JSON Lines records (schema_version 1, see record/records.schema.json).
 * Each returns one line without its newline, malloc'd, or NULL without memory.
 * Wall-clock fields come from the *_unix_ns arguments so the writers stay pure.
 */
char *ls_json_stall(const struct ls_stall *s, int64_t start_unix_ns, int64_t end_unix_ns);
char *ls_json_stall_begin(const struct ls_stall_begin *b, int64_t start_unix_ns);
char *ls_json_summary(const struct ls_run_summary *sum, int64_t start_unix_ns, int64_t end_unix_ns);

/* When and where a record was made: optional fields (NULL or "": left out). */
struct ls_json_context {
	int64_t time_unix_ns; /* written as `time`, RFC 3339 UTC with milliseconds; 0: none */
	const char *target;   /* the daemon's configured name */
	const char *host;
	const char *container_id;
	const char *pod_uid;
	const char *cgroup;
};

/*
 * line (a record from the writers above, owned) with ctx's fields added at
 * its end; NULL without memory (line is freed either way).
 */
char *ls_json_add_context(char *line, const struct ls_json_context *ctx);
/* "2026-12-07T18:55:04.123Z" into buf (at least 32 bytes); before 1970: the epoch. */
void ls_rfc3339_ms(int64_t unix_ns, char *buf, size_t len);

#endif
