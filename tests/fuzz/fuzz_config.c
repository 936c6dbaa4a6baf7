// SPDX-License-Identifier: BSD-2-Clause
/*
 * loopstalld's configuration file (config.c): parsed as root, from a path
 * an administrator names. Any text must be applied or refused with one
 * message; what is accepted must make sense, and matching (globs on comm
 * and executable names, which a traced process chooses) must hold up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ls_config *c = NULL;
	char err[256], *text, name[32];
	size_t n;
	int ret;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (ls_config__new(&c)) {
		free(text);
		return 0;
	}
	memset(err, 0, sizeof(err));
	ret = ls_config__parse(c, text, "fuzz.conf", err, sizeof(err));
	if (ret && (!err[0] || strnlen(err, sizeof(err)) == sizeof(err)))
		abort();
	if (!ret && !c->threshold_ns)
		abort();
	/* the input's last bytes as a process name a target could choose */
	n = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
	memcpy(name, data + size - n, n);
	name[n] = '\0';
	(void)ls_config__match(c, name, name);
	(void)ls_config__match(c, name, NULL);
	ls_config__free(c);
	free(text);
	return 0;
}
