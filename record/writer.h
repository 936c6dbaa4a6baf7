/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_WRITER_H
#define LOOPSTALL_WRITER_H

struct ls_writer;

/*
 * JSON Lines output. path NULL or "-" is stdout; a file is created 0640
 * without following a symlink at its last component. Returns -errno.
 */
int ls_writer__open(const char *path, struct ls_writer **out);
/* Write one record and flush it, so it is on disk as soon as it is known. */
int ls_writer__line(struct ls_writer *w, const char *line);
/* Close; returns the first write error seen, if any. NULL-safe. */
int ls_writer__close(struct ls_writer *w);

#endif
