// SPDX-License-Identifier: BSD-2-Clause
/*
 * A blocking call's target from what BPF captured at its switch-out
 * (struct lt_capture). Pure: no /proc, so unit tests feed it captures by
 * hand. Everything in a capture came from the traced process's memory or
 * names it chose: every length is bounded again here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/magic.h>
#include "target.h"

static const char *const kind_names[LS_TK_COUNT] = {
    [LS_TK_NONE] = NULL,	 [LS_TK_FILE] = "file",	      [LS_TK_FIFO] = "fifo",
    [LS_TK_PIPE] = "pipe",	 [LS_TK_SOCKET] = "socket",   [LS_TK_DEVICE] = "device",
    [LS_TK_EVENTFD] = "eventfd", [LS_TK_TIMERFD] = "timerfd", [LS_TK_SIGNALFD] = "signalfd",
    [LS_TK_EPOLL] = "epoll",	 [LS_TK_DIR] = "dir",	      [LS_TK_OTHER] = "other",
};

const char *ls_target_kind_name(enum ls_target_kind kind)
{
	if ((unsigned)kind >= LS_TK_COUNT)
		return "other";
	return kind_names[kind];
}

enum ls_target_kind ls_target_kind_parse(const char *name)
{
	unsigned i;

	if (!name)
		return LS_TK_NONE;
	for (i = 1; i < LS_TK_COUNT; i++)
		if (!strcmp(name, kind_names[i]))
			return (enum ls_target_kind)i;
	return LS_TK_NONE;
}

/* "[eventfd]", "anon_inode:[eventfd]", "anon_inode:eventfd" and "eventfd" alike */
static enum ls_target_kind anon_kind(const char *name)
{
	static const struct {
		const char *name;
		enum ls_target_kind kind;
	} names[] = {
	    {"eventfd", LS_TK_EVENTFD}, {"timerfd", LS_TK_TIMERFD}, {"signalfd", LS_TK_SIGNALFD},
	    {"eventpoll", LS_TK_EPOLL}, {"epoll", LS_TK_EPOLL},
	};
	size_t i, n;

	if (!name)
		return LS_TK_OTHER;
	if (!strncmp(name, "anon_inode:", 11))
		name += 11;
	if (*name == '[')
		name++;
	n = strcspn(name, "]");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == n && !strncmp(name, names[i].name, n))
			return names[i].kind;
	return LS_TK_OTHER;
}

enum ls_target_kind ls_target_kind_of(uint32_t mode, uint32_t magic, const char *anon_name)
{
	if (magic == ANON_INODE_FS_MAGIC)
		return anon_kind(anon_name);
	switch (mode & S_IFMT) {
	case S_IFREG:
		return LS_TK_FILE;
	case S_IFIFO:
		/* pipe() and a FIFO are both S_IFIFO: a pipe lives on pipefs */
		return magic == PIPEFS_MAGIC ? LS_TK_PIPE : LS_TK_FIFO;
	case S_IFSOCK:
		return LS_TK_SOCKET;
	case S_IFCHR:
	case S_IFBLK:
		return LS_TK_DEVICE;
	case S_IFDIR:
		return LS_TK_DIR;
	}
	return LS_TK_OTHER;
}

static void format_endpoint(char *buf, size_t len, uint16_t family, const uint8_t addr[16],
			    uint16_t port)
{
	char text[INET6_ADDRSTRLEN];

	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, text, sizeof(text)))
		snprintf(text, sizeof(text), "?");
	snprintf(buf, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", text, port);
}

static bool zero_addr(uint16_t family, const uint8_t addr[16])
{
	static const uint8_t zero[16];

	return !memcmp(addr, zero, family == AF_INET6 ? 16 : 4);
}

void ls_target_inet(char *buf, size_t len, uint16_t family, uint16_t sock_type, uint16_t protocol,
		    const uint8_t laddr[16], uint16_t lport, const uint8_t raddr[16],
		    uint16_t rport)
{
	const char *proto;
	char local[64], peer[64];
	bool udp;

	if (protocol == IPPROTO_TCP || (protocol != IPPROTO_UDP && sock_type == SOCK_STREAM))
		proto = "TCP";
	else if (protocol == IPPROTO_UDP || sock_type == SOCK_DGRAM)
		proto = "UDP";
	else
		proto = "IP";
	udp = !strcmp(proto, "UDP");
	format_endpoint(local, sizeof(local), family, laddr, lport);
	format_endpoint(peer, sizeof(peer), family, raddr, rport);
	/* getaddrinfo asks the nameserver over UDP (or TCP) port 53 */
	if (rport == 53 && (udp || !strcmp(proto, "TCP")))
		snprintf(buf, len, "dns:%s %s", udp ? "udp" : "tcp", peer);
	else if (!rport && zero_addr(family, raddr))
		snprintf(buf, len, "socket:%s %s", proto, local);
	else if (!lport && zero_addr(family, laddr))
		snprintf(buf, len, "socket:%s ->%s", proto, peer);
	else
		snprintf(buf, len, "socket:%s %s->%s", proto, local, peer);
}

