// SPDX-License-Identifier: BSD-2-Clause
/* Reading recordings for `report` and `doctor`, with errors a person can act on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "report.h"
#include "report_args.h"

/* stdin, read once: per-process sections read the history once per process */
static char *stdin_text;
static size_t stdin_len;
static bool stdin_read;

static FILE *open_input(const char *path)
{
	FILE *f;
	size_t cap = 0;
	char buf[65536];
	size_t got;

	if (strcmp(path, "-"))
		return fopen(path, "re");
	if (!stdin_read) {
		while ((got = fread(buf, 1, sizeof(buf), stdin)) > 0) {
			if (stdin_len + got > cap) {
				char *grown;

				cap = cap ? 2 * cap : sizeof(buf);
				while (cap < stdin_len + got)
					cap *= 2;
				grown = realloc(stdin_text, cap);
				if (!grown) {
					errno = ENOMEM;
					return NULL;
				}
				stdin_text = grown;
			}
			memcpy(stdin_text + stdin_len, buf, got);
			stdin_len += got;
		}
		if (ferror(stdin))
			return NULL;
		stdin_read = true;
	}
	/* fmemopen refuses an empty buffer: an empty stdin reads as an empty file */
	f = stdin_len ? fmemopen(stdin_text, stdin_len, "r") : fopen("/dev/null", "re");
	return f;
}

static int read_file(struct recording *rec, const char *path)
{
	const char *name = strcmp(path, "-") ? path : "stdin";
	struct rf_error rf_err;
	FILE *f = open_input(path);
	int err;

	if (!f) {
		cli_error("cannot read %s: %s", name, strerror(errno));
		return errno == ENOMEM ? 1 : 2;
	}
	err = recording__read_more(rec, f, &rf_err);
	fclose(f);
	if (err == -EINVAL) {
		cli_error("%s:%u: %s", name, rf_err.line, rf_err.msg);
		return 2;
	}
	if (err) {
		cli_error("cannot read %s: %s", name, strerror(-err));
		return err == -ENOMEM ? 1 : 2;
	}
	return 0;
}

int report_load(const struct report_args *args, const struct rf_filter *filter,
		struct recording **rec, struct aggregate **agg)
{
	const char *first = strcmp(args->files[0], "-") ? args->files[0] : "stdin";
	struct recording *r = recording__new();
	size_t i;
	int ret;

	*rec = NULL;
	*agg = NULL;
	if (!r) {
		cli_error("%s: %s", first, strerror(ENOMEM));
		return 1;
	}
	r->filter = *filter;
	for (i = 0; i < args->n_files; i++) {
		ret = read_file(r, args->files[i]);
		if (ret)
			goto fail;
	}
	ret = 2;
	if (!r->records) {
		if (args->n_files == 1)
			cli_error("%s: no loopstall records in it", first);
		else
			cli_error("none of the %zu files holds a loopstall record", args->n_files);
		goto fail;
	}
	if (!r->n_stalls && !r->n_summaries && r->filtered_out) {
		cli_error("%s%s: no record matches --since/--until/--pid/--target", first,
			  args->n_files > 1 ? " and the other files" : "");
		ret = 1;
		goto fail;
	}
	if (args->n_files > 1)
		recording__sort_stalls(r);
	ret = aggregate__new(r, agg);
	if (ret) {
		cli_error("%s: %s", first, strerror(-ret));
		ret = 1;
		goto fail;
	}
	*rec = r;
	return 0;
fail:
	recording__free(r);
	return ret;
}

size_t report_sections(const struct recording *rec, const struct rf_filter *filter, uint32_t *pids,
		       size_t max)
{
	return filter->pid ? 1 : recording__pids(rec, pids, max);
}

bool report_start(const char *cmd, int argc, char **argv, bool doctor, void (*usage)(FILE *f),
		  struct report_args *args, struct rf_filter *filter, struct recording **rec,
		  struct aggregate **agg, int *status)
{
	struct timespec now;
	char msg[256];

	*status = 2;
	if (report_args_parse(argc, argv, doctor, args, msg, sizeof(msg))) {
		*status = cli_usage_error(cmd, msg);
		return false;
	}
	if (args->help) {
		usage(stdout);
		*status = 0;
		return false;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	if (report_args_filter(args, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, filter, msg,
			       sizeof(msg))) {
		cli_error("%s: %s", cmd, msg);
		return false;
	}
	*status = report_load(args, filter, rec, agg);
	return !*status;
}
