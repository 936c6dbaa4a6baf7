/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_FDTARGET_H
#define LOOPSTALL_FDTARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "target.h"

/*
 * Describe what fd `fd` of process `pid` is: a path, "pipe",
 * "socket:TCP 127.0.0.1:8080->127.0.0.1:41234", "socket:UNIX /run/x.sock",
 * "anon_inode:eventfd"... Returns 0, or a negative errno when the fd is gone.
 */
int ls_fd_target(pid_t pid, int fd, char *buf, size_t len);

/*
 * The target of one blocked call of process `pid`, with fd `fd` (-1: none),
 * from what BPF captured while it blocked (`cap`, may be NULL): the live fd
 * when it still is the file BPF saw (same device and inode), else the
 * capture; a relative path argument is joined to its dirfd or the cwd.
 * Returns its kind; buf is empty when nothing is named.
 */
enum ls_target_kind ls_target_resolve(pid_t pid, int fd, const struct lt_capture *cap, char *buf,
				      size_t len);

/*
 * One row of /proc/net/{tcp,udp}[6]: its socket inode and the addresses,
 * formatted "a.b.c.d:port" / "[v6]:port". Returns 0, or -EINVAL (header or
 * malformed row). Pure, for unit tests.
 */
int ls_parse_inet_row(const char *row, bool v6, unsigned long *inode, char *local, size_t local_len,
		      char *remote, size_t remote_len);

/* One row of /proc/net/unix: inode and path (empty when unnamed). */
int ls_parse_unix_row(const char *row, unsigned long *inode, char *path, size_t path_len);

#endif