void ls_target_dns(char *target, size_t len)
{
	const char *arrow, *peer, *proto;
	char out[LT_CAP_PATH];
	size_t n;

	if (!strncmp(target, "socket:UDP ", 11))
		proto = "udp";
	else if (!strncmp(target, "socket:TCP ", 11))
		proto = "tcp";
	else
		return;
	arrow = strstr(target, "->");
	if (!arrow)
		return;
	peer = arrow + 2;
	n = strlen(peer);
	if (n < 3 || strcmp(peer + n - 3, ":53"))
		return;
	snprintf(out, sizeof(out), "dns:%s %s", proto, peer);
	snprintf(target, len, "%s", out);
}

int ls_target_dentries(const char *names, size_t names_len, bool cut, char *buf, size_t len)
{
	size_t starts[LT_CAP_DEPTH], n = 0, i = 0, used = 0;
	int w;

	if (!len)
		return -EINVAL;
	buf[0] = '\0';
	if (names_len > LT_CAP_PATH)
		names_len = LT_CAP_PATH;
	/* split: each name ends at a NUL; an unended tail is cut mid-name */
	while (i < names_len && n < LT_CAP_DEPTH) {
		const char *end = memchr(names + i, '\0', names_len - i);

		if (!end)
			break;
		if (end > names + i)
			starts[n++] = i;
		i = (size_t)(end - names) + 1;
	}
	if (!n)
		return -EINVAL;
	if (cut) {
		w = snprintf(buf, len, "...");
		used = (size_t)w < len ? (size_t)w : len - 1;
	}
	/* leaf first in the capture: root first in the path */
	while (n--) {
		w = snprintf(buf + used, len - used, "/%s", names + starts[n]);
		if (w < 0 || (size_t)w >= len - used)
			return 0;
		used += (size_t)w;
	}
	return 0;
}

static void format_unix(char *buf, size_t len, const struct lt_capture *c)
{
	size_t n = c->path_len < 108 ? c->path_len : 108, i;
	char name[110];

	if (!n) {
		snprintf(buf, len, "socket:UNIX");
		return;
	}
	/* an abstract name starts with a NUL; /proc/net/unix writes it '@' */
	memcpy(name, c->path, n);
	name[n] = '\0';
	if (name[0] == '\0') {
		name[0] = '@';
		for (i = 1; i < n; i++)
			if (name[i] == '\0')
				name[i] = '@';
	}
	snprintf(buf, len, "socket:UNIX %s", name);
}

enum ls_target_kind ls_target_from_capture(const struct lt_capture *c, char *buf, size_t len)
{
	size_t plen = c->path_len < LT_CAP_PATH ? c->path_len : LT_CAP_PATH;
	char text[LT_CAP_PATH + 1];
	enum ls_target_kind kind;

	if (!len)
		return LS_TK_NONE;
	buf[0] = '\0';
	memcpy(text, c->path, plen);
	text[plen] = '\0';
	if (c->flags & LT_CAP_PATH_ARG) {
		/* a path longer than the buffer was cut: say so at its end */
		if (text[0])
			snprintf(buf, len, "%s%s", text, c->flags & LT_CAP_CUT ? "..." : "");
		return LS_TK_NONE;
	}
	if (!(c->flags & LT_CAP_FILE))
		return LS_TK_NONE;
	kind = ls_target_kind_of(c->mode, c->magic, c->flags & LT_CAP_ANON ? text : NULL);
	switch (kind) {
	case LS_TK_SOCKET:
		if (c->flags & (LT_CAP_INET | LT_CAP_SOCKADDR))
			ls_target_inet(buf, len, c->family, c->sock_type, c->protocol, c->laddr,
				       c->lport, c->raddr, c->rport);
		else if (c->flags & LT_CAP_UNIX || c->family == AF_UNIX)
			format_unix(buf, len, c);
		else
			snprintf(buf, len, "socket");
		break;
	case LS_TK_PIPE:
		snprintf(buf, len, "pipe");
		break;
	case LS_TK_EVENTFD:
	case LS_TK_TIMERFD:
	case LS_TK_SIGNALFD:
	case LS_TK_EPOLL:
	case LS_TK_OTHER:
		if (c->flags & LT_CAP_ANON)
			snprintf(buf, len, "anon_inode:%.*s",
				 (int)strcspn(text + (text[0] == '['), "]"),
				 text + (text[0] == '['));
		break;
	default:
		if (c->flags & LT_CAP_DENTRIES)
			ls_target_dentries(c->path, plen, c->flags & LT_CAP_CUT, buf, len);
		break;
	}
	return kind;
}

uint64_t ls_target_user_dev(uint32_t kdev)
{
	return makedev(kdev >> 20, kdev & 0xfffff);
}
