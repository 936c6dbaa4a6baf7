/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_REPORT_FILTER_H
#define LOOPSTALL_REPORT_FILTER_H

#include <stdint.h>

/*
 * A point in time for `report --since/--until`, as unix nanoseconds:
 *  - a duration before now_unix_ns: a number and a unit (ns, us, ms, s, m,
 *    h, d), "5m", "1.5h";
 *  - an RFC 3339 time: "2026-12-07T18:20:00Z", "2026-12-07 19:20:00.25+01:00"
 *    (the offset is required: a time without one means nothing to a
 *    machine in another zone);
 *  - a unix time, a bare number: seconds, or ms, us or ns by its size (a
 *    record's start_unix_ns pastes as it is).
 * Returns 0, or -EINVAL when text is none of these or out of range. Pure.
 */
int report_parse_when(const char *text, int64_t now_unix_ns, int64_t *out);

#endif
