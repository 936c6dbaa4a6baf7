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
#include <unistd.h>
#include "fdtarget.h"

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
