// SPDX-License-Identifier: BSD-2-Clause
/*
 * Finding processes to attach: a walk of /proc. Polling keeps loopstalld free
 * of the proc connector (which needs CAP_NET_ADMIN, given up after start-up)
 * and costs one small read per process per scan.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "loopstalld.h"
#include "procstat.h"

void lsd_proc_comm(const char *proc_root, pid_t pid, char comm[16])
{
	ls_proc_comm(proc_root, pid, 0, comm);
}

int lsd_proc_traceable(const char *proc_root, pid_t pid)
{
	struct ls_procstat st;

	if (ls_procstat_read(proc_root, pid, &st) || ls_procstat_dead(&st))
		return -ESRCH;
	return ls_procstat_kthread(&st) ? -EPERM : 0;
}

static void read_exe(const char *proc_root, struct lsd_proc *p)
{
	char path[64], target[4096];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%d/exe", proc_root, (int)p->pid);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0) {
		/* a kernel thread has no executable; EACCES is a process we may not look into */
		p->kthread = n < 0 && errno == ENOENT;
		return;
	}
	target[n] = '\0';
	/* a replaced executable reads "/path/name (deleted)": still the same program */
	if (n > 10 && !strcmp(target + n - 10, " (deleted)"))
		target[n - 10] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	/* a file name is at most NAME_MAX (255) bytes: it fits */
	n = (ssize_t)strnlen(base, sizeof(p->exe) - 1);
	memcpy(p->exe, base, (size_t)n);
	p->exe[n] = '\0';
}

int lsd_proc_read(const char *proc_root, pid_t pid, struct lsd_proc *p)
{
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	ls_proc_comm(proc_root, pid, 0, p->comm);
	if (!p->comm[0])
		return -ESRCH;
	read_exe(proc_root, p);
	p->exe_read = true;
	return 0;
}

int lsd_scan(const char *proc_root, pid_t skip_pid,
	     bool (*need_exe)(void *ctx, const struct lsd_proc *p), bool want_cgroup,
	     int (*fn)(void *ctx, const struct lsd_proc *p), void *ctx)
{
	struct ls_cgroup cg;
	struct lsd_proc p;
	struct dirent *de;
	char *end;
	long pid;
	DIR *dir;
	int err = 0;

	dir = opendir(proc_root);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || pid == skip_pid)
			continue;
		p.pid = (pid_t)pid;
		ls_proc_comm(proc_root, p.pid, 0, p.comm);
		/* gone between readdir and read */
		if (!p.comm[0])
			continue;
		p.exe[0] = '\0';
		p.exe_read = false;
		p.kthread = false;
		p.cg = NULL;
		if (need_exe && need_exe(ctx, &p)) {
			read_exe(proc_root, &p);
			p.exe_read = true;
			/* unreadable or gone: rules by cgroup do not match it */
			if (want_cgroup && !ls_cgroup_read(proc_root, p.pid, &cg))
				p.cg = &cg;
		}
		err = fn(ctx, &p);
		if (err)
			break;
	}
	closedir(dir);
	return err;
}
