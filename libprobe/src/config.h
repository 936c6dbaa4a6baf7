/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* libprobe's settings from the environment (see lprobe.h). Pure. */
#ifndef LPROBE_CONFIG_H
#define LPROBE_CONFIG_H

#include <stdint.h>

struct lpi_config;

#define LPI_DEFAULT_HEARTBEAT_MS 10u
#define LPI_DEFAULT_THRESHOLD_MS 50u
#define LPI_DEFAULT_RING 256u
#define LPI_DEFAULT_MAX_LOOPS 16u
/* an hour: far from any overflow in ns */
#define LPI_MAX_MS 3600000u

void lpi_config_defaults(struct lpi_config *c);
/*
 * Apply LPROBE_* variables read through get (getenv, or a fake in tests).
 * Bad values keep the default; each returns a bit in the result, so tests
 * can see what was rejected.
 */
unsigned int lpi_config_from_env(struct lpi_config *c, char *(*get)(const char *name));
/* A decimal integer in [0, max], nothing else around it. */
int lpi_parse_uint(const char *s, uint32_t max, uint32_t *out);
/* Expand %p to pid and %% to %; -ENAMETOOLONG when it does not fit. */
int lpi_expand_path(const char *pattern, int pid, char *out, unsigned long len);

#endif
