// SPDX-License-Identifier: BSD-2-Clause
/*
 * /proc/PID/cgroup (cgroup.c): its paths are cgroup names, which whoever may
 * create cgroups chooses. Any bytes must parse within bounds into a
 * terminated path, an id that is 64 lowercase hex digits or empty, and a
 * uid in 8-4-4-4-12 form or empty; and a rule may be matched against them.
 */
#include <stdlib.h>
#include <string.h>
#include "cgroup.h"
#include "config.h"

static int valid_hex(const char *s, size_t n, const char *dashes)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int dash = dashes && strchr(dashes, (int)i + 'a') != NULL;

		if (dash ? s[i] != '-'
			 : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return s[n] == '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ls_config *c = NULL;
	struct ls_cgroup cg;
	char err[256];

	(void)ls_cgroup_parse((const char *)data, size, &cg);
	if (strnlen(cg.path, sizeof(cg.path)) == sizeof(cg.path))
		abort();
	/* dashes at 8, 13, 18 and 23, spelt as offsets from 'a' */
	if ((cg.container_id[0] && !valid_hex(cg.container_id, LS_CONTAINER_ID_LEN, NULL)) ||
	    (cg.pod_uid[0] && !valid_hex(cg.pod_uid, LS_POD_UID_LEN, "insx")))
		abort();
	if (cg.path[0] && cg.path[0] != '/')
		abort();
	if (ls_config__new(&c))
		return 0;
	if (!ls_config__parse(c,
			      "match = a=cgroup:*docker-*\nmatch = b=container:3f\n"
			      "match = c=pod:1b2c python3*\n",
			      "fuzz", err, sizeof(err)))
		(void)ls_config__match_proc(c, "python3", "python3", &cg);
	ls_config__free(c);
	return 0;
}
