// SPDX-License-Identifier: BSD-2-Clause
/* Reading a recording for `report` and `doctor`, with errors a person can act on. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "report.h"

int report_load(const char *path, struct recording **rec, struct aggregate **agg)
{
	bool std_in = !strcmp(path, "-");
	const char *name = std_in ? "stdin" : path;
	struct rf_error rf_err;
	FILE *f = std_in ? stdin : fopen(path, "re");
	int err;

	*rec = NULL;
	*agg = NULL;
	if (!f) {
		cli_error("cannot read %s: %s", name, strerror(errno));
		return 2;
	}
	err = recording__read(f, rec, &rf_err);
	if (!std_in)
		fclose(f);
	if (err == -EINVAL) {
		if (rf_err.line)
			cli_error("%s:%u: %s", name, rf_err.line, rf_err.msg);
		else
			cli_error("%s: %s", name, rf_err.msg);
		return 2;
	}
	if (err) {
		cli_error("cannot read %s: %s", name, strerror(-err));
		return err == -ENOMEM ? 1 : 2;
	}
	err = aggregate__new(*rec, agg);
	if (err) {
		cli_error("%s: %s", name, strerror(-err));
		recording__free(*rec);
		*rec = NULL;
		return 1;
	}
	return 0;
}
