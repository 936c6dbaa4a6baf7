// SPDX-License-Identifier: BSD-2-Clause
/*
 * /proc/PID/stat lines (procstat.c): a process writes its own comm, so the
 * text between the parentheses is the attacker's. Anything in, a clean
 * accept or refuse out; an accepted line's comm is terminated and its
 * fields are the ones after the last ')'.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "procstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ls_procstat st;
	char *text = malloc(size + 1);
	int err;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	err = ls_procstat_parse(text, &st);
	if (err && err != -EINVAL)
		abort();
	if (!err) {
		if (st.pid <= 0 || st.ppid < 0 || memchr(st.comm, '\0', sizeof(st.comm)) == NULL)
			abort();
		/* the state is the letter right after the last ") " */
		if (st.state != strrchr(text, ')')[2])
			abort();
	}
	free(text);
	return 0;
}
