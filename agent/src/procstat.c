// SPDX-License-Identifier: BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "procstat.h"

/* One space, then a decimal number (signed when sign): *p moves past it. */
static int field(const char **p, bool sign, long long *out)
{
	const char *s = *p;
	char *end;

	if (*s != ' ')
		return -EINVAL;
	s++;
	if (!isdigit((unsigned char)*s) && !(sign && *s == '-' && isdigit((unsigned char)s[1])))
		return -EINVAL;
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno)
		return -EINVAL;
	*p = end;
	return 0;
}

int ls_procstat_parse(const char *line, struct ls_procstat *st)
{
	const char *open, *close, *p;
	long long pid, v[6];
	char *end;
	size_t n;
	int i;

	memset(st, 0, sizeof(*st));
	if (!isdigit((unsigned char)line[0]))
		return -EINVAL;
	errno = 0;
	pid = strtoll(line, &end, 10);
	if (errno || pid <= 0 || pid > INT_MAX || end[0] != ' ' || end[1] != '(')
		return -EINVAL;
	open = end + 1;
	close = strrchr(open, ')');
	if (!close || close[1] != ' ' || !isalpha((unsigned char)close[2]))
		return -EINVAL;
	st->pid = (pid_t)pid;
	n = (size_t)(close - open - 1);
	if (n >= sizeof(st->comm))
		n = sizeof(st->comm) - 1;
	memcpy(st->comm, open + 1, n);
	st->comm[n] = '\0';
	st->state = close[2];
	/* ppid pgrp session tty_nr tpgid (-1 without a terminal) flags */
	p = close + 3;
	for (i = 0; i < 6; i++)
		if (field(&p, i == 4, &v[i]))
			return -EINVAL;
	if (*p != ' ' && *p != '\n' && *p != '\0')
		return -EINVAL;
	if (v[0] > INT_MAX || v[5] > UINT32_MAX)
		return -EINVAL;
	st->ppid = (pid_t)v[0];
	st->flags = (uint32_t)v[5];
	/* minflt cminflt majflt, when the line goes on */
	for (i = 0; i < 3; i++)
		if (field(&p, false, &v[i]))
			return 0;
	st->majflt = (uint64_t)v[2];
	return 0;
}

int ls_procstat_read(const char *proc_root, pid_t pid, struct ls_procstat *st)
{
	char path[PATH_MAX], buf[1024];
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%d/stat", proc_root, (int)pid) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	/* a process that exited between open and read reads as nothing (or ESRCH) */
	if (n <= 0)
		return n == 0 || errno == ESRCH ? -ESRCH : -errno;
	buf[n] = '\0';
	return ls_procstat_parse(buf, st);
}

int ls_proc_comm(const char *proc_root, pid_t pid, pid_t tid, char comm[16])
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, len;

	comm[0] = '\0';
	if (tid > 0)
		len = snprintf(path, sizeof(path), "%s/%d/task/%d/comm", proc_root, (int)pid,
			       (int)tid);
	else
		len = snprintf(path, sizeof(path), "%s/%d/comm", proc_root, (int)pid);
	if ((size_t)len >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, comm, 15);
	if (n < 0)
		n = errno == ESRCH ? -ESRCH : -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	return 0;
}
