// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cgroup.h"

/* Runtimes' scope names around a container id (systemd cgroup driver). */
static const char *const id_prefixes[] = {"docker-", "cri-containerd-", "crio-", "libpod-"};
#define SCOPE ".scope"
#define SLICE ".slice"

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool all_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_hex(s[i]))
			return false;
	return true;
}

static bool starts(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && !memcmp(s, prefix, k);
}

static bool ends(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && !memcmp(s + n - k, suffix, k);
}

/* The id one path component names, or NULL. */
static const char *component_id(const char *c, size_t n)
{
	size_t i, k;

	if (n == LS_CONTAINER_ID_LEN && all_hex(c, n))
		return c;
	for (i = 0; i < sizeof(id_prefixes) / sizeof(id_prefixes[0]); i++) {
		k = strlen(id_prefixes[i]);
		if (n == k + LS_CONTAINER_ID_LEN + strlen(SCOPE) && starts(c, n, id_prefixes[i]) &&
		    ends(c, n, SCOPE) && all_hex(c + k, LS_CONTAINER_ID_LEN))
			return c + k;
	}
	return NULL;
}

/* 36 characters in 8-4-4-4-12 form, sep between the groups: into uid, lowercase. */
static bool take_uid(const char *s, char sep, char *uid)
{
	size_t i;

	for (i = 0; i < LS_POD_UID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != sep : !is_hex(s[i]))
			return false;
		uid[i] = dash ? '-' : s[i];
	}
	uid[LS_POD_UID_LEN] = '\0';
	return true;
}

/* Calls fn on each '/'-separated component of path[0..len); stops when it returns true. */
static void each_component(const char *path, size_t len,
			   bool (*fn)(void *ctx, const char *c, size_t n), void *ctx)
{
	size_t i = 0, start;

	while (i < len) {
		while (i < len && path[i] == '/')
			i++;
		start = i;
		while (i < len && path[i] != '/')
			i++;
		if (i > start && fn(ctx, path + start, i - start))
			return;
	}
}

static bool find_id(void *ctx, const char *c, size_t n)
{
	const char *id = component_id(c, n);

	/* keep going: in nested containers the innermost id is the process's own */
	if (id) {
		memcpy(ctx, id, LS_CONTAINER_ID_LEN);
		((char *)ctx)[LS_CONTAINER_ID_LEN] = '\0';
	}
	return false;
}

int ls_cgroup_container_id(const char *path, size_t len, char *id)
{
	id[0] = '\0';
	each_component(path, len, find_id, id);
	return id[0] != '\0';
}

struct uid_search {
	char *uid;
	bool under_kubepods; /* cgroupfs driver: /kubepods/[QOS/]pod<uid> */
};

static bool find_uid(void *ctx, const char *c, size_t n)
{
	struct uid_search *s = ctx;
	const size_t tail = 3 + LS_POD_UID_LEN + strlen(SLICE);
	char uid[LS_POD_UID_LEN + 1];

	if (n == 8 && !memcmp(c, "kubepods", 8)) {
		s->under_kubepods = true;
		return false;
	}
	/* systemd driver: kubepods-[QOS-]pod<uid, '_' for '-'>.slice */
	if (starts(c, n, "kubepods-") && n >= strlen("kubepods") + 1 + tail && ends(c, n, SLICE) &&
	    !memcmp(c + n - tail - 1, "-pod", 4) && take_uid(c + n - tail + 3, '_', uid)) {
		memcpy(s->uid, uid, sizeof(uid));
		return false;
	}
	if (s->under_kubepods && n == 3 + LS_POD_UID_LEN && starts(c, n, "pod") &&
	    take_uid(c + 3, '-', uid))
		memcpy(s->uid, uid, sizeof(uid));
	return false;
}

int ls_cgroup_pod_uid(const char *path, size_t len, char *uid)
{
	struct uid_search s = {.uid = uid};

	uid[0] = '\0';
	each_component(path, len, find_uid, &s);
	return uid[0] != '\0';
}

struct line {
	const char *hier, *ctrl, *path;
	size_t hier_len, ctrl_len, path_len;
};

/* "ID:CONTROLLERS:PATH" (PATH may hold ':'); false when malformed. */
static bool split_line(const char *s, size_t n, struct line *l)
{
	const char *a = memchr(s, ':', n), *b;

	if (!a)
		return false;
	b = memchr(a + 1, ':', n - (size_t)(a + 1 - s));
	if (!b)
		return false;
	l->hier = s;
	l->hier_len = (size_t)(a - s);
	l->ctrl = a + 1;
	l->ctrl_len = (size_t)(b - a - 1);
	l->path = b + 1;
	l->path_len = n - (size_t)(b + 1 - s);
	/* a cgroup path is absolute and a NUL cannot be part of a name */
	return l->path_len && l->path[0] == '/' && !memchr(l->path, '\0', l->path_len);
}

static void set_path(struct ls_cgroup *out, const struct line *l)
{
	size_t n = l->path_len < LS_CGROUP_PATH_MAX - 1 ? l->path_len : LS_CGROUP_PATH_MAX - 1;

	memcpy(out->path, l->path, n);
	out->path[n] = '\0';
}

int ls_cgroup_parse(const char *text, size_t len, struct ls_cgroup *out)
{
	struct line l, v2 = {0}, systemd = {0}, first = {0};
	const char *p = text, *end = text + len, *nl;
	unsigned n_v2 = 0;
	bool found_v1 = false;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (split_line(p, (size_t)(nl - p), &l)) {
			if (l.hier_len == 1 && l.hier[0] == '0' && !l.ctrl_len) {
				v2 = l;
				n_v2++;
			} else {
				if (!found_v1)
					first = l;
				found_v1 = true;
				if (l.ctrl_len == 12 && !memcmp(l.ctrl, "name=systemd", 12))
					systemd = l;
				/* hybrid hosts: runtimes may name the container in v1 only */
				if (!out->container_id[0])
					ls_cgroup_container_id(l.path, l.path_len,
							       out->container_id);
				if (!out->pod_uid[0])
					ls_cgroup_pod_uid(l.path, l.path_len, out->pod_uid);
			}
		}
		p = nl + 1;
	}
	if (n_v2 > 1) {
		/* only a newline inside a cgroup name makes two: a forged line */
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	if (n_v2) {
		char id[LS_CONTAINER_ID_LEN + 1], uid[LS_POD_UID_LEN + 1];

		set_path(out, &v2);
		/* the unified hierarchy is the truth when it names them */
		if (ls_cgroup_container_id(v2.path, v2.path_len, id))
			memcpy(out->container_id, id, sizeof(id));
		if (ls_cgroup_pod_uid(v2.path, v2.path_len, uid))
			memcpy(out->pod_uid, uid, sizeof(uid));
		return 0;
	}
	if (!found_v1)
		return -ENOENT;
	set_path(out, systemd.path ? &systemd : &first);
	return 0;
}

int ls_cgroup_read(const char *proc_root, pid_t pid, struct ls_cgroup *out)
{
	char path[64], *buf;
	size_t len = 0;
	ssize_t n = 0;
	int fd, err;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(LS_CGROUP_FILE_MAX);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	/* proc files come in pieces; what lies past the bound is not read */
	while (len < LS_CGROUP_FILE_MAX) {
		n = read(fd, buf + len, LS_CGROUP_FILE_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	err = n < 0 ? -errno : 0;
	close(fd);
	if (!err)
		err = ls_cgroup_parse(buf, len, out);
	free(buf);
	return err;
}
