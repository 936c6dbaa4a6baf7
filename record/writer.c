// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	struct stat st;
	int fd = -1, err;

	if (!w)
		return -ENOMEM;
	if (!path || !strcmp(path, "-")) {
		w->f = stdout;
		w->is_stdout = true;
		*out = w;
		return 0;
	}
	/*
	 * Never follow a symlink, never block on a FIFO, and only ever write a
	 * regular file of our own: a file someone else created beforehand
	 * could be read by them, or be a hard link to something that matters.
	 */
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0640);
	if (fd < 0) {
		err = -errno;
		goto cleanup;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		goto cleanup;
	}
	if (S_ISREG(st.st_mode)) {
		if (st.st_uid != geteuid() || st.st_nlink != 1) {
			err = -EPERM;
			goto cleanup;
		}
		if (ftruncate(fd, 0) || fchmod(fd, 0640)) {
			err = -errno;
			goto cleanup;
		}
	} else if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
		/* /dev/null and a pipe with a reader (O_NONBLOCK made a lone FIFO fail) are fine */
		err = -EINVAL;
		goto cleanup;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)) {
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
