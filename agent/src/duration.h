/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_DURATION_H
#define LOOPSTALL_DURATION_H

#include <stdint.h>

/*
 * Parse a duration: a non-negative number with a unit (ns, us, ms, s, m);
 * a bare number is milliseconds. Fractions are allowed ("1.5s").
 * Returns 0, or -EINVAL for malformed input, -ERANGE when it overflows.
 */
int ls_parse_duration(const char *text, uint64_t *ns);

#endif
