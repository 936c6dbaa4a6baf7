// SPDX-License-Identifier: BSD-2-Clause
/*
 * What a blocked fd-based syscall waited on, from /proc. The target process
 * controls these files' contents (socket paths, file names), so every parse
 * is bounded and nothing read here is ever executed or opened for writing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fdtarget.h"

/* linux/magic.h's ANON_INODE_FS_MAGIC, without pulling in its other names */
#define ANON_INODE_FS_MAGIC_VALUE 0x09041934
/* a target as text: the longest path a capture holds, with room for "..." */
#define LS_TARGET_TEXT (LT_CAP_PATH + 16)

static int format_addr(const char *hex, bool v6, char *out, size_t len)
{
	char addr_hex[33], text[INET6_ADDRSTRLEN];
	unsigned port, i;
	uint32_t words[4];

	if (sscanf(hex, v6 ? "%32[0-9A-Fa-f]:%x" : "%8[0-9A-Fa-f]:%x", addr_hex, &port) != 2)
		return -EINVAL;
	if (strlen(addr_hex) != (v6 ? 32u : 8u) || port > 65535)
		return -EINVAL;
	/* the kernel prints each 32-bit word of the address in host byte order */
	for (i = 0; i < (v6 ? 4u : 1u); i++) {
		char word[9];

		memcpy(word, addr_hex + 8 * i, 8);
		word[8] = '\0';
		if (sscanf(word, "%" SCNx32, &words[i]) != 1)
			return -EINVAL;
	}
	if (!inet_ntop(v6 ? AF_INET6 : AF_INET, words, text, sizeof(text)))
		return -EINVAL;
	if (v6)
		snprintf(out, len, "[%s]:%u", text, port);
	else
		snprintf(out, len, "%s:%u", text, port);
	return 0;
}

int ls_parse_inet_row(const char *row, bool v6, unsigned long *inode, char *local, size_t local_len,
		      char *remote, size_t remote_len)
{
	char lhex[64], rhex[64];
	unsigned slot, state, uid;

	/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
	if (sscanf(row, " %u: %63s %63s %x %*s %*s %*s %u %*u %lu", &slot, lhex, rhex, &state, &uid,
		   inode) != 6)
		return -EINVAL;
	if (format_addr(lhex, v6, local, local_len) || format_addr(rhex, v6, remote, remote_len))
		return -EINVAL;
	return 0;
}

int ls_parse_unix_row(const char *row, unsigned long *inode, char *path, size_t path_len)
{
	unsigned long inode_v;
	int consumed = 0;
	const char *p;
	size_t n;

	/* Num RefCount Protocol Flags Type St Inode [Path] */
	if (!path_len)
		return -EINVAL;
	if (sscanf(row, "%*[0-9a-fA-F]: %*x %*x %*x %*x %*x %lu%n", &inode_v, &consumed) != 1 ||
	    !consumed)
		return -EINVAL;
	*inode = inode_v;
	p = row + consumed;
	while (*p == ' ')
		p++;
	n = strcspn(p, "\n");
	if (n >= path_len)
		n = path_len - 1;
	memcpy(path, p, n);
	path[n] = '\0';
	return 0;
}

static bool find_inet(pid_t pid, const char *file, const char *proto, bool v6, unsigned long inode,
		      char *buf, size_t len)
{
	char path[64], row[512], local[80], remote[80];
	unsigned long row_inode;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid, file);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(row, sizeof(row), f)) {
		if (ls_parse_inet_row(row, v6, &row_inode, local, sizeof(local), remote,
				      sizeof(remote)))
			continue;
		if (row_inode != inode)
			continue;
		if (!strcmp(remote, "0.0.0.0:0") || !strcmp(remote, "[::]:0"))
			snprintf(buf, len, "socket:%s %s", proto, local);
		else
			snprintf(buf, len, "socket:%s %s->%s", proto, local, remote);
		found = true;
	}
	fclose(f);
	return found;
}

static bool find_unix(pid_t pid, unsigned long inode, char *buf, size_t len)
{
	char path[64], row[512], name[256];
	unsigned long row_inode;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/unix", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(row, sizeof(row), f)) {
		if (ls_parse_unix_row(row, &row_inode, name, sizeof(name)) || row_inode != inode)
			continue;
		snprintf(buf, len, name[0] ? "socket:UNIX %s" : "socket:UNIX", name);
		found = true;
	}
	fclose(f);
	return found;
}

static void describe_socket(pid_t pid, unsigned long inode, char *buf, size_t len)
{
	static const struct {
		const char *file, *proto;
		bool v6;
	} tables[] = {
	    {"tcp", "TCP", false},
	    {"tcp6", "TCP", true},
	    {"udp", "UDP", false},
	    {"udp6", "UDP", true},
	};
	size_t i;

	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (find_inet(pid, tables[i].file, tables[i].proto, tables[i].v6, inode, buf, len))
			return;
	if (find_unix(pid, inode, buf, len))
		return;
	snprintf(buf, len, "socket");
}

