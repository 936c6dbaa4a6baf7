// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "bound.h"
#include "rotate.h"

struct ls_rotate {
	int dir_fd; /* renames stay in the directory opened, whatever its path becomes */
	int fd;
	char *name;
	uint64_t max_bytes;
	uint64_t size;
	unsigned keep;
	int err;
};

static int open_current(struct ls_rotate *r)
{
	struct stat st;

	r->fd = openat(r->dir_fd, r->name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		       0640);
	if (r->fd < 0)
		return -errno;
	if (fstat(r->fd, &st))
		return -errno;
	r->size = (uint64_t)st.st_size;
	return 0;
}

int ls_rotate__open(const char *dir, const char *name, uint64_t max_bytes, unsigned keep,
		    struct ls_rotate **out)
{
	struct ls_rotate *r;
	int err;

	if (!*name || strchr(name, '/') || !max_bytes)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = -1;
	r->dir_fd = -1;
	r->max_bytes = max_bytes;
	r->keep = keep;
	r->name = strdup(name);
	if (!r->name) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (mkdir(dir, 0750) && errno != EEXIST) {
		err = -errno;
		goto cleanup;
	}
	r->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dir_fd < 0) {
		err = -errno;
		goto cleanup;
	}
	err = open_current(r);
	if (err)
		goto cleanup;
	*out = r;
	return 0;
cleanup:
	ls_rotate__close(r);
	return err;
}

static int rotate(struct ls_rotate *r)
{
	char from[NAME_MAX + 16], to[NAME_MAX + 16];
	unsigned i;

	close(r->fd);
	r->fd = -1;
	if (!r->keep) {
		if (unlinkat(r->dir_fd, r->name, 0) && errno != ENOENT)
			return -errno;
		return open_current(r);
	}
	/* oldest first, so every rename lands on a name already moved away */
	for (i = r->keep - 1; i >= 1; i--) {
		snprintf(from, sizeof(from), "%s.%u", r->name, i);
		snprintf(to, sizeof(to), "%s.%u", r->name, i + 1);
		if (renameat(r->dir_fd, from, r->dir_fd, to) && errno != ENOENT)
			return -errno;
	}
	snprintf(to, sizeof(to), "%s.1", r->name);
	if (renameat(r->dir_fd, r->name, r->dir_fd, to))
		return -errno;
	return open_current(r);
}

int ls_rotate__line(struct ls_rotate *r, const char *line)
{
	size_t len = strlen(line), done = 0, total = len + 1;
	struct iovec iov[2];
	ssize_t n;

	if (r->err)
		return r->err;
	/* a line larger than max_bytes gets a file of its own */
	if (r->size && r->size + total > r->max_bytes) {
		r->err = rotate(r);
		if (r->err)
			return r->err;
	}
	while (done < total) {
		int k = 0;

		if (done < len) {
			iov[k].iov_base = (char *)line + done;
			iov[k++].iov_len = len - done;
		}
		iov[k].iov_base = "\n";
		iov[k++].iov_len = 1;
		n = writev(r->fd, iov, k);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r->err = n < 0 ? -errno : -EIO;
			return r->err;
		}
		done += (size_t)n;
	}
	r->size += total;
	return 0;
}

int ls_rotate__bounded(struct ls_rotate *r, struct ls_bound *b, const char *line)
{
	struct ls_lines lines = { 0 };
	size_t i;
	int err;

	if (r->err)
		return r->err;
	err = ls_bound__split(b, line, &lines);
	/* an empty file takes anything: a group larger than max_bytes gets a file of its own */
	if (!err && r->size && r->size + lines.bytes > r->max_bytes) {
		ls_lines__clear(&lines);
		r->err = rotate(r);
		ls_bound__forget(b);
		if (r->err)
			return r->err;
		err = ls_bound__split(b, line, &lines);
	}
	for (i = 0; !err && i < lines.n; i++)
		err = ls_rotate__line(r, lines.line[i]);
	ls_lines__clear(&lines);
	return err;
}

int ls_rotate__close(struct ls_rotate *r)
{
	int err;

	if (!r)
		return 0;
	err = r->err;
	if (r->fd >= 0 && close(r->fd) && !err)
		err = -errno;
	if (r->dir_fd >= 0)
		close(r->dir_fd);
	free(r->name);
	free(r);
	return err;
}
