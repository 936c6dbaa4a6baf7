// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "writer.h"

struct ls_writer {
	FILE *f;
	bool is_stdout;
	int err;
};

int ls_writer__open(const char *path, struct ls_writer **out)
{
	struct ls_writer *w = calloc(1, sizeof(*w));
	int fd = -1, err;

	if (!w)
		return -ENOMEM;
	if (!path || !strcmp(path, "-")) {
		w->f = stdout;
		w->is_stdout = true;
		*out = w;
		return 0;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0) {
		err = -errno;
		goto cleanup;
	}
	w->f = fdopen(fd, "w");
	if (!w->f) {
		err = -errno;
		goto cleanup;
	}
	*out = w;
	return 0;
cleanup:
	if (fd >= 0)
		close(fd);
	free(w);
	return err;
}

int ls_writer__line(struct ls_writer *w, const char *line)
{
	if (w->err)
		return w->err;
	if (fputs(line, w->f) == EOF || fputc('\n', w->f) == EOF || fflush(w->f) == EOF)
		w->err = errno ? -errno : -EIO;
	return w->err;
}

int ls_writer__close(struct ls_writer *w)
{
	int err;

	if (!w)
		return 0;
	err = w->err;
	if (w->is_stdout) {
		if (fflush(w->f) == EOF && !err)
			err = -errno;
	} else if (fclose(w->f) == EOF && !err) {
		err = -errno;
	}
	free(w);
	return err;
}