int ls_fd_target(pid_t pid, int fd, char *buf, size_t len)
{
	char path[64], link[4096];
	unsigned long inode;
	ssize_t n;

	if (fd < 0 || !len)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	if (sscanf(link, "socket:[%lu]", &inode) == 1)
		describe_socket(pid, inode, buf, len);
	else if (!strncmp(link, "pipe:", 5))
		snprintf(buf, len, "pipe");
	else if (!strncmp(link, "anon_inode:", 11)) {
		/* "anon_inode:[eventfd]" -> "anon_inode:eventfd" */
		const char *kind = link + 11 + (link[11] == '[');

		snprintf(buf, len, "anon_inode:%.*s", (int)strcspn(kind, "]"), kind);
	} else
		snprintf(buf, len, "%s", link);
	return 0;
}

/* The kind of a live fd, from stat() through its /proc link and the link's text. */
static enum ls_target_kind live_kind(mode_t mode, const char *link)
{
	if (!strncmp(link, "anon_inode:", 11))
		return ls_target_kind_of(0, ANON_INODE_FS_MAGIC_VALUE, link);
	if (S_ISFIFO(mode))
		return !strncmp(link, "pipe:", 5) ? LS_TK_PIPE : LS_TK_FIFO;
	return ls_target_kind_of(mode, 0, NULL);
}

/* The fd as it is now, when it still is the file the capture saw (any file without one). */
static enum ls_target_kind live_target(pid_t pid, int fd, const struct lt_capture *cap,
				       enum ls_target_kind cap_kind, char *buf, size_t len)
{
	char path[64], link[256];
	enum ls_target_kind kind;
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0 || stat(path, &st))
		return LS_TK_NONE;
	link[n] = '\0';
	kind = live_kind(st.st_mode, link);
	/* closed and the number reused, or another file dup2'ed over it */
	if (cap && (st.st_ino != cap->ino || st.st_dev != ls_target_user_dev(cap->dev) ||
		    kind != cap_kind))
		return LS_TK_NONE;
	if (ls_fd_target(pid, fd, buf, len))
		return LS_TK_NONE;
	ls_target_dns(buf, len);
	return kind;
}

/* A path argument as an absolute path: relative ones start at the dirfd or the cwd. */
static void absolute_path(pid_t pid, const struct lt_capture *cap, const char *rel, char *buf,
			  size_t len)
{
	char link[64], base[4096];
	ssize_t n;

	if (rel[0] == '/') {
		snprintf(buf, len, "%s", rel);
		return;
	}
	if (cap->dirfd == LT_CAP_AT_FDCWD)
		snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
	else
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, cap->dirfd);
	n = readlink(link, base, sizeof(base) - 1);
	if (n <= 0 || base[0] != '/') {
		/* the process is gone: the relative name is all there is */
		snprintf(buf, len, "%s", rel);
		return;
	}
	base[n] = '\0';
	snprintf(buf, len, "%s%s%s", base, base[n - 1] == '/' ? "" : "/", rel);
}

/* A path's kind as the process sees it (through its root), without opening it. */
static enum ls_target_kind path_kind(pid_t pid, const char *abs)
{
	char path[4200];
	struct stat st;

	if (abs[0] != '/')
		return LS_TK_NONE;
	snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, abs);
	if (stat(path, &st))
		return LS_TK_NONE;
	/* no path names a pipe(): an S_IFIFO reached by name is a FIFO */
	return S_ISFIFO(st.st_mode) ? LS_TK_FIFO : ls_target_kind_of(st.st_mode, 0, NULL);
}

enum ls_target_kind ls_target_resolve(pid_t pid, int fd, const struct lt_capture *cap, char *buf,
				      size_t len)
{
	char captured[LS_TARGET_TEXT];
	enum ls_target_kind kind, cap_kind;

	if (!len)
		return LS_TK_NONE;
	buf[0] = '\0';
	if (!cap) {
		if (fd < 0)
			return LS_TK_NONE;
		return live_target(pid, fd, NULL, LS_TK_NONE, buf, len);
	}
	cap_kind = ls_target_from_capture(cap, captured, sizeof(captured));
	if (cap->flags & LT_CAP_PATH_ARG) {
		if (!captured[0])
			return LS_TK_NONE;
		absolute_path(pid, cap, captured, buf, len);
		return path_kind(pid, buf);
	}
	/* a poll or select: the capture describes the first fd waited on */
	if (cap->flags & LT_CAP_FDS)
		fd = cap->fds[0];
	if (!(cap->flags & LT_CAP_FILE))
		return fd >= 0 && !(cap->flags & LT_CAP_FDS)
			   ? live_target(pid, fd, NULL, LS_TK_NONE, buf, len)
			   : LS_TK_NONE;
	if (fd >= 0) {
		kind = live_target(pid, fd, cap, cap_kind, buf, len);
		if (kind != LS_TK_NONE)
			return kind;
	}
	snprintf(buf, len, "%s", captured);
	return cap_kind;
}
