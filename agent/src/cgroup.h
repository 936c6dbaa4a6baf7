/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_CGROUP_H
#define LOOPSTALL_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Where a process runs, from /proc/PID/cgroup: its cgroup path and, when
 * the path is one a container runtime or the kubelet makes, the container
 * id and the Kubernetes pod uid. The text is whatever the cgroup names
 * are, and whoever may create cgroups (a rootless container's user, with
 * delegation) names them: it is parsed within bounds and never trusted.
 */

/* Longer paths are cut at this many bytes (the id and uid come from the whole text). */
#define LS_CGROUP_PATH_MAX 512
/* What is read of /proc/PID/cgroup: a v1 host lists a dozen hierarchies. */
#define LS_CGROUP_FILE_MAX 16384
#define LS_CONTAINER_ID_LEN 64
#define LS_POD_UID_LEN 36

struct ls_cgroup {
	char path[LS_CGROUP_PATH_MAX];		    /* "" when unknown */
	char container_id[LS_CONTAINER_ID_LEN + 1]; /* 64 lowercase hex, or "" */
	char pod_uid[LS_POD_UID_LEN + 1];	    /* 8-4-4-4-12 lowercase hex, or "" */
};

/*
 * Parse the text of /proc/PID/cgroup (len bytes, NUL bytes allowed and
 * refused as part of a path). The path is the cgroup v2 line's ("0::/…"),
 * else the v1 name=systemd hierarchy's, else the first v1 line's. A second
 * "0::" line can only come from a newline inside a cgroup name: then
 * nothing is believed (all fields empty) and -EINVAL is returned.
 * Returns 0 when a path was found, -ENOENT when none was.
 */
int ls_cgroup_parse(const char *text, size_t len, struct ls_cgroup *out);

/* The same for /proc/PID/cgroup under proc_root ("/proc"); -errno. */
int ls_cgroup_read(const char *proc_root, pid_t pid, struct ls_cgroup *out);

/*
 * The container id a cgroup path names (docker-ID.scope, cri-containerd-ID.scope,
 * crio-ID.scope, libpod-ID.scope, or a bare 64-hex directory as docker and the
 * kubelet's cgroupfs driver make); the innermost one wins. id: 65 bytes.
 * Returns 1 when found, else 0 and id is "".
 */
int ls_cgroup_container_id(const char *path, size_t len, char *id);
/* The pod uid of a kubepods path; uid: 37 bytes. 1 when found, else 0. */
int ls_cgroup_pod_uid(const char *path, size_t len, char *uid);

#endif
